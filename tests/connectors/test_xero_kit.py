"""The connector test kit's whole battery (hostile arguments included), run against the Xero connector.

The kit's integration holds a Xero custom connection (client credentials), so every scenario also
goes through the identity server; the integration names its organisation (``tenant_id``), so no
scenario needs ``GET /Connections`` (its resolution is tested in ``test_xero.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

from connectors.billing.xero import XeroConnector
from sdk.testing import connector_test_class
from tests.connectors import xero_cases as xc


@pytest.fixture(autouse=True)
def identity_server() -> Iterator[respx.Route]:
    with xc.kit_identity() as route:
        yield route


TestXeroConformance = connector_test_class(
    XeroConnector,
    cases=xc.KIT_CASES,
    pagination=xc.KIT_PAGINATION,
    credential=xc.client_credential,
    settings=xc.SETTINGS,
)
