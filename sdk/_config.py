"""Configuration: Vault settings, tenants, their integrations, grants and regions.

The file never holds a vendor key: keys live in the tenant's Vault. It may
name the environment variable or file the *Vault* token comes from, because
something has to bootstrap access to Vault.

Validation errors point at the offending key, e.g.
``tenants.acme.integrations.crm.grant: Input should be 'read-only' or 'scoped-write'``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sdk._call import LLMPolicy
from sdk._errors import ConfigurationError, InvalidIdentifierError
from sdk._ids import validate_id
from sdk._scopes import Grant, Scope
from sdk._urls import insecure_url_problem
from sdk._validation import validation_problems
from vault._settings import VaultSettings

__all__ = ["AuditConfig", "IntegrationConfig", "NexoraConfig", "TenantConfig", "load_config"]

Region = Literal["nz", "au", "us", "uk", "eu"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IntegrationConfig(_Strict):
    connector: str = Field(
        min_length=1,
        max_length=64,
        description=(
            "Registry name of the connector (an installed entry point, e.g. hubspot); "
            "`nexora-connect connectors list` shows the installed ones."
        ),
    )
    grant: Literal["read-only", "scoped-write"] = Field(
        default="read-only",
        description=(
            "read-only: every read operation of the connector. scoped-write: those, plus the "
            "write operations whose scopes write_scopes names (S1)."
        ),
    )
    write_scopes: tuple[str, ...] = Field(
        default=(),
        description=(
            'The write scopes a scoped-write grant allows, e.g. ["comments:write"]; must be empty '
            "for read-only, and hold only write scopes."
        ),
    )
    # Declared before base_url: base_url's validator reads it.
    allow_plain_http: bool = Field(
        default=False,
        description=(
            "Let this integration's base URL use plain http to a host that is not loopback (S3). "
            "The API key then crosses the network unencrypted: an explicit, visible opt-in that "
            "`nexora-connect doctor` reports. Loopback (127.0.0.0/8, ::1, localhost) never needs it."
        ),
    )
    base_url: str | None = Field(
        default=None,
        description=(
            "Override the connector's API root (sandboxes). https, or plain http to loopback; "
            "no user name, query or fragment."
        ),
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "The connector's own options (e.g. site or subdomain), checked against its Settings "
            "class when the configuration is used; connectors list shows each connector's."
        ),
    )

    @field_validator("base_url")
    @classmethod
    def _base_url_secure(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        problem, normalised = insecure_url_problem(
            value,
            # Absent when allow_plain_http itself failed validation: refuse plain http then.
            allow_plain_http=info.data.get("allow_plain_http") is True,
            opt_in="allow_plain_http",
        )
        if problem is not None:
            # A custom error: pydantic's "Value error, " prefix would come before the key's message.
            raise PydanticCustomError("insecure_url", "the URL {problem}", {"problem": problem})
        return normalised

    @field_validator("write_scopes")
    @classmethod
    def _scopes_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for scope in value:
            try:
                Scope.parse(scope)
            except ConfigurationError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _grant_consistent(self) -> IntegrationConfig:
        try:
            self.to_grant()
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from None
        return self

    def to_grant(self) -> Grant:
        return Grant(self.grant, frozenset(Scope.parse(s) for s in self.write_scopes))


class TenantConfig(_Strict):
    region: Region = Field(
        default="nz",
        description="Where the tenant's credentials, audit records and telemetry stay (S8).",
    )
    cross_region: bool = Field(
        default=False, description="Allow this tenant's credentials or telemetry outside its region (S8)."
    )
    phone_region: str = Field(
        default="NZ",
        pattern=r"^[A-Z]{2}$",
        description=(
            "Country (ISO 3166 alpha-2, GB for the UK) whose national format a caller's phone "
            "number without +CC is read in; unrelated to region."
        ),
    )
    vault: VaultSettings | None = Field(default=None, description="The tenant's own Vault; default: [vault].")
    integrations: dict[str, IntegrationConfig] = Field(
        default_factory=dict,
        description=(
            "The tenant's integrations by id (e.g. crm): the name agents call them by, and the "
            "Vault path their keys are stored under."
        ),
    )
    redaction: LLMPolicy = Field(
        default_factory=LLMPolicy,
        description="What a language model may see of this tenant's data (S6); see sdk.LLMPolicy.",
    )

    @field_validator("integrations")
    @classmethod
    def _integration_ids(cls, value: dict[str, IntegrationConfig]) -> dict[str, IntegrationConfig]:
        for key in value:
            validate_id(key, kind="integration id")
        return value


class AuditConfig(_Strict):
    """Where audit records go. ``jsonl`` writes one file per UTC day and deletes old ones.

    Give ``path`` (one place for every region) or ``locations`` (one directory per
    region, S8): a record is written only under its tenant's region's location,
    or the default region's when the tenant allows cross-region use.
    """

    sink: Literal["jsonl", "memory", "none"] = Field(
        default="memory",
        description="jsonl: files on disk; memory: in the process (tests, the demo); none: not recorded.",
    )
    path: str | None = Field(default=None, description="The jsonl sink's directory for every region.")
    locations: dict[Region, str] = Field(
        default_factory=dict,
        description="The jsonl sink's directory per region, e.g. {nz = '/var/log/nexora/nz'} (S8).",
    )
    default_region: Region = Field(
        default="nz",
        description="Where records of tenants allowed cross-region use go; must have a location.",
    )
    retention_days: int = Field(
        default=90, ge=1, le=3650, description="Days a jsonl file is kept after its UTC day ends."
    )

    @model_validator(mode="after")
    def _where_for_jsonl(self) -> AuditConfig:
        if self.sink == "jsonl" and bool(self.path) == bool(self.locations):
            raise ValueError("audit.sink = 'jsonl' needs exactly one of audit.path or audit.locations")
        if self.locations and self.default_region not in self.locations:
            raise ValueError(f"audit.default_region {self.default_region!r} has no entry in audit.locations")
        return self


class NexoraConfig(_Strict):
    vault: VaultSettings | None = Field(
        default=None,
        description="The default Vault, for every tenant without a `[tenants.<id>.vault]` of its own.",
    )
    audit: AuditConfig = Field(
        default=AuditConfig(), description="Where audit records go and how long they are kept ([audit])."
    )
    max_staleness: float = Field(
        default=0.0,
        ge=0.0,
        le=3600.0,
        description="Seconds a credential read from Vault may be reused in-process (S4). 0: read every call.",
    )
    vault_failover_wait: float = Field(
        default=0.0,
        ge=0.0,
        le=60.0,
        description=(
            "Seconds a credential read keeps retrying while an HA Vault elects a new active node, "
            "within the call's deadline. 0: fail at once when Vault is unavailable."
        ),
    )
    conversation_max_lifetime: float = Field(
        default=3600.0, gt=0.0, description="Seconds after which an abandoned conversation is wiped (S5)."
    )
    tenants: dict[str, TenantConfig] = Field(
        default_factory=dict,
        description="Each tenant by id (`[tenants.<id>]`): region, Vault, integrations, redaction policy.",
    )

    @field_validator("tenants")
    @classmethod
    def _tenant_ids(cls, value: dict[str, TenantConfig]) -> dict[str, TenantConfig]:
        for key in value:
            validate_id(key, kind="tenant id")
        return value

    @model_validator(mode="after")
    def _every_tenant_has_vault(self) -> NexoraConfig:
        for tenant_id, tenant in self.tenants.items():
            if tenant.vault is None and self.vault is None:
                raise ValueError(
                    f"tenant {tenant_id!r} has no [tenants.{tenant_id}.vault] and there is no default [vault]"
                )
        return self

    def vault_for(self, tenant_id: str) -> VaultSettings:
        tenant = self.tenants[tenant_id]
        settings = tenant.vault or self.vault
        assert settings is not None  # guaranteed by _every_tenant_has_vault
        return settings

    @classmethod
    def parse(cls, data: dict[str, Any], *, source: str = "configuration") -> NexoraConfig:
        """Validate a mapping; errors name each offending key and never echo values."""
        problems: list[str] | None = None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = [_name_the_opt_in(line) for line in validation_problems(exc)]
        except InvalidIdentifierError as exc:
            raise ConfigurationError(f"invalid {source}: {exc}") from None
        # Raised outside the except block: the ValidationError quotes the values it refused.
        raise ConfigurationError(f"invalid {source}:\n" + "\n".join(f"  {line}" for line in problems))


def _name_the_opt_in(problem: str) -> str:
    """Name ``allow_plain_http`` by its full key, beside the ``base_url`` an insecure-URL error is about."""
    where, _, message = problem.partition(": ")
    sibling = where.rpartition(".")[0] + ".allow_plain_http"
    return f"{where}: " + message.replace("set allow_plain_http =", f"set {sibling} =")


def load_config(path: str | Path) -> NexoraConfig:
    """Read and validate a TOML configuration file."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(f"configuration file {file} does not exist") from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read configuration file {file}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{file} is not valid TOML: {exc}") from None
    return NexoraConfig.parse(data, source=str(file))
