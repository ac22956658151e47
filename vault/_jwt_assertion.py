"""JWT bearer assertions (RFC 7523 §2.1): signed anew for every token request, never kept.

Each assertion is valid for ``TokenEndpoint.assertion_lifetime`` seconds
(Salesforce accepts at most three minutes), and the private key is loaded only
to sign. Keys are joserfc ``RSAKey`` objects (authlib's own dependency): authlib
deprecates both ``authlib.jose`` and passing it PEM text.

joserfc and cryptography are loaded with this module, so it is imported only
on the JWT-grant path (:meth:`vault._oauth.OAuthTokenSource._assertion_grant`);
the grant's name and the assertion's audience live in :mod:`vault._token_endpoint`.
"""

from __future__ import annotations

import contextlib
import time

from authlib.oauth2.rfc7523 import JWTBearerGrant
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from sdk._errors import MalformedCredentialError
from vault._credentials import CredentialLease, OAuth2JWTCredential
from vault._token_endpoint import TokenEndpoint, assertion_audience

__all__ = ["sign_assertion"]


def sign_assertion(lease: CredentialLease, credential: OAuth2JWTCredential, endpoint: TokenEndpoint) -> str:
    """Return a JWT bearer assertion (RS256) for ``credential``, valid for the endpoint's assertion lifetime.

    Claims (RFC 7523 §3): ``iss`` the client id, ``sub`` the user name, ``aud``
    the audience, ``exp`` now plus the lifetime; authlib adds ``iat`` and a
    random ``jti``. A key that cannot be read is reported without the
    reader's message and without chaining its exception: both could quote
    the key.
    """
    key: RSAKey | None = None
    with contextlib.suppress(ValueError, TypeError, JoseError):
        key = RSAKey.import_key(credential.private_key.get_secret_value())
    if key is None or not key.is_private:
        raise MalformedCredentialError(
            f"the private_key of the oauth2_jwt credential of tenant {lease.tenant!r}, integration "
            f"{lease.integration!r} at Vault path {lease.path!r} is not an RSA private key; store the "
            "unencrypted PEM key whose certificate the vendor's app holds"
        )
    issued = int(time.time())  # JWT times are wall-clock seconds (RFC 7519 §2), not the monotonic clock
    signed = JWTBearerGrant.sign(
        key,
        issuer=credential.client_id,
        audience=assertion_audience(credential, endpoint),
        subject=credential.username,
        issued_at=issued,
        expires_at=issued + endpoint.assertion_lifetime,
        header={"alg": "RS256"},
    )
    return signed.decode("ascii") if isinstance(signed, bytes) else str(signed)
