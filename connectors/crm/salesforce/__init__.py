"""Salesforce CRM: contacts, accounts and call notes (Tasks) over the REST API, with OAuth only."""

from connectors.crm.salesforce._connector import SalesforceConnector, SalesforceSettings

__all__ = ["SalesforceConnector", "SalesforceSettings"]
