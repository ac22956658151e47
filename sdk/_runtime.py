"""``NexoraConnect``: the facade a voice agent holds for the life of its process.

It owns the things shared across calls (HTTP connection pools, the Vault
credential store, the audit sink, the connector registry) and none of the
things that belong to a call: those live in a :class:`~sdk.Conversation`,
which reaches the runtime only through :class:`~sdk._call.CallRuntime`, the
small protocol this class implements (bindings, audit sink, tenant policy,
forget-on-close).
Configuration is per instance; there are no module-level globals to leak
one tenant's settings into another's calls.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from pydantic import ValidationError

from sdk._audit import AuditSink, JsonLinesAuditSink, MemoryAuditSink, NullAuditSink
from sdk._auth import CredentialSource
from sdk._call import Conversation, LLMPolicy, ToolFormat, tenant_tool_definitions
from sdk._config import NexoraConfig, TenantConfig, load_config
from sdk._connector import Connector
from sdk._dispatch import IntegrationBinding, dispatch
from sdk._errors import (
    ConfigurationError,
    UnknownConnectorError,
    UnknownIntegrationError,
    UnknownTenantError,
    UsageError,
)
from sdk._http import HttpClientPool
from sdk._ids import validate_conversation_id, validate_id
from sdk._metrics import default_metrics
from sdk._registry import ConnectorRegistry, default_registry
from sdk._telemetry import default_tracer
from sdk._urls import require_secure_url
from sdk._validation import validation_problems
from vault._store import CredentialStore

__all__ = ["NexoraConnect"]


def _builds_own_url(cls: type[Connector]) -> bool:
    return getattr(cls.resolve_base_url, "__func__", None) is not Connector.resolve_base_url.__func__  # type: ignore[attr-defined]


class NexoraConnect:
    """Entry point: ``async with NexoraConnect.from_config("nexora.toml") as nc: ...``."""

    def __init__(
        self,
        config: NexoraConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        audit_sink: AuditSink | None = None,
        registry: ConnectorRegistry | None = None,
        credential_store: CredentialSource | None = None,
        vault_tokens: Mapping[str, str] | None = None,
    ) -> None:
        """Build the runtime.

        ``transport`` replaces the network for vendor requests (tests pass a
        respx router); it is still wrapped by the scope guard. ``vault_tokens``
        maps tenant id to a Vault token to use instead of the configured
        token source (the demo and tests use it).
        """
        self.config = config
        self.registry = registry or default_registry()
        self.audit_sink: AuditSink = audit_sink or self._sink_from_config(config)
        self._pool = HttpClientPool(transport=transport)
        # Importing the SDK loads no OpenTelemetry; the runtime does (when it is installed), at
        # start-up, so that the first call does not pay for it.
        default_metrics()
        default_tracer()
        # A store built here from the configuration is owned (registered and closed) by this runtime;
        # one passed in (tests, the connector kit, a shared store) is the caller's.
        self._own_store: CredentialStore | None = None
        self.credentials: CredentialSource
        if credential_store is None:
            self._own_store = CredentialStore(
                max_staleness=config.max_staleness, failover_wait=config.vault_failover_wait
            )
            self.credentials = self._own_store
        else:
            self.credentials = credential_store
        self._bindings: dict[tuple[str, str], IntegrationBinding] = {}
        self._settings: dict[tuple[str, str], Any] = {}
        """Each integration's settings, validated at construction (``_register_tenants``)."""
        self._conversations: dict[tuple[str, str], Conversation] = {}
        self._closed = False
        try:
            self._register_tenants(dict(vault_tokens or {}))
        except BaseException:
            # Construction failed: release the Vault worker threads registration started.
            if self._own_store is not None:
                self._own_store.discard()
            raise

    def _register_tenants(self, tokens: dict[str, str]) -> None:
        config = self.config
        for tenant_id, tenant in config.tenants.items():
            if self._own_store is not None:
                self._own_store.register_tenant(
                    tenant_id,
                    settings=config.vault_for(tenant_id),
                    region=tenant.region,
                    allow_cross_region=tenant.cross_region,
                    token=tokens.get(tenant_id),
                )
            for integration_id, integration in tenant.integrations.items():
                key = f"tenants.{tenant_id}.integrations.{integration_id}"
                if integration.connector not in self.registry:
                    known = ", ".join(self.registry.names()) or "none"
                    raise ConfigurationError(
                        f"{key}.connector: no connector named "
                        f"{integration.connector!r} is installed (installed: {known})"
                    )
                # Settings are checked now, not at the first call: a typo in nexora.toml must stop the
                # agent starting, not surface mid-conversation. This imports the connector's module,
                # a cost paid once at construction.
                try:
                    cls = self.registry.load(integration.connector)
                except UnknownConnectorError as exc:
                    raise UnknownConnectorError(f"{key}.connector: {exc}") from None
                self._settings[(tenant_id, integration_id)] = self._connector_settings(
                    cls, tenant_id, integration_id, integration.settings
                )

    @classmethod
    def from_config(cls, path: str | Path, **kwargs: Any) -> NexoraConnect:
        """Load a TOML configuration file (see :mod:`sdk._config` for its keys)."""
        return cls(load_config(path), **kwargs)

    @staticmethod
    def _sink_from_config(config: NexoraConfig) -> AuditSink:
        audit = config.audit
        if audit.sink == "none":
            return NullAuditSink()
        if audit.sink == "memory":
            return MemoryAuditSink()
        sink = JsonLinesAuditSink(
            audit.path,
            locations={str(region): place for region, place in audit.locations.items()} or None,
            default_region=audit.default_region,
            retention_days=audit.retention_days,
            cross_region={t for t, tc in config.tenants.items() if tc.cross_region},
        )
        # A tenant whose region has no audit location is refused now, not dropped mid-call (S8).
        try:
            for tenant_id, tenant in config.tenants.items():
                sink.check_residency(tenant_id, tenant.region)
        except BaseException:
            sink.close()
            raise
        return sink

    # --- lifecycle -------------------------------------------------------------

    async def __aenter__(self) -> NexoraConnect:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Wipe every open conversation, then release connections and Vault clients."""
        self.wipe_all("SDK shut down")
        self._closed = True
        await self._pool.aclose()
        if self._own_store is not None:
            await self._own_store.aclose()
        close = getattr(self.audit_sink, "close", None)
        if callable(close):
            close()

    def wipe_all(self, reason: str = "shut down") -> int:
        """Wipe every open conversation now (SIGTERM handlers call this). Returns how many."""
        open_conversations = list(self._conversations.values())
        for conv in open_conversations:
            conv.close(reason)
        return len(open_conversations)

    # --- conversations ---------------------------------------------------------

    def conversation(
        self, *, tenant: str, conversation_id: str, max_lifetime: float | None = None
    ) -> Conversation:
        """Open a conversation for one call of ``tenant``; use it as ``async with``."""
        if self._closed:
            raise UsageError("this NexoraConnect has been closed; create a new one")
        validate_id(tenant, kind="tenant id")
        validate_conversation_id(conversation_id)
        if tenant not in self.config.tenants:
            raise UnknownTenantError(f"tenant {tenant!r} is not in the configuration")
        key = (tenant, conversation_id)
        if key in self._conversations:
            raise UsageError(f"conversation {conversation_id!r} of tenant {tenant!r} is already open")
        conv = Conversation(
            self,
            tenant=tenant,
            conversation_id=conversation_id,
            max_lifetime=max_lifetime or self.config.conversation_max_lifetime,
        )
        self._conversations[key] = conv
        return conv

    def tools(
        self, tenant: str, format: ToolFormat = "openai", *, strict: bool = False
    ) -> list[dict[str, Any]]:
        """The tenant's tool definitions before any call, to register with a model once at start-up.

        The same definitions ``conv.tools(format, strict=strict)`` gives in a
        call of ``tenant``: every implemented read and each write the tenant
        granted, nothing else. ``format`` is ``"openai"`` (Chat Completions,
        also ``"chat_completions"``), ``"responses"``, ``"realtime"``,
        ``"anthropic"`` or ``"gemini"``. Listing reads no credentials and
        sends no request; running a tool still needs an open conversation
        (``conv.invoke``), which checks the grant again.
        """
        if self._closed:
            raise UsageError("This NexoraConnect has been closed; create a new one to list tools.")
        validate_id(tenant, kind="tenant id")
        return tenant_tool_definitions(self, tenant, format, strict=strict)

    # --- what a conversation asks of its runtime (sdk._call.CallRuntime) ----------------

    def holds(self, conversation: object) -> bool:
        """True while ``conversation`` is the very object open under its tenant and id (S2)."""
        if not isinstance(conversation, Conversation):
            return False
        return self._conversations.get((conversation.tenant, conversation.conversation_id)) is conversation

    def forget(self, conversation: object) -> None:
        """Stop counting ``conversation`` as open; another object under the same key is left alone."""
        if self.holds(conversation):
            assert isinstance(conversation, Conversation)
            del self._conversations[(conversation.tenant, conversation.conversation_id)]

    def policy(self, tenant: str) -> LLMPolicy:
        """The tenant's ``[tenants.<id>.redaction]`` policy (its defaults if it configured none)."""
        return self._tenant(tenant).redaction

    def phone_region(self, tenant: str) -> str:
        """The region a caller's number without a country code is read in."""
        return self._tenant(tenant).phone_region

    def _tenant(self, tenant: str) -> TenantConfig:
        found = self.config.tenants.get(tenant)
        if found is None:
            raise UnknownTenantError(f"tenant {tenant!r} is not in the configuration")
        return found

    @property
    def open_conversations(self) -> int:
        return len(self._conversations)

    # --- integrations ----------------------------------------------------------

    def binding(self, tenant: str, integration: str) -> IntegrationBinding:
        """The tenant's integration bound to its connector, built once per runtime."""
        key = (tenant, integration)
        found = self._bindings.get(key)
        if found is not None:
            return found
        validate_id(integration, kind="integration id")
        tenant_config = self.config.tenants.get(tenant)
        if tenant_config is None:
            raise UnknownTenantError(f"tenant {tenant!r} is not in the configuration")
        integration_config = tenant_config.integrations.get(integration)
        if integration_config is None:
            known = ", ".join(sorted(tenant_config.integrations)) or "none"
            raise UnknownIntegrationError(
                f"tenant {tenant!r} has no integration {integration!r} (configured: {known})"
            )
        cls = self.registry.load(integration_config.connector)
        settings = self._settings.get(key)
        if settings is None:  # pragma: no cover - every configured integration is validated at construction
            settings = self._connector_settings(cls, tenant, integration, integration_config.settings)
        # https only, except loopback or an explicit opt-in; a setting filled into the connector's
        # URL template can only ever fill DNS labels, never retarget the host (S3).
        configured = integration_config.base_url
        base_url = require_secure_url(
            configured or cls.resolve_base_url(settings),
            key=f"tenants.{tenant}.integrations.{integration}." + ("base_url" if configured else "settings"),
            allow_plain_http=integration_config.allow_plain_http,
            # A connector that builds its URL itself (JSM's gateway) is checked as a URL only.
            template=None if configured or _builds_own_url(cls) else cls.base_url,
        )
        connector = cls(
            client=self._pool.client_for(base_url),
            credentials=self.credentials,
            settings=settings,
            tenant=tenant,
            integration=integration,
            base_url=base_url,
            phone_region=tenant_config.phone_region,
        )
        binding = IntegrationBinding(
            tenant=tenant,
            integration=integration,
            connector=connector,
            grant=integration_config.to_grant(),
            region=tenant_config.region,
        )
        self._bindings[key] = binding
        return binding

    _binding = binding
    """The old private name of :meth:`binding`, still used by tests and the key tools."""

    @staticmethod
    def _connector_settings(cls: type[Connector], tenant: str, integration: str, raw: dict[str, Any]) -> Any:
        problems: list[str] | None = None
        try:
            return cls.Settings.model_validate(raw)
        except ValidationError as exc:
            problems = validation_problems(
                exc, prefix=f"tenants.{tenant}.integrations.{integration}.settings"
            )
        # Raised outside the except block: the ValidationError quotes the values it refused.
        raise ConfigurationError(
            f"invalid settings for connector {cls.name!r}:\n" + "\n".join(f"  {line}" for line in problems)
        )

    def integrations(self, tenant: str) -> dict[str, IntegrationBinding]:
        """Every integration of ``tenant``, bound (connector modules are imported here)."""
        if tenant not in self.config.tenants:
            raise UnknownTenantError(f"tenant {tenant!r} is not in the configuration")
        return {i: self.binding(tenant, i) for i in self.config.tenants[tenant].integrations}

    async def verify(self, tenant: str, integration: str, *, budget: float = 10.0) -> None:
        """Run the connector's ``verify()`` as a read-only, audited operation; raise if the key fails."""
        binding = self.binding(tenant, integration)
        await dispatch(
            binding,
            type(binding.connector).verify_spec,
            {},
            audit=self.audit_sink,
            conversation_id=None,
            deadline=time.monotonic() + budget,
        )
