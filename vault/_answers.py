"""Reading hvac's answers: mappings that may be missing, and redirects that are not followed."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from sdk._errors import VaultError, VaultUnavailableError
from vault._settings import VaultSettings

__all__ = ["is_redirect", "mapping_at", "redirect_error", "vault_name"]


def vault_name(settings: VaultSettings) -> str:
    """The Vault as error messages name it: its address, and the namespace if there is one."""
    namespace = settings.namespace
    return f"{settings.address} (namespace {namespace!r})" if namespace else settings.address


def is_redirect(result: object) -> bool:
    """Whether hvac handed back a 3xx answer (it does not follow them: see VaultClient.__init__).

    Asked after every call made through the client's executor, hvac's or not;
    without ``requests`` loaded (no hvac call was made yet) nothing can be a
    ``requests.Response``, so this never imports it.
    """
    requests = sys.modules.get("requests")
    return requests is not None and isinstance(result, requests.Response) and 300 <= result.status_code < 400


def mapping_at(value: object, key: str | None = None) -> Mapping[str, object]:
    """Return ``value[key]`` (or ``value``) if it is a mapping, else an empty one."""
    if key is not None:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def redirect_error(name: str, what: str, status: int) -> VaultError:
    """The error for a redirect from the Vault ``name`` answering a request about ``what``.

    Unavailable (retried within ``failover_wait``), not a plain error: standbys of
    an OpenBao 2.7 Raft cluster answer 307 for a few seconds after a new active
    node is elected, until their request forwarding to it is set up (measured
    in tests/vault/test_ha_standbys.py). A standby that never forwards keeps
    answering 307, and the message says how to fix that.
    """
    return VaultUnavailableError(
        f"Vault at {name} answered the request for {what} with a redirect "
        f"(HTTP {status}) to another node, typically a standby that does not forward requests to the "
        "active node. Redirects are not followed, since that would send the Vault token to whatever "
        "address the answer names: point this tenant's Vault address at the active node or at the "
        "cluster's load balancer"
    )
