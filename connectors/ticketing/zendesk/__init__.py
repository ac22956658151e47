"""Zendesk Support: requesters, tickets and comments over the Ticketing API v2."""

from connectors.ticketing.zendesk._connector import ZendeskConnector, ZendeskSettings

__all__ = ["ZendeskConnector", "ZendeskSettings"]
