"""Jira Service Management (Cloud): the caller's requests and comments."""

from connectors.ticketing.jsm._connector import JSMConnector, JSMSettings

__all__ = ["JSMConnector", "JSMSettings"]
