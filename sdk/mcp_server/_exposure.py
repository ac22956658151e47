"""Who may reach the MCP HTTP server: loopback by default; anything else needs TLS and a token.

A server bound to a loopback address (``127.0.0.0/8``, ``::1``, ``localhost``)
is reachable only from the same machine, like stdio. Any other address puts a
caller's CRM, ticketing and billing records on a network, so it is refused
unless the server has a certificate and key (TLS) and a bearer token. The
token comes from an environment variable or a file, never from the command
line, where every user of the machine can read it in the process list; it is
compared in constant time, and its SHA-256 rather than the text itself, so
that not even its length leaks through timing.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import stat
from pathlib import Path
from typing import NoReturn

from sdk._errors import ConfigurationError, UsageError

__all__ = ["MIN_TOKEN_CHARS", "BearerToken", "check_exposure", "is_loopback", "load_token"]

MIN_TOKEN_CHARS = 32
"""A shorter token is refused: 32 random characters are out of reach of guessing over HTTP."""


class BearerToken:
    """A bearer token that never shows itself: no repr, no str, compared in constant time."""

    __slots__ = ("_digest",)

    def __init__(self, text: str) -> None:
        if len(text) < MIN_TOKEN_CHARS or any(char.isspace() for char in text):
            raise ConfigurationError(
                f"The MCP bearer token must be at least {MIN_TOKEN_CHARS} characters with no spaces; "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'."
            )
        self._digest = hashlib.sha256(text.encode()).digest()

    def matches(self, presented: str) -> bool:
        """True if ``presented`` is the token; the time taken does not depend on how much matches."""
        return hmac.compare_digest(hashlib.sha256(presented.encode()).digest(), self._digest)

    def __repr__(self) -> str:
        return "BearerToken(<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise UsageError("A bearer token cannot be pickled.")


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_token(*, env: str | None = None, file: str | Path | None = None) -> BearerToken | None:
    """The token from the environment variable ``env`` or the file ``file`` (one of them), or None.

    A file readable by other users than its owner is refused, as SSH refuses
    such a key: anyone who can read it can reach every record the server can.
    """
    if env is not None and file is not None:
        raise UsageError("Give the MCP bearer token by environment variable or by file, not both.")
    if env is not None:
        text = os.environ.get(env)
        if not text:
            raise ConfigurationError(
                f"The environment variable {env} that should hold the MCP token is empty."
            )
        return BearerToken(text.strip())
    if file is not None:
        path = Path(file)
        try:
            mode = path.stat().st_mode
            if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise ConfigurationError(
                    f"The MCP token file {path} can be read by other users; run: chmod 600 {path}."
                )
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(
                f"The MCP token file {path} cannot be read ({exc.strerror or type(exc).__name__})."
            ) from None
        return BearerToken(text.strip())
    return None


def check_exposure(
    host: str, *, token: BearerToken | None, certfile: str | Path | None, keyfile: str | Path | None
) -> None:
    """Refuse a bind address other than loopback unless the server has TLS and a token."""
    if (certfile is None) != (keyfile is None):
        raise UsageError("Give both a TLS certificate and its key, or neither.")
    if is_loopback(host):
        return
    missing = [
        what
        for what, given in (("TLS (a certificate and key)", certfile), ("a bearer token", token))
        if given is None
    ]
    if missing:
        raise UsageError(
            f"Serving MCP on {host}, which is not a loopback address, needs {' and '.join(missing)}: "
            "the tools reach customers' records, so a network must not reach them unencrypted or "
            "unauthenticated. Bind to 127.0.0.1, or give the certificate, key and token."
        )
