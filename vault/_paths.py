"""Where a tenant's credentials live in Vault, and the policy that fences them in.

Layout, inside the KV version 2 engine mounted at ``settings.mount``::

    {path_prefix}/tenants/{tenant}/integrations/{integration}
    {path_prefix}/tenants/{tenant}/refresh-locks/{integration}

so the API paths are ``{mount}/data/{path}`` (values) and
``{mount}/metadata/{path}`` (versions). One secret per integration keeps a
rotation to a single check-and-set write, and putting the tenant id right after
a fixed ``tenants/`` segment lets one policy per tenant match exactly that
tenant's subtree (S2). Ids are validated, never escaped: an id that would need
escaping is refused.

The ``refresh-locks`` secrets hold no secret at all: each is the lease lock that
serialises OAuth refresh-token grants of one integration across processes (see
:mod:`vault._lease`). They sit beside ``integrations``, not below it, so that the
one-segment ``+`` of the credential policy cannot reach them and a lock can be
granted (write) without granting write on anything else.
"""

from __future__ import annotations

from sdk._ids import validate_id
from vault._settings import VaultSettings

__all__ = ["credential_path", "refresh_lock_path", "tenant_policy_hcl"]


def _prefix_of(settings_or_prefix: VaultSettings | str) -> str:
    if isinstance(settings_or_prefix, VaultSettings):
        return settings_or_prefix.path_prefix
    # A bare prefix has not been through VaultSettings' validation; route it
    # through it so that both spellings obey the same rule.
    return VaultSettings(address="http://127.0.0.1", path_prefix=settings_or_prefix).path_prefix


def _tenant_root(prefix: str, tenant: str) -> str:
    tenant = validate_id(tenant, kind="tenant id")
    return f"{prefix}/tenants/{tenant}" if prefix else f"tenants/{tenant}"


def credential_path(settings_or_prefix: VaultSettings | str, tenant: str, integration: str) -> str:
    """Return the KV v2 secret path (relative to the mount) of one integration's credential.

    Raises :class:`~sdk._errors.InvalidIdentifierError` for an id that could
    change the meaning of the path, before anything is sent to Vault.
    """
    root = _tenant_root(_prefix_of(settings_or_prefix), tenant)
    return f"{root}/integrations/{validate_id(integration, kind='integration id')}"


def refresh_lock_path(settings_or_prefix: VaultSettings | str, tenant: str, integration: str) -> str:
    """Return the KV v2 secret path of the lease lock guarding one integration's OAuth refreshes.

    Raises :class:`~sdk._errors.InvalidIdentifierError` for an id that could
    change the meaning of the path, before anything is sent to Vault.
    """
    root = _tenant_root(_prefix_of(settings_or_prefix), tenant)
    return f"{root}/refresh-locks/{validate_id(integration, kind='integration id')}"


def tenant_policy_hcl(tenant: str, settings: VaultSettings, *, write: bool = False) -> str:
    """Return a Vault policy that reaches one tenant's credentials and nothing else.

    Grants ``read`` on the values and the version metadata of every integration
    of ``tenant``; with ``write=True`` also ``create`` and ``update`` on the
    values, which key rotation and OAuth refresh write-back need, and the same
    on the tenant's refresh locks (:func:`refresh_lock_path`), which a process
    must take before it spends a single-use refresh token. The ``+`` wildcard
    matches exactly one path segment, so neither another tenant's subtree nor
    anything nested below an integration is covered.
    """
    root = _tenant_root(settings.path_prefix, tenant)
    data_capabilities = '["read", "create", "update"]' if write else '["read"]'
    policy = (
        f"# Nexora Connect: credentials of tenant {tenant} only.\n"
        f'path "{settings.mount}/data/{root}/integrations/+" {{\n'
        f"  capabilities = {data_capabilities}\n"
        "}\n"
        "\n"
        f'path "{settings.mount}/metadata/{root}/integrations/+" {{\n'
        '  capabilities = ["read"]\n'
        "}\n"
    )
    if write:
        # Metadata read: a process waiting for a lock judges its age by the
        # version's created_time, i.e. by Vault's clock rather than its own.
        policy += (
            "\n"
            f'path "{settings.mount}/data/{root}/refresh-locks/+" {{\n'
            '  capabilities = ["read", "create", "update"]\n'
            "}\n"
            "\n"
            f'path "{settings.mount}/metadata/{root}/refresh-locks/+" {{\n'
            '  capabilities = ["read"]\n'
            "}\n"
        )
    return policy
