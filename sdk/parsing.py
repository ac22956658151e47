"""Parse helpers for vendor payloads and setting types, shared by every connector.

Each raises ``TypeError``/``ValueError``/``KeyError`` on a payload of the wrong
shape (dispatch turns those into :class:`~sdk.VendorPayloadError`) and never
quotes the payload in a message. See :mod:`sdk._parsing` for each helper's rule.

Tolerant reading: :func:`parse_each` reads a list, leaving out (and noting in the audit record)
each record that cannot be read; :func:`optional` reads a secondary field as None when it cannot
be read; :func:`unreadable` names the field a parser could not read.
"""

from sdk._parsing import (
    DNS_LABEL,
    Subdomain,
    TimeUnit,
    check_record_id,
    code_token,
    cursor,
    field_text,
    integer,
    listed,
    money,
    note_truncated,
    obj,
    object_list,
    optional,
    parse_each,
    record_id,
    response_json,
    text,
    timestamp,
    unreadable,
)

__all__ = [
    "DNS_LABEL",
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
