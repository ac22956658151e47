"""The connector test kit's conformance battery, run against the Jira Service Management connector."""

from connectors.ticketing.jsm import JSMConnector
from sdk.testing import connector_test_class
from tests.connectors.jsm_cases import CASES, PAGINATION, SETTINGS, credential

TestJSMConformance = connector_test_class(
    JSMConnector, cases=CASES, pagination=PAGINATION, credential=credential, settings=SETTINGS
)
