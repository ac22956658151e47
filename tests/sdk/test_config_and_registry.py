"""Configuration errors point at the key; the registry is lazy; the public API does not drift."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sdk
from sdk import ConfigurationError, NexoraConfig, NexoraConnect, UnknownConnectorError, load_config
from sdk.authoring import ConnectorRegistry
from tests.sdk.fakes import ToyCRM

GOOD = """
[vault]
address = "http://127.0.0.1:8200"

[tenants.acme]
region = "nz"

[tenants.acme.integrations.crm]
connector = "toy"
grant = "scoped-write"
write_scopes = ["notes:write"]
"""


def test_load_config_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "nexora.toml"
    path.write_text(GOOD)
    config = load_config(path)
    grant = config.tenants["acme"].integrations["crm"].to_grant()
    assert grant.mode == "scoped-write"
    assert [str(s) for s in grant.write_scopes] == ["notes:write"]
    assert config.max_staleness == 0.0, "S4: the default is no reuse of a credential"


@pytest.mark.parametrize(
    ("patch", "where"),
    [
        (('grant = "scoped-write"', 'grant = "read-write"'), "tenants.acme.integrations.crm.grant"),
        (
            ('write_scopes = ["notes:write"]', 'write_scopes = ["notes"]'),
            "tenants.acme.integrations.crm.write_scopes",
        ),
        (
            ('write_scopes = ["notes:write"]', 'write_scopes = ["contacts:read"]'),
            "tenants.acme.integrations.crm",
        ),
        (('region = "nz"', 'region = "mars"'), "tenants.acme.region"),
        (("[tenants.acme]", "[tenants.Acme]"), "tenants"),
        (('connector = "toy"', 'connector = "toy"\nsurprise = 1'), "tenants.acme.integrations.crm.surprise"),
    ],
)
def test_config_errors_name_the_offending_key(tmp_path: Path, patch: tuple[str, str], where: str) -> None:
    path = tmp_path / "nexora.toml"
    path.write_text(GOOD.replace(*patch))
    with pytest.raises(ConfigurationError) as info:
        load_config(path)
    assert where in str(info.value)


def test_config_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[vault\n")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_config(bad)
    no_vault = tmp_path / "no_vault.toml"
    no_vault.write_text("[tenants.acme.integrations.crm]\nconnector = 'toy'\n")
    with pytest.raises(ConfigurationError, match="no default"):
        load_config(no_vault)


def test_unknown_connector_in_config_fails_at_startup(tmp_path: Path) -> None:
    config = NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9"},
            "tenants": {"acme": {"integrations": {"crm": {"connector": "hubspt"}}}},
        }
    )
    with pytest.raises(ConfigurationError, match=r"tenants\.acme\.integrations\.crm\.connector"):
        NexoraConnect(config, registry=ConnectorRegistry(discover=False))


def test_registry_lists_capabilities() -> None:
    registry = ConnectorRegistry(discover=False)
    registry.register(ToyCRM)
    (info,) = registry.describe_all()
    assert info.name == "toy"
    assert info.category == "crm"
    assert info.operations == {
        "find_contacts": "contacts:read",
        "get_contact": "contacts:read",
        "get_account": "accounts:read",
        "create_note": "notes:write",
    }
    with pytest.raises(UnknownConnectorError, match="toy"):
        registry.load("nope")


def test_importing_sdk_imports_no_vendor_code() -> None:
    code = "import sys, sdk, vault; print(sorted(m for m in sys.modules if m.startswith('connectors')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_api_matches_all() -> None:
    exported = set(sdk.__all__)
    for name in exported:
        getattr(sdk, name)  # names load on first use (sdk/__init__.py); resolve them all
    helpers = {"annotations", "importlib", "warnings", "TYPE_CHECKING", "Any"}
    public = {name for name in vars(sdk) if not name.startswith("_")} - helpers
    # submodules that Python binds on the package when they are imported are not API
    public -= {name for name in public if isinstance(getattr(sdk, name), type(sys))}
    assert public == exported
    assert len(sdk.__all__) == len(exported), "duplicate names in __all__"


def test_every_error_derives_from_the_root_and_has_a_docstring() -> None:
    errors = [getattr(sdk, n) for n in sdk.__all__ if n.endswith("Error")]
    assert len(errors) >= 30
    for error in errors:
        assert issubclass(error, sdk.NexoraError)
        assert error.__doc__, error.__name__
    assert issubclass(sdk.ConversationClosedError, RuntimeError)
    assert issubclass(sdk.InvalidIdentifierError, ValueError)
    assert issubclass(sdk.DeadlineExceededError, TimeoutError)


def test_a_broken_entry_point_gives_a_typed_error() -> None:
    from importlib.metadata import EntryPoint

    registry = ConnectorRegistry(discover=False)
    registry._entry_points["ghost"] = EntryPoint(
        "ghost", "connectors.no_such_module:Ghost", "nexora_connect.connectors"
    )
    with pytest.raises(UnknownConnectorError, match="cannot be loaded"):
        registry.load("ghost")


def test_audit_config_routes_by_region_and_refuses_a_tenant_without_a_location(tmp_path: Path) -> None:
    base = {"vault": {"address": "http://127.0.0.1:9"}}
    config = NexoraConfig.parse(
        {
            **base,
            "audit": {"sink": "jsonl", "locations": {"nz": str(tmp_path / "nz")}},
            "tenants": {"acme": {"region": "au", "vault": {"address": "http://127.0.0.1:9", "region": "au"}}},
        }
    )
    from sdk import ResidencyError

    with pytest.raises(ResidencyError):
        NexoraConnect(config, registry=ConnectorRegistry(discover=False))
    with pytest.raises(ConfigurationError, match=r"exactly one of audit\.path or audit\.locations"):
        NexoraConfig.parse({**base, "audit": {"sink": "jsonl"}})
    with pytest.raises(ConfigurationError, match="default_region"):
        NexoraConfig.parse({**base, "audit": {"sink": "jsonl", "locations": {"au": str(tmp_path)}}})


def test_a_runtime_that_fails_to_build_leaves_no_vault_threads(tmp_path: Path) -> None:
    import threading

    before = {t.ident for t in threading.enumerate()}
    config = NexoraConfig.parse(
        {
            "vault": {"address": "http://127.0.0.1:9", "region": "nz"},
            "tenants": {
                "acme": {"region": "nz"},
                "globex": {"region": "au"},  # Vault in nz, no cross_region: refused
            },
        }
    )
    from sdk import ResidencyError

    with pytest.raises(ResidencyError):
        NexoraConnect(config, registry=ConnectorRegistry(discover=False))
    import time

    for _ in range(100):
        leftover = [
            t for t in threading.enumerate() if t.ident not in before and t.name.startswith("nexora-vault")
        ]
        if not leftover:
            break
        time.sleep(0.01)
    assert leftover == []


def test_memory_audit_sink_is_bounded() -> None:
    from sdk import AuditDecision, AuditRecord, MemoryAuditSink

    sink = MemoryAuditSink(max_records=3)
    for n in range(5):
        sink.emit(
            AuditRecord(
                tenant="acme",
                integration="crm",
                connector="toy",
                operation=f"op{n}",
                scope="contacts:read",
                decision=AuditDecision.ALLOWED,
                outcome="ok",
                latency_ms=0.1,
            )
        )
    assert [r.operation for r in sink.records] == ["op2", "op3", "op4"]
