"""One OAuth 2.0 token request, and what its answer means.

The request is not made through the SDK's vendor HTTP stack (``sdk._http``)
and its scope guard: see :class:`~vault.OAuthTokenSource` for why. Its client
never follows redirects (the client secret must not travel on), keeps no
cookies and ignores proxy settings from the environment. authlib supplies the
RFC 6749 pieces (the token request body and client authentication) without its
httpx integration, which prefers ``httpx2`` and warns when it falls back to
``httpx`` (FACTS.md).

Whatever the vendor answers is untrusted: an error code is read only if it
looks like a code (free-text descriptions are never read), an access token only
if it is one header-safe word, and nothing the vendor sent is repeated in an
error message.
"""

from __future__ import annotations

import dataclasses
import json
import re
import ssl
from collections.abc import Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import certifi
import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_token_request
from pydantic import SecretStr

from sdk._errors import (
    VendorAuthError,
    VendorError,
    VendorPayloadError,
    VendorRateLimitError,
    VendorServerError,
)
from sdk._vendor_errors import parse_retry_after, translate_httpx_error
from vault._credentials import CredentialLease
from vault._token_endpoint import JWT_BEARER, AccessToken, TokenEndpoint

__all__ = ["TokenAnswer", "TokenRequester", "access_token_from", "is_token_word", "refusal_error"]

_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # one header-safe word: no spaces, controls or non-ASCII
_CODE_CHARS = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_MAX_TOKEN_RESPONSE = 64 * 1024


def is_token_word(value: object) -> bool:
    """Whether ``value`` can be sent as a token: one word of visible ASCII characters."""
    return isinstance(value, str) and _TOKEN_CHARS.fullmatch(value) is not None


@dataclasses.dataclass(frozen=True, slots=True)
class TokenAnswer:
    """What the token endpoint answered, read no further than it is safe to."""

    status: int
    data: dict[str, Any] | None
    """The answer's JSON object, or None if it is not one."""
    code: str | None
    """The vendor's error code, if the answer carries one that looks like a code."""
    retry_after: str | None
    path: str
    """The token URL's path, for error messages (never its query)."""

    @property
    def granted(self) -> bool:
        return self.status == 200 and self.data is not None


class TokenRequester:
    """Sends token requests; ``transport`` replaces the network in tests, ``timeout`` bounds one request."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None, timeout: float) -> None:
        self._transport = transport
        self._timeout = timeout
        self._ssl: ssl.SSLContext | None = None

    async def post(
        self,
        endpoint: TokenEndpoint,
        client_id: str | None,
        client_secret: SecretStr | None,
        grant_type: str,
        params: Mapping[str, Any],
        *,
        budget: float | None = None,
    ) -> TokenAnswer:
        """POST one token request; without ``client_secret`` (an assertion grant) no client auth is added.

        A transport failure or an oversized answer raises the matching
        :class:`~sdk.VendorError`; any answer the vendor gave is returned.
        """
        body = prepare_token_request(grant_type, **params)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        url = endpoint.url
        if client_id is not None and client_secret is not None:
            auth = ClientAuth(client_id, client_secret.get_secret_value(), endpoint.auth_method)
            url, headers, body = auth.prepare("POST", endpoint.url, headers, body)
        path = httpx.URL(endpoint.url).path
        transport = self._transport or httpx.AsyncHTTPTransport(retries=0, verify=self._ssl_context())
        client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(budget or self._timeout, connect=min(budget or self._timeout, 2.0)),
            follow_redirects=False,
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            trust_env=False,
        )
        failure: VendorError | None = None
        try:
            response = await client.send(
                client.build_request("POST", url, content=body, headers=headers), stream=True
            )
            try:
                content = await _read_limited(response)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            failure = translate_httpx_error(exc, method="POST", path=path)
        finally:
            if self._transport is None:
                await client.aclose()
        if failure is not None:
            # Raised outside the except block: httpx errors hold the request, and its body holds secrets.
            raise failure
        if content is None:
            raise VendorPayloadError(
                f"the token endpoint's answer exceeds {_MAX_TOKEN_RESPONSE} bytes",
                method="POST",
                path=path,
                status=response.status_code,
            )
        data = _json_object(content)
        return TokenAnswer(
            status=response.status_code,
            data=data,
            code=_error_code(data, endpoint.error_fields),
            retry_after=response.headers.get("retry-after"),
            path=path,
        )

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=certifi.where())
        return self._ssl


def refusal_error(lease: CredentialLease, grant_type: str, answer: TokenAnswer) -> VendorError:
    """The error for an answer that gave no token (a refused refresh token is the caller's to report)."""
    status, code = answer.status, answer.code
    context: dict[str, Any] = {"method": "POST", "path": answer.path, "status": status, "vendor_code": code}
    if status == 200:
        return VendorPayloadError("the token endpoint's answer is not a JSON object", **context)
    if grant_type == JWT_BEARER and status in (400, 401) and code in {"invalid_grant", "invalid_client"}:
        return VendorAuthError(
            f"the token endpoint refused the signed JWT assertion of tenant {lease.tenant!r}, "
            f"integration {lease.integration!r}; check in Vault at {lease.path!r} that client_id, "
            "username and audience match the vendor's app, that the app holds the certificate of "
            "private_key, and that the user is authorised for the app",
            **context,
        )
    if status in (400, 401) and (status == 401 or code == "invalid_client"):
        return VendorAuthError(
            f"the token endpoint rejected the OAuth client of tenant {lease.tenant!r}, integration "
            f"{lease.integration!r}; check client_id and client_secret in Vault",
            **context,
        )
    if status == 429:
        return VendorRateLimitError(
            "the token endpoint is rate limiting requests",
            retry_after=parse_retry_after(answer.retry_after),
            **context,
        )
    if status >= 500:
        return VendorServerError("the token endpoint failed to serve the request", **context)
    return VendorError("the token endpoint refused the request", **context)


def access_token_from(
    lease: CredentialLease,
    payload: Mapping[str, Any],
    endpoint: TokenEndpoint,
    started: float,
    version: int,
    *,
    margin: float,
    assumed_lifetime: float,
) -> AccessToken:
    """Read the access token out of a granted answer; anything unusable is refused, never repeated.

    The token is handed out until ``expires_in`` minus ``margin`` (or half its
    life, if that is longer); without ``expires_in`` it is assumed to live
    ``assumed_lifetime`` seconds.
    """
    path = httpx.URL(endpoint.url).path
    value = payload.get("access_token")
    if not isinstance(value, str) or not is_token_word(value):
        raise VendorPayloadError(
            "the token endpoint's answer has no usable access_token", method="POST", path=path, status=200
        )
    token_type = payload.get("token_type", "bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise VendorPayloadError(
            "the token endpoint issued a token that is not a bearer token (RFC 6750)",
            method="POST",
            path=path,
            status=200,
        )
    lifetime = _seconds(payload.get("expires_in"))
    if lifetime is None:
        lifetime = assumed_lifetime
    usable = max(lifetime - margin, lifetime / 2, 0.0)
    extras = {
        name: str(payload[name])
        for name in sorted(endpoint.keep_fields)
        if isinstance(payload.get(name), str | int | float) and not isinstance(payload.get(name), bool)
    }
    instance_url = None
    if endpoint.instance_url_field is not None:
        instance_url = payload.get(endpoint.instance_url_field)
        if not isinstance(instance_url, str) or not endpoint.allows_instance(instance_url):
            # The value is not repeated: it came from the vendor, and the point is not to trust it.
            allowed = ", ".join(endpoint.instance_hosts)
            raise VendorPayloadError(
                f"the token endpoint's {endpoint.instance_url_field} for tenant {lease.tenant!r}, "
                f"integration {lease.integration!r} is missing or not an https origin on an allowed host "
                f"({allowed}); the token was discarded unused",
                method="POST",
                path=path,
                status=200,
            )
        instance_url = instance_url.rstrip("/")
    return AccessToken(
        value=SecretStr(value),
        refresh_at=started + usable,
        credential_version=version,
        extras=extras,
        instance_url=instance_url,
    )


async def _read_limited(response: httpx.Response) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > _MAX_TOKEN_RESPONSE:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _error_code(data: Mapping[str, Any] | None, fields: tuple[str, ...]) -> str | None:
    """The vendor's error code, if it looks like a code; free text (descriptions) is never read."""
    if data is None:
        return None
    for name in fields:
        value = data.get(name)
        if isinstance(value, str) and _CODE_CHARS.fullmatch(value):
            return value
    return None


def _seconds(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and 0 <= value < 10 * 365 * 86400:
        return float(value)
    return None
