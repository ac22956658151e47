"""Intercom (API 2.14) as a CRM: contacts, companies, notes and a contact's recent conversations."""

from connectors.crm.intercom._connector import IntercomConnector, IntercomSettings

__all__ = ["IntercomConnector", "IntercomSettings"]
