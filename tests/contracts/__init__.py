"""Contract tests: connector traffic checked against the vendors' OpenAPI documents."""
