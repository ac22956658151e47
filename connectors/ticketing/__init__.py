"""Shipped ticketing connectors (each subpackage is imported only when configured)."""
