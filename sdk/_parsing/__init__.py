"""What every connector reads vendor payloads and settings with: one rule per shape, shared.

Each connector used to carry its own copy of these helpers, and the copies drifted (one read an
empty string as text, the others did not). Connector-specific parsing (status maps, a vendor's
record-id format, its list envelope) stays in the connector; what is the same for every vendor
lives here, so a rule is fixed once and tested once (``tests/sdk/test_parsing.py``).

How a wrong payload fails: a value of the wrong shape raises ``TypeError``, a value of the right
type that cannot be read raises ``ValueError``, a missing key ``KeyError``. Dispatch turns each of
these into a :class:`~sdk.VendorPayloadError` whose message names the connector and operation,
never the value (it can be a caller's data). Where a helper is told where it reads from, it raises
the ``VendorPayloadError`` itself, naming the field. So connector code can parse directly, without
``try``.

Absent and empty are the same: the shared models say "not set" with ``None``, and vendors say it
with a missing key, ``null`` or ``""`` (HubSpot and Zendesk send ``""`` for a cleared field). A
voice agent must never read out an empty subject or name, so :func:`text` returns ``None`` for
``""``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

import httpx
from pydantic import StringConstraints, ValidationError

from sdk._endpoints import encode_segment
from sdk._errors import NexoraError, VendorPayloadError
from sdk._models import Money
from sdk._parsing._notes import FIELD_NAME, field_path, note_truncated, read_notes, unreadable

__all__ = [
    "DNS_LABEL",
    "PARSE_ERRORS",
    "Subdomain",
    "TimeUnit",
    "check_record_id",
    "code_token",
    "cursor",
    "field_text",
    "integer",
    "listed",
    "money",
    "note_truncated",
    "obj",
    "object_list",
    "optional",
    "parse_each",
    "record_id",
    "response_json",
    "text",
    "timestamp",
    "unreadable",
]

T = TypeVar("T")

# --- settings ------------------------------------------------------------------------------------

DNS_LABEL = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
"""One lower-case DNS label (RFC 1123): 1 to 63 letters, digits and inner hyphens."""

Subdomain = Annotated[str, StringConstraints(pattern=DNS_LABEL)]
"""A tenant's label in a vendor's host name: ``acme`` in ``https://acme.zendesk.com``.

The value is formatted into the integration's base URL, so it must be exactly one DNS label: a
dot, ``@``, ``/``, ``:`` or ``#`` in it could move every request (and the credential with it) to
another host. Use it as a settings field's type and add the field's own description::

    subdomain: Annotated[Subdomain, Field(description="'acme' for https://acme.zendesk.com")]
"""

# --- objects and lists ---------------------------------------------------------------------------


def obj(value: object) -> Mapping[str, Any]:
    """Return ``value`` as a JSON object, or raise TypeError (a payload of the wrong shape)."""
    if not isinstance(value, Mapping):
        raise TypeError("expected a JSON object")
    return value


def object_list(body: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The list of objects under ``key`` of a list envelope (``{"data": [...]}``, ``{"list": [...]}``).

    A missing key raises KeyError, a non-list or a non-object item TypeError: a page the connector
    cannot read is an error, never silently an empty page (that would tell a caller "you have no
    invoices").
    """
    items = body[key]
    if not isinstance(items, list):
        raise TypeError(f"{key} must be a list")
    return [obj(item) for item in items]


def listed(body: Mapping[str, Any], key: str) -> list[object]:
    """The list under ``key`` of a list envelope, its items unread (for :func:`parse_each`).

    Like :func:`object_list`, a missing key raises KeyError and a non-list TypeError; an item that
    is not an object is left for :func:`parse_each` to skip, so it costs only itself.
    """
    items = body[key]
    if not isinstance(items, list):
        raise TypeError(f"{key} must be a list")
    return items


def cursor(value: object) -> str | None:
    """A next-page token (``next_offset``, ``after_cursor``, ``nextPageToken``), or None on the last page.

    Vendors end a list by leaving the token out, sending ``null`` or sending ``""``; all three
    mean "no more". A token is only ever sent back as a query value, never as part of a path.
    """
    return value if isinstance(value, str) and value else None


# --- scalars -------------------------------------------------------------------------------------


def record_id(value: object, field: str = "id") -> str:
    """Return a vendor's record id as text; raise a ValueError naming ``field`` when it is not an id.

    Vendors send ids as strings or integers (Zendesk, Jira); both become text, since the shared
    models hold ids as ``str``. ``True`` is no id (``bool`` is an ``int`` in Python), nor is ``""``.
    The error is also a VendorPayloadError naming the field (see :func:`unreadable`), so a skipped
    record's path says ``customer.id``.
    """
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise unreadable(field, "is a missing or malformed record id")
    return str(value)


def text(value: object) -> str | None:
    """A string as it was sent, or None when absent, empty or not a string.

    Text fields are secondary (a subject, a name): one of another type is read as absent rather
    than failing the whole call, which would cost the caller their answer. Ids are not treated so
    leniently (see :func:`record_id`).
    """
    return value if isinstance(value, str) and value else None


def field_text(record: Mapping[str, Any], name: str, *, where: str) -> str | None:
    """A record field as stripped text; None when null, empty or blank.

    For vendors that type fields loosely (Salesforce fields, HubSpot properties): a number is
    read as its text, since a phone or a postcode may come back as one. Anything else (an object,
    a list, a bool) raises a VendorPayloadError naming the field as ``f"{where} {name}"``, e.g.
    "HubSpot's property email", never its value.
    """
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise VendorPayloadError(f"{where} {name} is not text")
    found = str(value).strip()
    return found or None


def integer(value: object) -> int | None:
    """An integer (an amount in minor units, a count, a Unix time), or None when absent.

    A bool, a float or a numeric string raises TypeError: an amount sent as ``"89.00"`` or
    ``89.0`` is in another unit or format than documented, and guessing would misstate what a
    caller owes.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an integer")
    return value


_CURRENCY = re.compile(r"[A-Za-z]{3}")


def money(amount: object, currency: object) -> Money | None:
    """An amount in minor units with its currency code (upper-cased), or None if either is absent.

    The amount must be an integer (see :func:`integer`); a currency that is not text is absent.
    Any three letters in any case are a currency (``"nzd"``, ``"XTS"``); text of another shape
    (Prism's generated ``"string"``) raises :func:`unreadable` naming ``currency``: an amount in an
    unknown currency cannot be read out. Wrap the call in :func:`optional` where the record is
    still useful without the amount (an invoice), and let it raise where the amount is the answer.
    """
    minor = integer(amount)
    code = text(currency)
    if minor is None or code is None:
        return None
    if not _CURRENCY.fullmatch(code):
        raise unreadable("currency")
    return Money(amount_minor=minor, currency=code)


# --- times ---------------------------------------------------------------------------------------

TimeUnit = Literal["iso", "s", "ms"]
"""How a vendor writes times: ISO 8601 text, or Unix time in seconds or milliseconds."""


def _from_iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _read_time(value: object, unit: TimeUnit) -> datetime:
    if unit == "iso":
        if not isinstance(value, str):
            raise TypeError("expected an ISO 8601 date and time")
        parsed = _from_iso(value)
        if parsed is None:
            # Raised outside the except block, so the standard library's error (which quotes the
            # text it could not read) is not even kept as the context.
            raise ValueError("not an ISO 8601 date and time")
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    number = integer(value)
    if number is None:
        raise TypeError("expected a Unix time")
    try:
        if unit == "ms":
            # Whole seconds plus the milliseconds, exactly: ``millis / 1000`` is a float.
            return datetime.fromtimestamp(number // 1000, tz=UTC) + timedelta(milliseconds=number % 1000)
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError("timestamp out of range") from None


def timestamp(value: object, *, unit: TimeUnit = "iso", lenient: bool = False) -> datetime | None:
    """Read a time the way the vendor documents it; None when absent (``None`` or ``""``).

    The result is always timezone-aware: a time without an offset is UTC, which is what every
    vendor here writes (a naive datetime would be read in the server's local zone by
    ``.timestamp()`` and sort records wrongly). A value in the other form than ``unit`` says is a
    wrong shape: Unix seconds where ISO 8601 is documented are not guessed at.

    ``lenient=True`` reads a present but unreadable time as None instead of raising: for times a
    record is still useful without (when a ticket was created), where failing the call would cost
    the caller the ticket itself. Amounts and due dates stay strict.
    """
    if value is None or value == "":
        return None
    try:
        return _read_time(value, unit)
    except (TypeError, ValueError):
        if lenient:
            return None
        raise


# --- error responses -----------------------------------------------------------------------------


def response_json(response: httpx.Response) -> object:
    """The decoded JSON body of a (usually error) response, or None when it has none to read.

    For ``Connector.error_code`` and similar hooks, which run while an error is being reported
    and so must never raise themselves: an empty body, an HTML error page, bytes that are not
    UTF-8 and JSON nested deeply enough to exhaust the recursion limit all give None.
    """
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        return None


def code_token(value: object, pattern: re.Pattern[str]) -> str | None:
    """``value`` if it is a string that ``pattern`` matches in full, else None.

    A vendor's error code is surfaced only when it has the shape of an identifier; anything else
    in an error body (a message, a title) can quote customer data and is never read out.
    """
    return value if isinstance(value, str) and pattern.fullmatch(value) else None


# --- arguments -----------------------------------------------------------------------------------


def check_record_id(value: str, *, operation: str, argument: str) -> str:
    """Return ``value`` if it could be one path segment, else raise InvalidArgumentsError.

    For an id a connector sends somewhere other than a path (a list filter such as
    ``?customer=...``, a JSON body): it passes the same check the SDK applies to every
    ``path_params`` value (not empty, ``.``, ``..``, a separator or a control character in any
    encoding), so a value refused in a path is refused whichever way an operation carries it.
    The error names the operation and the argument, never the value.
    """
    encode_segment(value, operation=operation, name=argument)
    return value


# --- tolerant reading ----------------------------------------------------------------------------
#
# A list or a search must not fail because one of its records is malformed: the caller would lose
# every good record for one bad one. The record is skipped, and the skip is noted on the running
# operation (how many, and the field path that could not be read, never the value); dispatch puts
# the notes in the audit record and hands them to the customer-context fan-out. A single-record
# read that cannot be parsed still fails, as a VendorPayloadError naming the field path.

PARSE_ERRORS: tuple[type[BaseException], ...] = (
    ValidationError,
    KeyError,
    TypeError,
    ValueError,
    IndexError,
    AttributeError,
    LookupError,
    httpx.InvalidURL,
    VendorPayloadError,
)
"""What a connector's parsing code raises on a payload of the wrong shape.

``httpx.InvalidURL``: a URL built from the vendor's data (a next-page link) is unusable.
:class:`~sdk.VendorPayloadError` is one (a helper that names the field raises it); no other SDK
error is, although some are ``ValueError`` too (an :class:`~sdk.InvalidArgumentsError` is the
caller's mistake, never the record's)."""


def _skip(exc: BaseException, what: str) -> str:
    if isinstance(exc, NexoraError) and not isinstance(exc, VendorPayloadError):
        raise exc
    path = field_path(exc, what)
    notes = read_notes()
    if notes is not None:
        notes.skipped(path)
    return path


def parse_each(items: Iterable[object], parse: Callable[[Mapping[str, Any]], T], *, what: str) -> list[T]:
    """``[parse(item) for item in items]``, leaving out (and noting) each item that cannot be read.

    For lists and searches: one malformed record costs the caller that record, never the others.
    ``what`` names the record kind for the notes (``"customer"`` gives ``"customer.currency"``).
    An item that is not a JSON object is skipped too. Errors that are not about the payload (an
    :class:`~sdk.InvalidArgumentsError`, a denied scope) still propagate.

    When not one of the items could be read, that is an error (naming the first field path), not
    an empty list: an answer nothing of which is readable is not "you have no invoices", and a
    vendor that changed a record's shape fails loudly instead of finding nobody.
    """
    parsed: list[T] = []
    first: str | None = None
    for item in items:
        try:
            # ``type(...) is dict`` first: what json.loads makes, checked without the ABC machinery.
            parsed.append(parse(item if type(item) is dict else obj(item)))
        except PARSE_ERRORS as exc:
            path = _skip(exc, what)
            first = path if first is None else first
    if first is not None and not parsed:
        raise unreadable(first if FIELD_NAME.fullmatch(first.replace("[]", "_")) else "?")
    return parsed


def optional(read: Callable[[], T], *, field: str) -> T | None:
    """``read()``, or None (with ``field`` noted) when the value cannot be read.

    For a secondary field a record is still useful without (an invoice's amount in a currency
    that is no currency code); a field that is the answer itself is read without it and raises.
    """
    try:
        return read()
    except PARSE_ERRORS as exc:
        if isinstance(exc, NexoraError) and not isinstance(exc, VendorPayloadError):
            raise
        notes = read_notes()
        if notes is not None:
            notes.field(field)
        return None
