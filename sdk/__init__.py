"""Nexora Connect: let voice AI agents read a caller's context safely.

Everything a connector author or a voice agent needs is importable from here;
the modules behind it are private. Connector modules are not imported until a
configuration uses them.
"""

from sdk._audit import (
    AuditDecision,
    AuditRecord,
    AuditSink,
    JsonLinesAuditSink,
    MemoryAuditSink,
    NullAuditSink,
)
from sdk._categories import BillingConnector, CRMConnector, TicketingConnector
from sdk._config import AuditConfig, IntegrationConfig, NexoraConfig, TenantConfig, load_config
from sdk._connector import Category, Connector, NoSettings, normalise_phone
from sdk._conversation import Conversation
from sdk._errors import (
    AccessDeniedError,
    ConfigurationError,
    ConversationClosedError,
    CredentialError,
    CredentialNotFoundError,
    DeadlineExceededError,
    InvalidArgumentsError,
    InvalidIdentifierError,
    MalformedCredentialError,
    NexoraError,
    ReauthorizationRequiredError,
    ResidencyError,
    ScopeDeniedError,
    UnknownConnectorError,
    UnknownIntegrationError,
    UnknownOperationError,
    UnknownTenantError,
    UsageError,
    VaultAuthError,
    VaultConflictError,
    VaultError,
    VaultPermissionError,
    VaultSealedError,
    VaultTimeoutError,
    VaultUnavailableError,
    VendorAuthError,
    VendorConflictError,
    VendorConnectionError,
    VendorError,
    VendorNotFoundError,
    VendorPayloadError,
    VendorRateLimitError,
    VendorServerError,
    VendorTimeoutError,
)
from sdk._http import VendorHttp
from sdk._models import (
    Account,
    BillingCustomer,
    Contact,
    Invoice,
    InvoiceStatus,
    Money,
    Note,
    Requester,
    Sensitive,
    SharedModel,
    Subscription,
    SubscriptionStatus,
    Ticket,
    TicketComment,
    TicketPriority,
    TicketStatus,
    coerce_enum,
    sensitivity_of,
)
from sdk._operations import OperationSpec, operation
from sdk._pagination import paginate
from sdk._registry import ConnectorInfo, ConnectorRegistry, default_registry
from sdk._retry import RetryPolicy, parse_retry_after
from sdk._runtime import NexoraConnect
from sdk._scopes import Access, Grant, Scope

__version__ = "0.1.0"

__all__ = [
    # runtime
    "NexoraConnect",
    "Conversation",
    "NexoraConfig",
    "TenantConfig",
    "IntegrationConfig",
    "AuditConfig",
    "load_config",
    # connector authoring
    "Connector",
    "CRMConnector",
    "TicketingConnector",
    "BillingConnector",
    "Category",
    "NoSettings",
    "operation",
    "OperationSpec",
    "VendorHttp",
    "RetryPolicy",
    "parse_retry_after",
    "paginate",
    "normalise_phone",
    "ConnectorRegistry",
    "ConnectorInfo",
    "default_registry",
    # scopes
    "Scope",
    "Access",
    "Grant",
    # models
    "SharedModel",
    "Sensitive",
    "sensitivity_of",
    "coerce_enum",
    "Contact",
    "Account",
    "Note",
    "Requester",
    "Ticket",
    "TicketComment",
    "TicketStatus",
    "TicketPriority",
    "BillingCustomer",
    "Money",
    "Invoice",
    "InvoiceStatus",
    "Subscription",
    "SubscriptionStatus",
    # audit
    "AuditRecord",
    "AuditDecision",
    "AuditSink",
    "JsonLinesAuditSink",
    "MemoryAuditSink",
    "NullAuditSink",
    # errors
    "NexoraError",
    "ConfigurationError",
    "UnknownTenantError",
    "UnknownIntegrationError",
    "UnknownOperationError",
    "UnknownConnectorError",
    "InvalidIdentifierError",
    "UsageError",
    "ConversationClosedError",
    "InvalidArgumentsError",
    "AccessDeniedError",
    "ScopeDeniedError",
    "ResidencyError",
    "CredentialError",
    "CredentialNotFoundError",
    "MalformedCredentialError",
    "ReauthorizationRequiredError",
    "VaultError",
    "VaultUnavailableError",
    "VaultSealedError",
    "VaultTimeoutError",
    "VaultPermissionError",
    "VaultAuthError",
    "VaultConflictError",
    "VendorError",
    "VendorAuthError",
    "VendorNotFoundError",
    "VendorConflictError",
    "VendorRateLimitError",
    "VendorServerError",
    "VendorTimeoutError",
    "VendorConnectionError",
    "VendorPayloadError",
    "DeadlineExceededError",
]
