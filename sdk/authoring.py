"""What a connector author needs: base adapters, declarations, the HTTP API, pagination, registry.

Parse helpers for vendor payloads are in :mod:`sdk.parsing`, the query-language
escaping layer in :mod:`sdk.querylang`, and the connector test kit in
:mod:`sdk.testing`. The argument constraint types below are what the standard
operations accept; use them for an operation beyond a category's base set so
its tool schema, validation and errors behave like the standard ones.
"""

from sdk._categories import (
    BillingConnector,
    CRMConnector,
    Email,
    Limit,
    Phone,
    RecordId,
    Text,
    TicketingConnector,
)
from sdk._connector import Category, Connector, NoSettings, normalise_phone
from sdk._endpoints import Endpoint, graphql_query_only
from sdk._http import RateLimitState, VendorHttp
from sdk._models import coerce_enum
from sdk._operations import OperationSpec, endpoints, operation
from sdk._pagination import paginate
from sdk._parsing import Subdomain
from sdk._registry import ConnectorInfo, ConnectorRegistry, default_registry
from sdk._retry import (
    ATTEMPT_FLOOR,
    RetryPolicy,
    attempt_budget_base,
    attempt_seconds,
    attempt_share,
    attempt_whole,
    parse_retry_after,
)

__all__ = [
    "Connector",
    "CRMConnector",
    "TicketingConnector",
    "BillingConnector",
    "Category",
    "NoSettings",
    "operation",
    "endpoints",
    "Endpoint",
    "graphql_query_only",
    "OperationSpec",
    "VendorHttp",
    "RetryPolicy",
    "attempt_share",
    "attempt_seconds",
    "attempt_whole",
    "attempt_budget_base",
    "ATTEMPT_FLOOR",
    "RateLimitState",
    "parse_retry_after",
    "paginate",
    "normalise_phone",
    "ConnectorRegistry",
    "ConnectorInfo",
    "default_registry",
    "coerce_enum",
    "RecordId",
    "Phone",
    "Email",
    "Text",
    "Limit",
    "Subdomain",
]
