"""What a vendor's error answer may contribute to an SDK error: a short token, never an echo.

A connector's hooks read a request id and an error code out of the vendor's
error response. Whatever the vendor sent is untrusted (S3): a vendor, or a
proxy in front of it, may echo the credential, a path segment or a query value
straight back, and the error would then carry it into logs and audit records.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from collections.abc import Callable
from urllib.parse import unquote_plus

import httpx

from sdk._http._running import RunningCall

__all__ = ["presented_values", "safe_hook_value"]

_SAFE_VENDOR_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,95}")
_MIN_ECHO = 8


def safe_hook_value(
    hook: Callable[[httpx.Response], object], response: httpx.Response, echoes: frozenset[str]
) -> str | None:
    """Run a connector hook on an error response and keep its answer only if it is plainly safe.

    A hook bug must not mask the real error, so an exception counts as no
    answer. The value must be a short token of letters, digits and ``_ . : -``,
    and must not contain anything in ``echoes`` (:func:`presented_values`).
    """
    try:
        value = hook(response)
    except Exception:  # noqa: BLE001 - the vendor error is what the caller needs to see
        return None
    if not isinstance(value, str) or not _SAFE_VENDOR_TOKEN.fullmatch(value):
        return None
    folded = value.casefold()
    if any(echo in folded for echo in echoes):
        return None
    return value


def presented_values(request: httpx.Request, ctx: RunningCall | None) -> frozenset[str]:
    """Every value this request carried that a vendor's echo must not carry back into an error.

    Header values (with Basic credentials decoded), path segments, query values
    and the string values of a JSON or form body, case-folded; values shorter
    than eight characters are too common to tell apart from an id or an error code
    (``limit``, ``email``) and are left out.
    """
    found: set[str] = set()
    # The words of the declared paths and the auth schemes are the SDK's own, not presented values.
    own = {"bearer", "basic"}
    if ctx is not None:
        for endpoint in ctx.operation.endpoints:
            own.update(part.casefold() for part in endpoint.template.split("/"))

    def add(text: str) -> None:
        for part in re.split(r"[\s:=,;/&]+", text):
            if len(part) >= _MIN_ECHO and part.casefold() not in own:
                found.add(part.casefold())

    for name, value in request.headers.items():
        if name.lower() in ("host", "content-length", "content-type", "accept", "user-agent"):
            continue
        add(value)
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "basic":
            with contextlib.suppress(ValueError, binascii.Error):
                add(base64.b64decode(token, validate=True).decode("utf-8", "replace"))
    for segment in request.url.path.split("/"):
        add(segment)
    for _, value in request.url.params.multi_items():
        add(value)
    try:
        body = request.content
    except httpx.RequestNotRead:
        body = b""
    if body:
        add(unquote_plus(body.decode("utf-8", "replace")))
    return frozenset(found)
