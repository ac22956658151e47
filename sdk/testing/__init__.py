"""Test kit for connector authors (a pytest plugin; see :mod:`sdk.testing.plugin`)."""
