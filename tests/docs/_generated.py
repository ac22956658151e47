"""Text the documentation must show exactly, generated from the code it documents.

The tests compare each page's marked block with these, so a page cannot drift from the code; the
functions can also print the text to paste when the code changes (``python -m tests.docs._generated``).
"""

from __future__ import annotations

import sdk
from vault import VaultSettings, tenant_policy_hcl

POLICY_ADDRESS = "https://vault.acme.internal:8200"


def exported_errors() -> list[type[sdk.NexoraError]]:
    """Every error class ``sdk`` exports, in the order they are defined."""
    found = [getattr(sdk, name) for name in sdk.__all__]
    errors = [item for item in found if isinstance(item, type) and issubclass(item, sdk.NexoraError)]
    return sorted(errors, key=lambda cls: _definition_order(cls))


def _definition_order(cls: type) -> int:
    module = __import__(cls.__module__, fromlist=["_"])
    return list(vars(module)).index(cls.__name__)


def error_tree() -> str:
    """The hierarchy as an ASCII tree, builtin bases noted: ``UsageError (also RuntimeError)``."""
    exported = exported_errors()

    def label(cls: type) -> str:
        builtins = [
            base.__name__ for base in cls.__bases__ if base.__module__ == "builtins" and base is not Exception
        ]
        return cls.__name__ + (f" (also {', '.join(builtins)})" if builtins else "")

    def children(cls: type) -> list[type]:
        return [sub for sub in exported if cls in sub.__bases__]

    lines = [label(sdk.NexoraError)]

    def walk(cls: type, prefix: str) -> None:
        kids = children(cls)
        for index, kid in enumerate(kids):
            last = index == len(kids) - 1
            lines.append(f"{prefix}{'└── ' if last else '├── '}{label(kid)}")
            walk(kid, prefix + ("    " if last else "│   "))

    walk(sdk.NexoraError, "")
    return "\n".join(lines) + "\n"


def policy(tenant: str, *, write: bool, mount: str = "secret", path_prefix: str = "nexora") -> str:
    settings = VaultSettings(address=POLICY_ADDRESS, mount=mount, path_prefix=path_prefix)
    return tenant_policy_hcl(tenant, settings, write=write)


if __name__ == "__main__":  # pragma: no cover - a helper for whoever updates the pages
    print(error_tree())
    print(policy("acme", write=False))
    print(policy("acme", write=True))
