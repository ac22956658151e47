"""Which layer each module belongs to; docs/architecture.md draws the same picture.

A module may import from its own layer and the ones below it. The rules are
prefixes, longest first, so a package and its modules share a layer unless a
module is named on its own.
"""

from __future__ import annotations

LAYERS: tuple[str, ...] = (
    "foundation",
    "http-credentials",
    "authoring",
    "dispatch",
    "call",
    "runtime",
    "admin-cli",
)

RULES: dict[str, str] = {
    # 0 foundation: vocabulary, no I/O
    "sdk._errors": "foundation",
    "sdk._ids": "foundation",
    "sdk._models": "foundation",
    "sdk._redaction": "foundation",
    "sdk._scopes": "foundation",
    "sdk._endpoints": "foundation",
    "sdk._urls": "foundation",
    "sdk._scrub": "foundation",
    "sdk._querylang": "foundation",
    "sdk._cache": "foundation",
    "sdk._validation": "foundation",
    "sdk._vendor_errors": "foundation",
    "sdk._deadline": "foundation",
    # 1 HTTP and credentials: vendors and Vault
    "sdk._http": "http-credentials",
    "sdk._http_spans": "http-credentials",
    "sdk._retry": "http-credentials",
    "sdk._auth": "http-credentials",
    "sdk._audit": "http-credentials",
    "sdk._telemetry": "http-credentials",
    "sdk._metrics": "http-credentials",
    "sdk._audit_otel": "http-credentials",
    "vault": "http-credentials",
    # 2 authoring: what connectors are made of
    "sdk._operations": "authoring",
    "sdk._connector": "authoring",
    "sdk._categories": "authoring",
    "sdk._pagination": "authoring",
    "sdk._registry": "authoring",
    "sdk._parsing": "authoring",
    "sdk.querylang": "authoring",
    # 3 dispatch: running one operation
    "sdk._context": "dispatch",
    "sdk._dispatch": "dispatch",
    # 4 call: what lives and dies with a call
    "sdk._call": "call",
    # 5 runtime: the facade a voice agent holds
    "sdk._config": "runtime",
    "sdk._runtime": "runtime",
    # 6 admin, CLI and the public facades
    "sdk._keys": "admin-cli",
    "sdk._cli": "admin-cli",
    "sdk.cli": "admin-cli",
    "sdk.demo": "admin-cli",
    "sdk._scaffold": "admin-cli",
    "sdk.testing": "admin-cli",
    "sdk.mcp_server": "admin-cli",
    "sdk.adapters": "admin-cli",
    "sdk.authoring": "admin-cli",
    "sdk.admin": "admin-cli",
    "sdk": "admin-cli",
    # connectors build on the public surface, like any third-party connector
    "connectors": "admin-cli",
}


def layer_of(module: str) -> str | None:
    """The layer of ``module`` by its longest matching rule, or None if no rule names it."""
    parts = module.split(".")
    while parts:
        found = RULES.get(".".join(parts))
        if found is not None:
            return found
        parts.pop()
    return None


def rank(layer: str) -> int:
    return LAYERS.index(layer)
