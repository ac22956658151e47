"""Request URLs built from parts that are already encoded, without httpx parsing them again.

httpx validates and re-encodes every URL string it is given, one character at
a time in Python; a HubSpot read carries a ~400-character ``properties`` query,
and that check alone cost more than the rest of the request's bookkeeping.
Here the API root is parsed by httpx once per integration, and each request's
URL is that parse with the path and query replaced. It is taken only when the
path and query are already in the exact form httpx's parser would give them
(fully percent-encoded, no dot segments); anything else goes through
``httpx.URL`` as before. The result is an ordinary ``httpx.URL``: the scope
guard, the transports and respx see what they always saw.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote_plus

import httpx

__all__ = ["ApiRoot", "encode_query"]

# Characters httpx's ``quote`` leaves as they are in a path / a query; a '%' only as '%XX' (checked
# apart: one character class is several times faster to match than an alternation per character).
_PATH_FORM: Final = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*")
_QUERY_FORM: Final = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")
_LONE_PERCENT: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
# What ``urllib.parse.quote_plus`` returns unchanged.
_PLAIN: Final = re.compile(r"[A-Za-z0-9_.~-]*")


def _as_text(value: Any) -> str:
    """httpx's ``primitive_value_to_str``: JSON-style booleans, ``None`` as empty."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def _grouped(params: Mapping[Any, Any] | Sequence[tuple[Any, Any]]) -> dict[str, list[str]]:
    """``httpx.QueryParams``'s own reading: values grouped by key, in the order keys first appear."""
    grouped: dict[Any, list[Any]] = {}
    if isinstance(params, Mapping):
        grouped = {k: list(v) if isinstance(v, list | tuple) else [v] for k, v in params.items()}
    else:
        for item in params:
            grouped.setdefault(item[0], []).append(item[1])
    return {str(k): [_as_text(item) for item in v] for k, v in grouped.items()}


def encode_query(params: Mapping[Any, Any] | Sequence[tuple[Any, Any]]) -> str:
    """The query string ``str(httpx.QueryParams(params))`` gives, without building the QueryParams.

    Values are grouped by key as httpx groups them, and keys and values encoded as
    ``urllib.parse.urlencode`` does (``quote_plus``). ``tests/sdk/test_request_url.py``
    holds it equal to httpx's own encoding over hostile input; anything but a mapping or
    a sequence of pairs is left to httpx.
    """
    if not isinstance(params, Mapping | list | tuple):
        return str(httpx.QueryParams(params))  # type: ignore[arg-type]  # whatever httpx accepts
    if isinstance(params, list | tuple):
        plain = _plain_pairs(params)
        if plain is not None:
            return plain
    grouped = _grouped(params)
    if _PLAIN.fullmatch("".join(grouped) + "".join("".join(texts) for texts in grouped.values())):
        # Nothing to encode (the common case: ids, names, numbers): one check instead of one a part.
        return "&".join(f"{key}={text}" for key, texts in grouped.items() for text in texts)
    parts: list[str] = []
    for key, texts in grouped.items():
        name = key if _PLAIN.fullmatch(key) else quote_plus(key)
        for text in texts:
            parts.append(f"{name}={text if _PLAIN.fullmatch(text) else quote_plus(text)}")
    return "&".join(parts)


def _plain_pairs(params: Sequence[tuple[Any, Any]]) -> str | None:
    """The query of string pairs whose keys come in runs and need no escaping; None otherwise.

    Grouping by key (what httpx does) leaves such a list in its order, so it is joined as is.
    """
    seen: set[str] = set()
    previous = None
    for item in params:
        if len(item) != 2 or type(item[0]) is not str or type(item[1]) is not str:
            return None
        key = item[0]
        if key != previous:
            if key in seen:
                return None
            seen.add(key)
            previous = key
    if not _PLAIN.fullmatch("".join(key + value for key, value in params)):
        return None
    return "&".join(f"{key}={value}" for key, value in params)


class ApiRoot:
    """An integration's API root, parsed once; :meth:`url` makes each request's URL from it."""

    __slots__ = ("_reference", "path", "text")

    def __init__(self, base_url: str) -> None:
        parsed = httpx.URL(base_url.rstrip("/"))
        self._reference = parsed._uri_reference
        self.text = str(parsed)
        self.path = parsed.raw_path.decode("ascii").partition("?")[0].rstrip("/")

    def url(self, path: str, query: str | None = None) -> httpx.URL:
        """The URL of ``path`` (relative to the root, starting with '/') with ``query``, encoded as given.

        Equal to ``httpx.URL(root + path + "?" + query)`` in every case: parts that are
        not already in httpx's canonical form are parsed by httpx.
        """
        if (
            _canonical(path, _PATH_FORM)
            and not _has_dot_segment(path)
            and (query is None or _canonical(query, _QUERY_FORM))
        ):
            url = httpx.URL.__new__(httpx.URL)
            url._uri_reference = self._reference._replace(path=self.path + path, query=query, fragment=None)
            return url
        return httpx.URL(self.text + path + ("" if query is None else "?" + query))


def _canonical(part: str, form: re.Pattern[str]) -> bool:
    return form.fullmatch(part) is not None and ("%" not in part or _LONE_PERCENT.search(part) is None)


def _has_dot_segment(path: str) -> bool:
    if "." not in path:
        return False
    return any(segment in (".", "..") for segment in path.split("/"))
