"""The connector test kit's conformance battery, run against the Chargebee connector."""

from connectors.billing.chargebee import ChargebeeConnector
from sdk.testing import connector_test_class
from tests.connectors.chargebee_cases import CASES, PAGINATION, SETTINGS, credential

TestChargebeeConformance = connector_test_class(
    ChargebeeConnector, cases=CASES, pagination=PAGINATION, credential=credential, settings=SETTINGS
)
