"""Every shipped connector, with the kit cases that say how to answer each of its operations.

The security suite reuses the connector kit's declarations (connector, cases,
credential, settings) rather than a second set of fixtures, so a connector
added to the kit is attacked here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.billing.chargebee import ChargebeeConnector
from connectors.billing.stripe import StripeConnector
from connectors.crm.hubspot import HubSpotConnector
from connectors.crm.salesforce import SalesforceConnector
from connectors.ticketing.jsm import JSMConnector
from connectors.ticketing.zendesk import ZendeskConnector
from sdk import Connector
from sdk.testing import OperationCase
from tests.connectors import (
    chargebee_cases,
    hubspot_cases,
    jsm_cases,
    salesforce_cases,
    stripe_cases,
    zendesk_cases,
)
from vault import Credential


@dataclass(frozen=True)
class Target:
    """One connector as the suite attacks it."""

    connector: type[Connector]
    cases: Sequence[OperationCase]
    credential: Callable[[str], Credential]
    settings: Mapping[str, Any] = field(default_factory=dict)
    needs_login_server: bool = False

    @property
    def name(self) -> str:
        return self.connector.name


TARGETS = [
    Target(HubSpotConnector, hubspot_cases.KIT_CASES, hubspot_cases.credential),
    Target(
        SalesforceConnector,
        salesforce_cases.KIT_CASES,
        salesforce_cases.kit_credential,
        needs_login_server=True,
    ),
    Target(ZendeskConnector, zendesk_cases.CASES, zendesk_cases.credential, zendesk_cases.SETTINGS),
    Target(JSMConnector, jsm_cases.CASES, jsm_cases.credential, jsm_cases.SETTINGS),
    Target(StripeConnector, stripe_cases.CASES, stripe_cases.credential),
    Target(ChargebeeConnector, chargebee_cases.CASES, chargebee_cases.credential, chargebee_cases.SETTINGS),
]
