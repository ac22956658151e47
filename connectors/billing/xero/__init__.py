"""Xero billing connector (see :mod:`connectors.billing.xero._connector`)."""

from connectors.billing.xero._connector import XeroConnector, XeroSettings

__all__ = ["XeroConnector", "XeroSettings"]
