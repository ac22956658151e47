"""Every shipped connector, with the kit cases that say how to answer each of its operations.

The security suite reuses the connector kit's declarations (connector, cases,
credential, settings) rather than a second set of fixtures, so a connector
added to the kit is attacked here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from connectors.billing.chargebee import ChargebeeConnector
from connectors.billing.stripe import StripeConnector
from connectors.billing.xero import XeroConnector
from connectors.crm.hubspot import HubSpotConnector
from connectors.crm.intercom import IntercomConnector
from connectors.crm.salesforce import SalesforceConnector
from connectors.ticketing.jsm import JSMConnector
from connectors.ticketing.zendesk import ZendeskConnector
from sdk.authoring import Connector
from sdk.testing import OperationCase
from tests.connectors import (
    chargebee_cases,
    hubspot_cases,
    intercom_cases,
    jsm_cases,
    salesforce_cases,
    stripe_cases,
    xero_cases,
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
    login_server: Callable[[], AbstractContextManager[Any]] | None = None
    """The vendor's token endpoint, mocked for the connector's OAuth credential, where it has one."""

    @property
    def name(self) -> str:
        return self.connector.name


TARGETS = [
    Target(HubSpotConnector, hubspot_cases.KIT_CASES, hubspot_cases.credential),
    Target(
        SalesforceConnector,
        salesforce_cases.KIT_CASES,
        salesforce_cases.kit_credential,
        login_server=salesforce_cases.kit_login,
    ),
    Target(ZendeskConnector, zendesk_cases.CASES, zendesk_cases.credential, zendesk_cases.SETTINGS),
    Target(JSMConnector, jsm_cases.CASES, jsm_cases.credential, jsm_cases.SETTINGS),
    Target(StripeConnector, stripe_cases.CASES, stripe_cases.credential),
    Target(ChargebeeConnector, chargebee_cases.CASES, chargebee_cases.credential, chargebee_cases.SETTINGS),
    Target(IntercomConnector, intercom_cases.CASES, intercom_cases.credential, intercom_cases.SETTINGS),
    Target(
        XeroConnector,
        xero_cases.KIT_CASES,
        xero_cases.client_credential,
        xero_cases.SETTINGS,
        login_server=xero_cases.kit_identity,
    ),
]
