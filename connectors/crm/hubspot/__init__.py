"""HubSpot CRM: contacts, companies and notes over the CRM v3 objects API."""

from connectors.crm.hubspot._connector import HubSpotConnector

__all__ = ["HubSpotConnector"]
