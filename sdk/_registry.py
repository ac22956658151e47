"""The connector registry: discovered through entry points, imported only when used.

Shipped connectors register exactly as third-party ones do, under the
``nexora_connect.connectors`` entry-point group::

    [project.entry-points."nexora_connect.connectors"]
    hubspot = "connectors.crm.hubspot:HubSpotConnector"

Listing names reads package metadata only; a connector's module is imported
the first time it is loaded, so ``import sdk`` never imports vendor code.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from sdk._connector import Connector
from sdk._errors import UnknownConnectorError

__all__ = ["ENTRY_POINT_GROUP", "ConnectorInfo", "ConnectorRegistry", "default_registry"]

ENTRY_POINT_GROUP = "nexora_connect.connectors"


@dataclass(frozen=True, slots=True)
class ConnectorInfo:
    """What an operator sees in ``connectors list``."""

    name: str
    display_name: str
    category: str
    operations: dict[str, str]
    """Implemented operation name -> declared scope."""
    source: str


class ConnectorRegistry:
    """Maps connector names to classes, loading entry points lazily."""

    def __init__(self, *, discover: bool = True) -> None:
        self._entry_points: dict[str, EntryPoint] = {}
        self._loaded: dict[str, type[Connector]] = {}
        if discover:
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                self._entry_points.setdefault(ep.name, ep)

    def register(self, connector: type[Connector], *, name: str | None = None) -> None:
        """Register a class directly (tests, applications embedding their own connector)."""
        if not (isinstance(connector, type) and issubclass(connector, Connector)):
            raise TypeError("register() takes a Connector subclass")
        self._loaded[name or connector.name] = connector

    def names(self) -> list[str]:
        return sorted(set(self._entry_points) | set(self._loaded))

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in self._entry_points

    def load(self, name: str) -> type[Connector]:
        found = self._loaded.get(name)
        if found is not None:
            return found
        ep = self._entry_points.get(name)
        if ep is None:
            known = ", ".join(self.names()) or "none"
            raise UnknownConnectorError(f"no connector named {name!r} is installed (installed: {known})")
        problem: str | None = None
        try:
            cls = ep.load()
        except (ImportError, AttributeError) as exc:
            problem = (
                f"connector {name!r} is installed but cannot be loaded from {ep.value} ({type(exc).__name__})"
            )
        if problem is not None:
            raise UnknownConnectorError(problem + "; reinstall the package that provides it")
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            raise UnknownConnectorError(f"entry point {name!r} ({ep.value}) is not a Connector subclass")
        self._loaded[name] = cls
        return cls

    def describe(self, name: str) -> ConnectorInfo:
        cls = self.load(name)
        ep = self._entry_points.get(name)
        return ConnectorInfo(
            name=name,
            display_name=cls.display_name or name,
            category=str(cls.category),
            operations={op: str(spec.scope) for op, spec in cls.implemented_operations().items()},
            source=ep.value if ep is not None else f"{cls.__module__}:{cls.__qualname__}",
        )

    def describe_all(self) -> list[ConnectorInfo]:
        return [self.describe(name) for name in self.names()]


_default: ConnectorRegistry | None = None


def default_registry() -> ConnectorRegistry:
    """The process-wide registry of installed connectors (discovered once)."""
    global _default
    if _default is None:
        _default = ConnectorRegistry()
    return _default
