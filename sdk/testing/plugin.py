"""pytest plugin entry point of the connector test kit."""
