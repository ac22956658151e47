"""Parsing Vault secrets into credentials, and what a malformed one is allowed to say."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdk._errors import MalformedCredentialError
from tests.vault.support import make_secret
from vault import (
    ApiKeyCredential,
    BasicCredential,
    Credential,
    CredentialLease,
    OAuth2ClientCredential,
    OAuth2RefreshCredential,
    credential_to_secret_data,
    parse_credential,
)

WHERE = {"tenant": "acme", "integration": "hubspot", "path": "nexora/tenants/acme/integrations/hubspot"}


def parse(data: dict[str, object]) -> Credential:
    return parse_credential(data, **WHERE)


def malformed(data: dict[str, object]) -> str:
    with pytest.raises(MalformedCredentialError) as caught:
        parse(data)
    message = str(caught.value)
    for name in WHERE.values():
        assert name in message
    return message


def test_each_type_parses_and_ignores_unknown_keys() -> None:
    key, password, client_secret, refresh = (make_secret() for _ in range(4))
    assert parse({"type": "api_key", "api_key": key, "owner": "ops"}) == ApiKeyCredential(api_key=key)
    basic = parse({"type": "basic", "username": "bot", "password": password})
    assert isinstance(basic, BasicCredential)
    assert basic.password.get_secret_value() == password
    client = parse(
        {
            "type": "oauth2_client",
            "client_id": "cid",
            "client_secret": client_secret,
            "scopes": "contacts.read tickets.write",
            "token_url": "https://auth.example/token",
        }
    )
    assert isinstance(client, OAuth2ClientCredential)
    assert client.scopes == ("contacts.read", "tickets.write")
    listed = parse(
        {"type": "oauth2_client", "client_id": "cid", "client_secret": client_secret, "scopes": ["a"]}
    )
    assert isinstance(listed, OAuth2ClientCredential)
    assert listed.scopes == ("a",)
    refreshing = parse(
        {
            "type": "oauth2_refresh",
            "client_id": "cid",
            "client_secret": client_secret,
            "refresh_token": refresh,
        }
    )
    assert isinstance(refreshing, OAuth2RefreshCredential)
    assert refreshing.token_url is None


def test_missing_field_is_named_with_expected_type() -> None:
    message = malformed({"type": "basic", "username": "bot"})
    assert "'password' is missing" in message
    assert "expected a non-empty string" in message


def test_wrong_type_is_named_without_the_value() -> None:
    canary = make_secret()
    message = malformed({"type": "basic", "username": {"nested": canary}, "password": [canary]})
    assert "'username'" in message
    assert "'password'" in message
    assert "wrong type" in message
    assert canary not in message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"api_key": "{canary}"}, "field 'type' is missing"),
        ({"type": "{canary}", "api_key": "{canary}"}, "not a known credential type"),
        ({"type": "api_key", "api_key": ""}, "'api_key' is empty"),
        ({"type": "api_key", "api_key": "{canary}\n"}, "control character"),
        ({"type": "api_key", "api_key": 1234567}, "'api_key' has the wrong type"),
        (
            {
                "type": "oauth2_client",
                "client_id": "c",
                "client_secret": "{canary}",
                "token_url": "ftp://{canary}",
            },
            "'token_url' must be an http(s) URL",
        ),
        (
            {"type": "oauth2_client", "client_id": "c", "client_secret": "s", "scopes": ["ok", "{canary} x"]},
            "item 1 of field 'scopes'",
        ),
    ],
)
def test_malformed_messages_never_echo_values(data: dict[str, object], expected: str) -> None:
    canary = make_secret()
    planted = {
        key: value.format(canary=canary) if isinstance(value, str) else value for key, value in data.items()
    }
    scopes = data.get("scopes")
    if isinstance(scopes, list):
        planted["scopes"] = [scope.format(canary=canary) for scope in scopes]
    message = malformed(planted)
    assert expected in message
    assert canary not in message
    assert "1234567" not in message


def test_malformed_error_has_no_pydantic_cause() -> None:
    # pydantic's ValidationError keeps the input; it must not ride along as context.
    with pytest.raises(MalformedCredentialError) as caught:
        parse({"type": "api_key", "api_key": 42})
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_models_are_frozen() -> None:
    credential = ApiKeyCredential(api_key=make_secret())
    with pytest.raises(ValueError, match="frozen"):
        credential.api_key = "x"  # type: ignore[assignment,misc]


def test_lease_repr_and_str_mask_secrets() -> None:
    key, password = make_secret(), make_secret()
    for credential in (ApiKeyCredential(api_key=key), BasicCredential(username="bot", password=password)):
        lease = CredentialLease(credential=credential, version=3, tenant="acme", integration="crm", path="p")
        for text in (repr(lease), str(lease), repr(lease.credential), str(lease.credential)):
            assert key not in text
            assert password not in text
        assert "version=3" in repr(lease)


_scope = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20)
_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x7f"), min_size=1, max_size=40
)
_url = st.sampled_from([None, "https://auth.example/oauth/token", "http://127.0.0.1:8080/token"])

_credentials = st.one_of(
    st.builds(ApiKeyCredential, api_key=_text),
    st.builds(BasicCredential, username=_text, password=_text),
    st.builds(
        OAuth2ClientCredential,
        client_id=_text,
        client_secret=_text,
        token_url=_url,
        scopes=st.lists(_scope, max_size=4).map(tuple),
    ),
    st.builds(
        OAuth2RefreshCredential, client_id=_text, client_secret=_text, refresh_token=_text, token_url=_url
    ),
)


@given(_credentials)
def test_secret_data_round_trips(credential: Credential) -> None:
    data = credential_to_secret_data(credential)
    assert all(isinstance(value, str) for value in data.values())
    assert parse(dict(data)) == credential
