"""Chargebee (API v1): billing customers, balances, invoices and subscriptions."""

from connectors.billing.chargebee._connector import ChargebeeConnector, ChargebeeSettings

__all__ = ["ChargebeeConnector", "ChargebeeSettings"]
