"""The connector test kit's conformance battery (hostile arguments included), run against Intercom."""

from connectors.crm.intercom import IntercomConnector
from sdk.testing import connector_test_class
from tests.connectors.intercom_cases import CASES, PAGINATION, SETTINGS, credential

TestIntercomConformance = connector_test_class(
    IntercomConnector, cases=CASES, pagination=PAGINATION, credential=credential, settings=SETTINGS
)
