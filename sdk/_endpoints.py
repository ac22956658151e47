"""Declared endpoints: the only requests an operation may send (S1), and the SDK-filled paths.

An operation declares its endpoints as ``"METHOD /path/{placeholder}"``
strings. Two things follow from that declaration, both by construction:

* **Filling.** A connector passes the template and the values
  (``self.http.json("GET", "/v1/customers/{customer_id}", path_params={...})``);
  the SDK turns each value into exactly one fully percent-encoded segment and
  refuses, before anything is sent, a value that is empty, ``.`` or ``..`` in
  any encoding or Unicode form, or that would decode to a separator or a
  control character. A caller steering a tool argument to ``..`` cannot walk
  out of the customer's own path.
* **Matching.** Just before a request leaves, the transport matches its final
  method and encoded path (after every normalisation httpx applied) against the
  running operation's endpoints; a placeholder matches one segment and that
  segment must pass the same check. Nothing else is a wildcard.

A read operation may declare ``POST`` endpoints (search APIs that take their
query in a body). One whose path looks like a GraphQL endpoint must say how its
body is checked to be a query: ``Endpoint("POST", "/graphql", body_check=graphql_query_only)``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from sdk._errors import ConfigurationError, InvalidArgumentsError

__all__ = [
    "Endpoint",
    "METHOD_OVERRIDE_HEADERS",
    "METHOD_OVERRIDE_PARAMS",
    "encode_segment",
    "graphql_query_only",
    "method_override_in",
    "parse_endpoints",
    "segment_is_safe",
]

_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_LITERAL_SEGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@-]+")
# Unreserved ASCII only: nothing to decode or fold, so only "." and ".." of these are unsafe.
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")
MAX_SEGMENT_LENGTH = 1024

METHOD_OVERRIDE_HEADERS = frozenset({"x-http-method-override", "x-http-method", "x-method-override"})
"""Headers some frameworks read as "treat this POST as another method"; never sent by the SDK."""
METHOD_OVERRIDE_PARAMS = frozenset({"_method", "_httpmethod", "x-http-method-override"})
"""Query parameters with the same effect (Rails, Salesforce's ``_HttpMethod``); case-insensitive."""

BodyCheck = Callable[[bytes], bool]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One request an operation may send: a method and a path template.

    ``body_check`` is called with the request body just before sending and must
    return True; a read over POST to a GraphQL-style path must have one.
    """

    method: str
    template: str
    body_check: BodyCheck | None = field(default=None, compare=False)
    placeholders: tuple[str, ...] = field(init=False, compare=False)
    _regex: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        method = self.method.upper() if isinstance(self.method, str) else ""
        if method not in _METHODS:
            raise ConfigurationError(f"endpoint method {self.method!r} is not one of {sorted(_METHODS)}")
        object.__setattr__(self, "method", method)
        template = self.template
        if (
            not isinstance(template, str)
            or not template.startswith("/")
            or "?" in template
            or "#" in template
        ):
            raise ConfigurationError(
                f"endpoint path {template!r} must start with '/' and carry no query or fragment"
            )
        names: list[str] = []
        pattern: list[str] = []
        for segment in template.split("/")[1:]:
            whole = _PLACEHOLDER.fullmatch(segment)
            if whole is not None:
                if whole.group(1) in names:
                    raise ConfigurationError(
                        f"endpoint {template!r} repeats placeholder {{{whole.group(1)}}}"
                    )
                names.append(whole.group(1))
                pattern.append("([^/]+)")
            elif "{" in segment or "}" in segment:
                raise ConfigurationError(
                    f"endpoint {template!r}: a placeholder must be a whole path segment, like /{{id}}/"
                )
            elif segment in (".", "..") or (segment and not _LITERAL_SEGMENT.fullmatch(segment)):
                raise ConfigurationError(f"endpoint {template!r} has an invalid literal segment {segment!r}")
            else:
                pattern.append(re.escape(segment))
        object.__setattr__(self, "placeholders", tuple(names))
        object.__setattr__(self, "_regex", re.compile("/" + "/".join(pattern)))

    @classmethod
    def parse(cls, text: str | Endpoint) -> Endpoint:
        """Read ``"GET /v1/customers/{customer_id}"`` (or pass an Endpoint through)."""
        if isinstance(text, Endpoint):
            return text
        method, _, template = text.strip().partition(" ")
        if not template:
            raise ConfigurationError(
                f"endpoint {text!r} must read 'METHOD /path', e.g. 'GET /v1/customers/{{id}}'"
            )
        return cls(method, template.strip())

    @property
    def is_read(self) -> bool:
        return self.method in READ_METHODS

    def fill(self, values: Mapping[str, object], *, operation: str) -> str:
        """The path with every placeholder replaced by one encoded segment; refuses unsafe values."""
        missing = [name for name in self.placeholders if name not in values]
        extra = [name for name in values if name not in self.placeholders]
        if missing or extra:
            raise ConfigurationError(
                f"{operation}: path {self.template!r} needs exactly the values {list(self.placeholders)}; "
                f"missing {missing}, unexpected {extra}"
            )
        if not self.placeholders:
            return self.template
        return _PLACEHOLDER.sub(
            lambda m: encode_segment(values[m.group(1)], operation=operation, name=m.group(1)), self.template
        )

    def matches(self, method: str, raw_path: str) -> bool:
        """Return True if an encoded request path is this endpoint with safe segment values."""
        if method != self.method:
            return False
        found = self._regex.fullmatch(raw_path)
        if found is None:
            return False
        return all(segment_is_safe(value) for value in found.groups())

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def parse_endpoints(items: Iterable[str | Endpoint]) -> tuple[Endpoint, ...]:
    """Parse declared endpoints, refusing duplicates."""
    endpoints = tuple(Endpoint.parse(item) for item in items)
    seen: set[tuple[str, str]] = set()
    for endpoint in endpoints:
        key = (endpoint.method, endpoint.template)
        if key in seen:
            raise ConfigurationError(f"endpoint {endpoint} is declared twice")
        seen.add(key)
    return endpoints


def _decoded_forms(value: str) -> Iterable[str]:
    """The value and every form it takes after repeated percent-decoding and Unicode folding."""
    current = value
    for _ in range(4):
        yield current
        folded = unicodedata.normalize("NFKC", current)
        if folded != current:
            yield folded
        decoded = unquote(folded, errors="strict") if "%" in folded else folded
        if decoded == current:
            return
        current = decoded
    yield current


def _unsafe(form: str) -> bool:
    stripped = form.strip()
    if stripped in ("", ".", ".."):
        return True
    return any(ch in "/\\" or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in form)


def segment_is_safe(segment: str) -> bool:
    """Return True if one path segment, in every decoded and folded form, is a plain value."""
    if not segment or len(segment) > 3 * MAX_SEGMENT_LENGTH:
        return False
    if _PLAIN_SEGMENT.fullmatch(segment):
        return segment not in (".", "..")
    try:
        return not any(_unsafe(form) for form in _decoded_forms(segment))
    except UnicodeDecodeError:
        return False


def encode_segment(value: object, *, operation: str, name: str) -> str:
    """Percent-encode one value as exactly one path segment, or refuse it.

    The message names the operation and the placeholder, never the value.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidArgumentsError(
            f"invalid arguments for {operation}: {name}: must be a string or an integer"
        )
    text = str(value)
    if len(text) > MAX_SEGMENT_LENGTH or not segment_is_safe(text):
        raise InvalidArgumentsError(
            f"invalid arguments for {operation}: {name}: not a usable record id (empty, '.', '..', a path "
            "separator or a control character, in some encoding, or too long)"
        )
    return quote(text, safe="")


def method_override_in(header_names: Iterable[str], query_names: Iterable[str]) -> str | None:
    """Name the first method-override header or query parameter present, if any."""
    for header in header_names:
        if header.lower() in METHOD_OVERRIDE_HEADERS:
            return f"header {header}"
    for param in query_names:
        if unquote(param).lower() in METHOD_OVERRIDE_PARAMS:
            return "query parameter " + ("_method" if "method" in param.lower() else "override")
    return None


# --- GraphQL: a read over POST must carry a query, never a mutation ---------------------------------

_GRAPHQL_TOKEN = re.compile(
    r'"""(?:\\.|[^\\])*?"""|"(?:\\.|[^"\\\n])*"|#[^\n]*|[A-Za-z_][A-Za-z0-9_]*|\S',
    re.DOTALL,
)


def graphql_query_only(body: bytes) -> bool:
    """Return True if a JSON GraphQL request body holds only query operations.

    Outside braces (ignoring strings and comments) the words ``mutation`` and
    ``subscription`` may not appear, so every operation of the document is a
    query or an anonymous ``{ ... }``; anything that is not one JSON object
    with a string ``query``, or whose braces do not balance, is refused.
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return False
    depth = 0
    for match in _GRAPHQL_TOKEN.finditer(payload["query"]):
        word = match.group(0)
        if word.startswith(("#", '"')):
            continue
        if word == "{":
            depth += 1
        elif word == "}":
            depth -= 1
            if depth < 0:
                return False
        elif depth == 0 and word in ("mutation", "subscription"):
            # Outside braces these words can only be (or pose as) an operation type: refuse both.
            return False
    return depth == 0
