"""Tenants' keys, administered: everything behind ``nexora-connect keys``.

The command line only parses arguments, reads the secret with
:func:`read_secret_from`, builds the credential (:func:`build_credential`,
:func:`credential_from_json`) and prints the :class:`KeyReport` that
:class:`TenantKeys` returns. One job per module:

- ``_reports``: what an operation reports (steps, outcome, versions), no I/O;
- ``_steps``: the steps operations are made of (check, write, restore, verify, audit);
- ``_tenant_keys``: :class:`TenantKeys`, which strings the steps into put, rotate,
  rollback, versions and verify;
- ``_secret_input``: reading a secret at a hidden prompt or from a pipe;
- ``_credential_input``: turning that secret into a credential, with vault's parser.
"""

from sdk._keys._credential_input import build_credential, credential_from_json
from sdk._keys._reports import KeyAction, KeyOutcome, KeyReport, KeyStep, KeyVersion, KeyVersions
from sdk._keys._secret_input import MAX_SECRET_CHARS, read_secret_from
from sdk._keys._tenant_keys import TenantKeys

__all__ = [
    "MAX_SECRET_CHARS",
    "KeyAction",
    "KeyOutcome",
    "KeyReport",
    "KeyStep",
    "KeyVersion",
    "KeyVersions",
    "TenantKeys",
    "build_credential",
    "credential_from_json",
    "read_secret_from",
]
