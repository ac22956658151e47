"""The credential shapes a tenant may store in Vault, and their (de)serialisation.

A Vault KV secret is a flat JSON object chosen by whoever wrote it, so it is
parsed into one of a closed set of models keyed on its ``type`` field. Secret
fields are :class:`pydantic.SecretStr`, which masks them in ``repr``/``str``
(S3); turning them back into plain strings is left to the code that sends them
to the vendor, at the last moment.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import ErrorDetails

from sdk._errors import MalformedCredentialError

__all__ = [
    "ApiKeyCredential",
    "BasicCredential",
    "Credential",
    "CredentialLease",
    "OAuth2ClientCredential",
    "OAuth2JWTCredential",
    "OAuth2RefreshCredential",
    "credential_to_secret_data",
    "parse_credential",
]


def _no_control_characters(value: str) -> str:
    # A key pasted with a trailing newline fails at the vendor with a baffling
    # 401 (or is refused by the HTTP client as a header injection); refusing it
    # here names the field that needs fixing instead.
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise ValueError("contains a control character such as a newline or tab")
    return value


def _secret_no_control_characters(value: SecretStr) -> SecretStr:
    _no_control_characters(value.get_secret_value())
    return value


def _split_scopes(value: object) -> object:
    # `bao kv put` can only store strings, so scopes usually arrive as the
    # space-separated list OAuth 2.0 itself uses (RFC 6749 section 3.3); a JSON
    # list written through the API is accepted as well.
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list):
        return tuple(value)
    return value


_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN (RSA |)PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]+\r?\n-----END \1PRIVATE KEY-----\s*"
)


def _pem_private_key(value: SecretStr) -> SecretStr:
    # Only the armour is checked here: credentials are parsed on every Vault read, and loading an
    # RSA key (with its consistency checks) costs milliseconds; the key is loaded when it signs.
    # The messages describe the rule, never the value (they end up in MalformedCredentialError).
    text = value.get_secret_value()
    if any((ord(char) < 0x20 and char not in "\r\n") or ord(char) == 0x7F for char in text):
        raise ValueError("contains a control character other than a line break")
    if not _PEM_PRIVATE_KEY.fullmatch(text.strip() + "\n"):
        raise ValueError(
            "is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY----- or "
            "-----BEGIN RSA PRIVATE KEY-----, with its line breaks)"
        )
    return value


def _http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")) or "@" in value.split("/", 3)[2]:
        raise ValueError("must be an http(s) URL without user info")
    return value


_Text = Annotated[str, Field(min_length=1), AfterValidator(_no_control_characters)]
_Secret = Annotated[SecretStr, Field(min_length=1), AfterValidator(_secret_no_control_characters)]
_Scope = Annotated[str, Field(min_length=1, pattern=r"^[\x21-\x7e]+$")]
_Url = Annotated[str, AfterValidator(_http_url)]
_PrivateKey = Annotated[SecretStr, AfterValidator(_pem_private_key)]


class _CredentialModel(BaseModel):
    # Unknown keys are ignored: tenants annotate their secrets (owner, notes,
    # expiry dates), and refusing those would break working integrations.
    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)


class ApiKeyCredential(_CredentialModel):
    """A static API key or personal access token."""

    type: Literal["api_key"] = "api_key"
    api_key: _Secret


class BasicCredential(_CredentialModel):
    """A user name and password for HTTP Basic authentication."""

    type: Literal["basic"] = "basic"
    username: _Text
    password: _Secret


class OAuth2ClientCredential(_CredentialModel):
    """An OAuth 2.0 client that obtains tokens with the client-credentials grant."""

    type: Literal["oauth2_client"] = "oauth2_client"
    client_id: _Text
    client_secret: _Secret
    token_url: _Url | None = None
    scopes: Annotated[tuple[_Scope, ...], BeforeValidator(_split_scopes)] = ()


class OAuth2RefreshCredential(_CredentialModel):
    """An OAuth 2.0 client holding a refresh token granted by the tenant."""

    type: Literal["oauth2_refresh"] = "oauth2_refresh"
    client_id: _Text
    client_secret: _Secret
    refresh_token: _Secret
    token_url: _Url | None = None


class OAuth2JWTCredential(_CredentialModel):
    """An OAuth 2.0 client that proves itself with a JWT bearer assertion it signs (RFC 7523 §2.1).

    There is no refresh token and no client secret: every access token is
    obtained with a new, short-lived assertion signed with ``private_key``
    (RS256), issued by ``client_id`` (Salesforce: the connected app's consumer
    key) for ``username`` (the subject). ``audience`` overrides the audience the
    connector declares (Salesforce: ``https://login.salesforce.com``, or
    ``https://test.salesforce.com`` for a sandbox).
    """

    type: Literal["oauth2_jwt"] = "oauth2_jwt"
    client_id: _Text
    username: _Text
    private_key: _PrivateKey
    audience: _Text | None = None
    token_url: _Url | None = None


Credential = Annotated[
    Union[  # noqa: UP007
        ApiKeyCredential,
        BasicCredential,
        OAuth2ClientCredential,
        OAuth2RefreshCredential,
        OAuth2JWTCredential,
    ],
    Field(discriminator="type"),
]
"""Any credential a tenant may store, told apart by its ``type`` field."""

_CREDENTIAL_ADAPTER: TypeAdapter[Credential] = TypeAdapter(Credential)

_MODELS: dict[str, type[_CredentialModel]] = {
    model.model_fields["type"].default: model
    for model in (
        ApiKeyCredential,
        BasicCredential,
        OAuth2ClientCredential,
        OAuth2RefreshCredential,
        OAuth2JWTCredential,
    )
}


@dataclasses.dataclass(frozen=True, slots=True)
class CredentialLease:
    """A credential as read from Vault, with where and which version it came from.

    The version goes into audit records (S7) and lets rotation code write with
    check-and-set; the repr stays safe because secret fields are masked.
    """

    credential: Credential
    version: int
    tenant: str
    integration: str
    path: str


def parse_credential(data: Mapping[str, object], *, tenant: str, integration: str, path: str) -> Credential:
    """Return the credential stored in ``data``, or raise :class:`MalformedCredentialError`.

    The error names the fields that are missing or wrong and what each should be,
    never what they hold: a half-right secret is still a secret.
    """
    try:
        return _CREDENTIAL_ADAPTER.validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(_describe_error(error) for error in exc.errors(include_input=False))
    raise MalformedCredentialError(
        f"malformed credential for tenant {tenant!r}, integration {integration!r} "
        f"at Vault path {path!r}: {problems}; fix the secret in Vault (write a new version)"
    )


def credential_to_secret_data(credential: Credential) -> dict[str, str]:
    """Return the flat string mapping to store in Vault for ``credential``.

    Strings only, so that the secret looks the same whether it was written by
    this SDK or with ``bao kv put``; absent optional fields are left out.
    """
    data: dict[str, str] = {}
    for name in type(credential).model_fields:
        value = getattr(credential, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            data[name] = value.get_secret_value()
        elif isinstance(value, tuple):
            if value:
                data[name] = " ".join(value)
        else:
            data[name] = str(value)
    return data


# --- error messages without values -------------------------------------------------


def _describe_error(error: ErrorDetails) -> str:
    loc = error["loc"]
    kind = error["type"]
    tags = ", ".join(repr(tag) for tag in _MODELS)
    if kind == "union_tag_not_found":
        return f"field 'type' is missing (expected one of {tags})"
    if kind == "union_tag_invalid":
        return f"field 'type' is not a known credential type (expected one of {tags})"
    if not loc:
        return "the secret is not a JSON object of fields"
    tag, field = str(loc[0]), str(loc[1]) if len(loc) > 1 else "?"
    expected = _expected(tag, field)
    where = f"field {field!r}" if len(loc) <= 2 else f"item {loc[2]} of field {field!r}"
    if kind == "missing":
        return f"{where} is missing (expected {expected})"
    if kind in {"too_short", "string_too_short"}:
        return f"{where} is empty (expected {expected})"
    if kind == "value_error":
        # Our own validators raise ValueError with messages that describe the
        # rule, never the value, so the reason is safe to repeat.
        reason = str(error.get("ctx", {}).get("error", "is invalid"))
        return f"{where} {reason} (expected {expected})"
    if kind == "string_pattern_mismatch":
        return f"{where} contains whitespace or non-ASCII characters (expected {expected})"
    return f"{where} has the wrong type or form (expected {expected})"


def _expected(tag: str, field: str) -> str:
    model = _MODELS.get(tag)
    if model is None or field not in model.model_fields:
        return "a valid value"
    return _describe_annotation(model.model_fields[field].annotation)


def _describe_annotation(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *metadata = typing.get_args(annotation)
        if any(getattr(item, "func", None) is _http_url for item in metadata):
            return "an http(s) URL"
        if any(getattr(item, "func", None) is _pem_private_key for item in metadata):
            return "a PEM private key"
        return _describe_annotation(base)
    if origin in (Union, types.UnionType):
        described = [
            _describe_annotation(arg) for arg in typing.get_args(annotation) if arg is not type(None)
        ]
        return " or ".join(described) + " (or leave it out)"
    if origin is tuple:
        return "a space-separated string or a list of strings"
    if origin is Literal:
        return " or ".join(repr(arg) for arg in typing.get_args(annotation))
    if annotation in (str, SecretStr):
        return "a non-empty string"
    return getattr(annotation, "__name__", "a valid value")
