"""The connector test kit: one battery of conformance tests for any connector.

Shipped as a pytest plugin (entry point ``pytest11``); a connector's tests
declare their cases once and get every check::

    from sdk.testing import OperationCase, PaginationCase, connector_test_class

    TestAcmeConformance = connector_test_class(AcmeConnector, cases=[...], credential=...)

See :mod:`sdk.testing._kit` for what each case must provide. Also here: the
OpenAPI contract helper (:class:`VendorContract`, :func:`assert_calls_valid`),
writable in-memory credentials for OAuth connectors and a mock token endpoint.
Needs the ``testing`` extra (pytest, pytest-asyncio, respx, openapi-core).
"""

from sdk.testing._contract import VendorContract, only_path
from sdk.testing._contract_recorder import ContractRecorder, assert_calls_valid
from sdk.testing._credentials import (
    MemoryCredentialSource,
    WritableMemoryCredentialSource,
    issued_canaries,
    make_canary,
)
from sdk.testing._kit import ConnectorConformance, OperationCase, PaginationCase, connector_test_class
from sdk.testing._runtime import mock_runtime
from sdk.testing._token_endpoint import MockTokenEndpoint, mock_token_endpoint

__all__ = [
    "ConnectorConformance",
    "ContractRecorder",
    "MemoryCredentialSource",
    "MockTokenEndpoint",
    "OperationCase",
    "PaginationCase",
    "VendorContract",
    "WritableMemoryCredentialSource",
    "assert_calls_valid",
    "connector_test_class",
    "issued_canaries",
    "make_canary",
    "mock_runtime",
    "mock_token_endpoint",
    "only_path",
]
