"""Stripe billing connector (see :mod:`connectors.billing.stripe._connector`)."""

from connectors.billing.stripe._connector import StripeConnector, StripeSettings

__all__ = ["StripeConnector", "StripeSettings"]
