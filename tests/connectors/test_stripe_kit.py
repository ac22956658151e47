"""The connector test kit's conformance battery, run against the Stripe connector."""

from connectors.billing.stripe import StripeConnector
from sdk.testing import connector_test_class
from tests.connectors.stripe_cases import CASES, PAGINATION, credential

TestStripeConformance = connector_test_class(
    StripeConnector, cases=CASES, pagination=PAGINATION, credential=credential, settings={}
)
