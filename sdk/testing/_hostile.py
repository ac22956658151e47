"""Hostile argument values: what a caller can make a language model put in a tool call.

Every value here has broken, or could break, a connector that builds its
requests by hand: path traversal in its encodings, header and query injection,
query-language injection, NUL and control characters, overlong and confusable
Unicode. The connector kit (:mod:`sdk.testing._kit`) and ``tests/security``
drive each of them into every string argument of every operation; the
independent path check below re-verifies, at the mock transport, what the
SDK's guard promises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import unquote

import httpx

from sdk._endpoints import METHOD_OVERRIDE_HEADERS, Endpoint

__all__ = ["HOSTILE_VALUES", "hostile_request_problem"]

HOSTILE_VALUES: Mapping[str, Sequence[str]] = {
    "traversal": (
        "..",
        ".",
        "../..",
        "../invoices",
        "..%2f",
        "%2e%2e",
        "%2E%2E",
        "%252e%252e",
        ".%2e",
        "%2e.",
        "\uff0e\uff0e",  # fullwidth full stops: '..' after NFKC
        "\u2024\u2024",  # one-dot leaders
        "..\\",
        "..;",
        "a/../b",
        "/",
        "a/b",
        "%2F",
        "%5C",
        " .. ",
    ),
    "empty": ("", " ", "\t"),
    "header-injection": (
        "a\r\nX-Injected: 1",
        "a\nX-HTTP-Method-Override: DELETE",
        "%0d%0aX-Injected:%201",
        "a\rb",
    ),
    "query-injection": ("a?limit=1000", "a&_method=DELETE", "a#fragment", "a%3F_method%3DDELETE", "*"),
    "query-language": (
        "' OR 1=1 --",
        '" OR email:*',
        "x') OR (Id != '",
        "\\",
        "\\' OR Name LIKE '%",
        "FIND {*} IN ALL FIELDS",
        'project != "X" OR project = "Y"',
        "a@example.test' OR '1'='1",
        "x@example.test\r\nBcc: other@example.test",
    ),
    "nul": ("a\x00b", "\x00", "%00"),
    "overlong": ("a" * 5000, "9" * 300),
    "confusable": ("\uff41\uff44\uff4d\uff49\uff4e", "\u202eabc", "\ufeff..", "\u200b", "e\u0301", "\u0130"),
}
"""Hostile values by attack class; the class names appear in test ids."""


def _segments(path: str) -> list[str]:
    return path.split("/")[1:]


def _plain(segment: str) -> bool:
    text = segment
    for _ in range(4):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text.strip() not in ("", ".", "..") and "/" not in text and "\\" not in text


def hostile_request_problem(
    request: httpx.Request, endpoints: Sequence[Endpoint], base_path: str = ""
) -> str | None:
    """Say what is wrong with a request that reached the transport, or None if nothing is.

    A second, independent implementation of the guard's check: the path must
    have the segment count and literal segments of one declared endpoint of
    the same method, every placeholder segment must be a plain value in every
    decoding, and no header may carry a line break, a NUL or a method override.
    """
    raw = request.url.raw_path.decode("ascii", "replace").partition("?")[0]
    if base_path:
        if not raw.startswith(base_path + "/"):
            return "the path left the integration's API root"
        raw = raw[len(base_path) :]
    sent = _segments(raw)
    fits = False
    for endpoint in endpoints:
        if endpoint.method != request.method:
            continue
        declared = _segments(endpoint.template)
        if len(declared) != len(sent):
            continue
        pairs = zip(declared, sent, strict=True)
        if all(_plain(got) if want.startswith("{") else got == want for want, got in pairs):
            fits = True
            break
    if not fits:
        return f"{request.method} to a path that is not a declared endpoint"
    for name, value in request.headers.items():
        if name.lower() in METHOD_OVERRIDE_HEADERS:
            return f"a method override header ({name})"
        if any(ch in value for ch in "\r\n\x00"):
            return f"a line break or NUL in header {name}"
    return None
