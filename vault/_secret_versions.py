"""What Vault keeps about each version of a KV v2 secret: numbers and times, never values.

Read from the secret's metadata (``read_versions``), so that key rotation can
say which versions exist and which can still be read without reading any of
them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime

from vault._answers import mapping_at

__all__ = ["SecretVersionInfo", "versions_from"]


@dataclasses.dataclass(frozen=True, slots=True)
class SecretVersionInfo:
    """What Vault knows about one version of a secret, without its value."""

    version: int
    created_time: datetime
    deletion_time: datetime | None
    destroyed: bool

    @property
    def readable(self) -> bool:
        """Whether the value of this version can still be read (it is neither deleted nor destroyed)."""
        return self.deletion_time is None and not self.destroyed


def versions_from(metadata: object) -> list[SecretVersionInfo] | None:
    """Every version a KV v2 metadata answer lists, oldest first; None if it is not shaped as one."""
    versions = mapping_at(mapping_at(metadata, "data"), "versions")
    try:
        infos = [_version_info(int(number), mapping_at(info)) for number, info in versions.items()]
    except (TypeError, ValueError):
        return None
    return sorted(infos, key=lambda info: info.version)


def _version_info(number: int, info: Mapping[str, object]) -> SecretVersionInfo:
    created = _parse_time(info.get("created_time"))
    if created is None:
        raise ValueError("version without created_time")
    return SecretVersionInfo(
        version=number,
        created_time=created,
        deletion_time=_parse_time(info.get("deletion_time")),
        destroyed=bool(info.get("destroyed", False)),
    )


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value)
