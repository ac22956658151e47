"""The help texts of ``nexora-connect keys`` and its commands: summaries, notes, examples, exit codes.

Only words: docs/cli.md is generated from these, and the parsers are built
from them in :mod:`sdk._cli._keys`.
"""

from __future__ import annotations

from sdk._cli._base import EXIT_CHECK_FAILED, CommandDoc

__all__ = ["KEYS", "PUT", "ROLLBACK", "ROTATE", "VERIFY", "VERSIONS"]

_VAULT_NOTE = (
    "Works against the tenant's own Vault as the configuration names it; the Vault token needs the "
    "tenant's write policy (vault.tenant_policy_hcl(tenant, settings, write=True)) for put, rotate and "
    "rollback. When Vault denies, is sealed or is down, the one-line error says which, and nothing is "
    "written."
)
_INPUT_NOTE = (
    "The secret is read from standard input when it is piped in (all of it, less one trailing line "
    "break), or typed at a hidden prompt on a terminal. It is never taken from an argument: there is "
    "no such option. --type oauth2_refresh (two secrets) and --credential-json read the whole credential "
    'as a JSON object instead, e.g. {"type": "oauth2_refresh", "client_id": ..., '
    '"client_secret": ..., "refresh_token": ...}.'
)
_VAULT_FAILED = "Vault failed, denied, was sealed or down (nothing was written)"
_INTERRUPTED_WRITING = (
    "interrupted by a second Ctrl-C or SIGTERM during the Vault writes (check 'keys versions'), or by one "
    "before they started"
)
_KEYS_EXIT: dict[int, str | None] = {
    0: None,
    1: _VAULT_FAILED + ", or another writer won",
    2: "usage error, or a secret that is empty, has surrounding whitespace or control characters",
    3: "the key failed verification at the vendor",
    4: None,
    130: None,
}
_READ_EXIT: dict[int, str | None] = {0: None, 1: _VAULT_FAILED, 2: None, 4: None, 130: None}

KEYS = CommandDoc(
    path=("keys",),
    summary="store, rotate, list, roll back and verify a tenant's integration keys",
    description=(
        "Manage the credentials of a tenant's integrations in the tenant's Vault (KV version 2). Each "
        "write is a new version, made with check-and-set so that two writers can never both win. "
        "Secrets are read from stdin or a hidden prompt, never from the command line.\n\n" + _VAULT_NOTE
    ),
    exit_codes=_KEYS_EXIT,
)

PUT = CommandDoc(
    path=("keys", "put"),
    summary="store a key as the new current version (no verification)",
    description=(
        "Store a credential for TENANT's INTEGRATION as the new current version, without verifying it "
        "(the first key of a new integration, or a vendor that cannot verify). The write is conditional "
        "on the version current when it starts (or on --expect-version; 0: only if none exists), so a "
        "concurrent writer makes it fail instead of being overwritten. Prefer 'keys rotate' to replace "
        "a key in use.\n\n" + _INPUT_NOTE + "\n\n" + _VAULT_NOTE
    ),
    examples=(
        (
            "nexora-connect keys put --config nexora.toml --tenant acme --integration crm",
            "type the API key at a hidden prompt",
        ),
        (
            "vendor-cli print-token | "
            "nexora-connect keys put --config nexora.toml --tenant acme --integration crm",
            "pipe it in",
        ),
        (
            "nexora-connect keys put --config nexora.toml --tenant acme --integration desk --type basic "
            "--username agent@acme.example < password.txt",
            "a user name and password",
        ),
    ),
    exit_codes={**{c: t for c, t in _KEYS_EXIT.items() if c != EXIT_CHECK_FAILED}, 130: _INTERRUPTED_WRITING},
)

ROTATE = CommandDoc(
    path=("keys", "rotate"),
    summary="write a new key, verify it at the vendor, roll back automatically if it fails",
    description=(
        "Replace the current key without a failed call: write the new key as version N+1 with "
        "check-and-set on N, verify it with the connector's verify() (one cheap read at the vendor), "
        "and if that fails, make the previous key current again as version N+2. Each step is "
        "reported as it was done: written vN, verified or failed, rolled back to vM. Calls in flight "
        "meanwhile re-read Vault on a 401 and succeed.\n\n"
        "Ctrl-C and SIGTERM wait until the Vault writes are done, so that the key is never left "
        "unverified; a second one aborts at once.\n\n" + _INPUT_NOTE + "\n\n" + _VAULT_NOTE
    ),
    examples=(
        (
            "nexora-connect keys rotate --config nexora.toml --tenant acme --integration crm < new-key.txt",
            "rotate to the key in new-key.txt",
        ),
        (
            "nexora-connect keys rotate --config nexora.toml --tenant acme --integration crm --json",
            "type it at the prompt; print the report as JSON",
        ),
    ),
    exit_codes={
        **_KEYS_EXIT,
        3: "the new key failed verification; the previous key is current again (or, if it could not be "
        "restored, the report says so)",
        1: "Vault failed, denied, was sealed or down, another writer won, or the rollback failed (the "
        "report says what is current)",
        130: _INTERRUPTED_WRITING,
    },
)

VERSIONS = CommandDoc(
    path=("keys", "versions"),
    summary="list the versions Vault keeps of a key (metadata only, never values)",
    description=(
        "List every version Vault keeps of TENANT's INTEGRATION credential: number, creation time, state "
        "(readable, deleted, destroyed) and which one is current. Values are never read.\n\n" + _VAULT_NOTE
    ),
    examples=(
        ("nexora-connect keys versions --config nexora.toml --tenant acme --integration crm", "a table"),
    ),
    exit_codes=_READ_EXIT,
)

ROLLBACK = CommandDoc(
    path=("keys", "rollback"),
    summary="make an earlier version current again, then verify it",
    description=(
        "Make the value of version N current again, by writing it as a new version with check-and-set "
        "on the current one, then verify it at the vendor. Rolling back to the version that is already "
        "current writes nothing and only verifies it. See 'keys versions' for the numbers.\n\n"
        "Ctrl-C and SIGTERM wait until the Vault write is done; a second one aborts at once.\n\n"
        + _VAULT_NOTE
    ),
    examples=(
        (
            "nexora-connect keys rollback --config nexora.toml --tenant acme --integration crm --to 3",
            "version 3's key becomes current again",
        ),
    ),
    exit_codes={
        **_KEYS_EXIT,
        2: None,
        3: "the restored key failed verification at the vendor (it stays current)",
        130: _INTERRUPTED_WRITING,
    },
)

VERIFY = CommandDoc(
    path=("keys", "verify"),
    summary="check the current key at the vendor",
    description=(
        "Check TENANT's INTEGRATION's current key against the vendor with the connector's verify(): one "
        "cheap, read-only, audited request.\n\n" + _VAULT_NOTE
    ),
    examples=(
        ("nexora-connect keys verify --config nexora.toml --tenant acme --integration crm", "ok, or why not"),
    ),
    exit_codes={**_READ_EXIT, 3: "the vendor rejected the key, or could not be asked"},
)
