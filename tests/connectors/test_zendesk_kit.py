"""The connector test kit's conformance battery, run against the Zendesk connector."""

from connectors.ticketing.zendesk import ZendeskConnector
from sdk.testing import connector_test_class
from tests.connectors.zendesk_cases import CASES, PAGINATION, SETTINGS, credential

TestZendeskConformance = connector_test_class(
    ZendeskConnector, cases=CASES, pagination=PAGINATION, credential=credential, settings=SETTINGS
)
