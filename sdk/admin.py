"""What an operator's tooling needs beyond the CLI: tenant key management and its reports.

``nexora-connect keys`` is built on these; use them to script rotation,
verification and rollback of a tenant's keys in Vault.
"""

from sdk._keys import (
    KeyAction,
    KeyOutcome,
    KeyReport,
    KeyStep,
    KeyVersion,
    KeyVersions,
    TenantKeys,
    build_credential,
    credential_from_json,
    read_secret_from,
)

__all__ = [
    "TenantKeys",
    "KeyReport",
    "KeyStep",
    "KeyAction",
    "KeyOutcome",
    "KeyVersion",
    "KeyVersions",
    "read_secret_from",
    "build_credential",
    "credential_from_json",
]
