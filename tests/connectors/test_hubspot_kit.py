"""The connector test kit's conformance battery, run against the HubSpot connector."""

from connectors.crm.hubspot import HubSpotConnector
from sdk.testing import connector_test_class
from tests.connectors.hubspot_cases import KIT_CASES, KIT_PAGINATION, credential

TestHubSpotConformance = connector_test_class(
    HubSpotConnector, cases=KIT_CASES, pagination=KIT_PAGINATION, credential=credential
)
