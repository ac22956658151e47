"""Shipped crm connectors (each subpackage is imported only when configured)."""
