"""The Vault path layout: ids become path segments only if they cannot change a path's meaning."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdk._errors import InvalidIdentifierError
from sdk._ids import validate_id
from vault import VaultSettings, credential_path, tenant_policy_hcl

SETTINGS = VaultSettings(address="http://127.0.0.1:8200", path_prefix="org/nexora")
TRICKS = [
    "../b",
    "a/b",
    "..",
    ".",
    "%2e%2e",
    "a%2fb",
    "",
    "Acme",
    "acmé",
    "a\nb",
    "a b",
    "a\\b",
    " a",
    "a\x00",
]

_valid_ids = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,62}", fullmatch=True)


def test_layout() -> None:
    assert credential_path(SETTINGS, "acme", "hubspot") == "org/nexora/tenants/acme/integrations/hubspot"
    assert credential_path("nexora", "acme", "crm-1") == "nexora/tenants/acme/integrations/crm-1"
    assert credential_path("", "acme", "crm") == "tenants/acme/integrations/crm"


@pytest.mark.parametrize("bad", TRICKS)
def test_path_tricks_are_refused(bad: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        credential_path(SETTINGS, bad, "crm")
    with pytest.raises(InvalidIdentifierError):
        credential_path(SETTINGS, "acme", bad)


def test_bad_prefix_string_is_refused() -> None:
    with pytest.raises(ValueError, match="path_prefix"):
        credential_path("a/../b", "acme", "crm")


@given(tenant=_valid_ids | st.text(max_size=70), integration=_valid_ids | st.text(max_size=70))
def test_accepted_ids_give_exactly_the_expected_segments(tenant: str, integration: str) -> None:
    try:
        validate_id(tenant, kind="tenant id")
        validate_id(integration, kind="integration id")
    except InvalidIdentifierError:
        with pytest.raises(InvalidIdentifierError):
            credential_path(SETTINGS, tenant, integration)
        return
    segments = credential_path(SETTINGS, tenant, integration).split("/")
    assert segments == ["org", "nexora", "tenants", tenant, "integrations", integration]
    assert not any(segment in {"", ".", ".."} for segment in segments)


def test_policy_covers_one_tenant_one_segment_deep() -> None:
    policy = tenant_policy_hcl("acme", SETTINGS)
    assert 'path "secret/data/org/nexora/tenants/acme/integrations/+"' in policy
    assert 'path "secret/metadata/org/nexora/tenants/acme/integrations/+"' in policy
    assert "*" not in policy
    assert '"update"' not in policy
    assert '["read", "create", "update"]' in tenant_policy_hcl("acme", SETTINGS, write=True)
    with pytest.raises(InvalidIdentifierError):
        tenant_policy_hcl("acme/../other", SETTINGS)
