"""Read-your-writes on a Vault cluster whose standby nodes answer reads: OpenBao's replication index.

An OpenBao (or Vault) cluster with integrated storage lets standby nodes serve
reads from their own copy of the data, which trails the active node by a
heartbeat: on loopback 55-110 ms after every write (tests/vault/test_ha_oauth.py
measures it). For most reads that is harmless; for the read of an OAuth refresh
token under the refresh lock it is not: a stale copy holds a refresh token
another replica has already spent, and sending it makes the vendor revoke the
whole token family.

Every answer carries ``X-Vault-Index``, the replication index the answering
node had reached. :class:`ReplicationState` keeps the newest one this client
has seen; a read that must not go back in time sends it back with
``X-Vault-Inconsistent: forward-active-node``, and a standby that has not
reached that index forwards the read to the active node instead of answering
from its stale copy. Because the index of the refresh lock's own
check-and-set write is newer than the previous holder's write-back, a read
made after taking the lock sees that write-back, whichever node serves it.

The index is opaque to clients by contract; it is parsed (base64 JSON with a
``cluster`` and a ``value``) only to keep the newest of several, and anything
that does not parse is ignored, so a server that sends none, or something
else, simply gets no consistency headers.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading

__all__ = ["INDEX_HEADER", "ReplicationState"]

INDEX_HEADER = "X-Vault-Index"
_INCONSISTENT_HEADER = "X-Vault-Inconsistent"
_FORWARD = "forward-active-node"
_MAX_HEADER = 1024  # a real index is ~90 characters; anything longer is not one


def _parse(header: str) -> tuple[str, int] | None:
    """Return the (cluster, index) a header names, or None if it is not an index this code knows."""
    if len(header) > _MAX_HEADER:
        return None
    try:
        decoded = json.loads(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(decoded, dict):
        return None
    cluster, value = decoded.get("cluster"), decoded.get("value")
    if not isinstance(cluster, str) or not isinstance(value, str | int) or isinstance(value, bool):
        return None
    try:
        index = int(value)
    except ValueError:
        return None
    return (cluster, index) if index >= 0 else None


class ReplicationState:
    """The newest replication index one client has seen from its Vault, safe to update from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._header: str | None = None
        self._parsed: tuple[str, int] | None = None

    def __repr__(self) -> str:
        return f"ReplicationState(index={self._parsed[1] if self._parsed else None})"

    @property
    def index(self) -> int | None:
        """The newest index seen, or None before any (for tests and diagnostics)."""
        parsed = self._parsed
        return parsed[1] if parsed else None

    def note(self, header: str | None) -> None:
        """Remember ``header`` (an ``X-Vault-Index`` value) if it is newer than the one kept."""
        if not header or header == self._header:
            return
        parsed = _parse(header)
        if parsed is None:
            return
        with self._lock:
            kept = self._parsed
            # A different cluster behind the same address (restored, or rebuilt) makes the old
            # index meaningless: the newest answer's cluster wins.
            if kept is None or kept[0] != parsed[0] or parsed[1] > kept[1]:
                self._header, self._parsed = header, parsed

    def headers(self) -> dict[str, str]:
        """The headers of a read that must see everything this client has seen; empty before any index."""
        header = self._header
        if header is None:
            return {}
        return {INDEX_HEADER: header, _INCONSISTENT_HEADER: _FORWARD}
