"""Shipped billing connectors (each subpackage is imported only when configured)."""
