"""Connectors shipped with Nexora Connect, one subpackage each, grouped by category."""
