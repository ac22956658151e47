"""The connector test kit: one battery of conformance tests for any connector.

Shipped as a pytest plugin (entry point ``pytest11``); a connector's tests
declare their cases once and get every check::

    from sdk.testing import OperationCase, PaginationCase, connector_test_class

    TestAcmeConformance = connector_test_class(AcmeConnector, cases=[...], credential=...)

See :mod:`sdk.testing._kit` for what each case must provide. Needs the
``testing`` extra (pytest, pytest-asyncio, respx).
"""

from sdk.testing._credentials import MemoryCredentialSource, issued_canaries, make_canary
from sdk.testing._kit import ConnectorConformance, OperationCase, PaginationCase, connector_test_class
from sdk.testing._runtime import mock_runtime

__all__ = [
    "ConnectorConformance",
    "MemoryCredentialSource",
    "OperationCase",
    "PaginationCase",
    "connector_test_class",
    "issued_canaries",
    "make_canary",
    "mock_runtime",
]
