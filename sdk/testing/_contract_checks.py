"""Turning openapi-core's validation errors into one readable line each, and the strictness it lacks.

Part of :mod:`sdk.testing._contract`; imported only when a contract is built.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx
from jsonschema.exceptions import ValidationError as SchemaError  # type: ignore[import-untyped]
from openapi_core.templating.paths.datatypes import PathOperationServer
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import ParameterValidationError, SecurityValidationError
from openapi_core.validation.response.exceptions import HeaderValidationError

from sdk.testing._contract_glue import raw_path, request_content
from sdk.testing._contract_samples import resolve

__all__ = [
    "PathError",
    "ResponseNotFound",
    "collect",
    "find_match",
    "undeclared_form_lines",
    "undeclared_query_lines",
]

# --- Error reports ---------------------------------------------------------------------------------

_MAX_MESSAGE = 300


def _clip(text: str, limit: int = _MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _schema_error_line(where: str, error: SchemaError) -> str:
    location = f"{where} {error.json_path}" if error.json_path != "$" else where
    if not error.context:
        return f"{location}: {_clip(error.message)}"
    # anyOf / oneOf: the message repeats the whole instance; say why each branch failed instead.
    branches = sorted({f"{sub.json_path}: {_clip(sub.message, 160)}" for sub in error.context})
    shown = "; ".join(branches[:4]) + ("; …" if len(branches) > 4 else "")
    return f"{location}: matches no {error.validator} branch [{shown}]"


def _schema_error_lines(where: str, errors: Iterable[Any]) -> list[str]:
    return [
        _schema_error_line(where, error)
        if isinstance(error, SchemaError)
        else f"{where}: {_clip(str(error))}"
        for error in errors
    ]


def _cause_text(cause: BaseException | None) -> str:
    parts = []
    current = cause
    while current is not None:
        text = str(current)
        parts.append(text if text and not text.startswith("(") else f"{type(current).__name__}{text}")
        current = current.__cause__
    return ": ".join(parts)


def _describe(exc: BaseException, *, response: bool = False) -> list[str]:
    if isinstance(exc, SecurityValidationError):
        reason = exc.__cause__ or exc
        schemes = getattr(reason, "schemes", None)
        if schemes is None:
            return [f"security: {_cause_text(reason)}"]
        return [
            f"security: no credential satisfies any requirement {schemes} (http schemes need "
            "'Authorization: <scheme> <credentials>', oauth2 'Authorization: Bearer <token>')"
        ]
    if isinstance(exc, ResponseNotFound):
        declared = ", ".join(exc.availableresponses)
        return [f"status {exc.http_status} is not declared for this operation (declared: {declared})"]
    if isinstance(exc, ParameterValidationError):
        where = f"{exc.location} parameter {exc.name!r}"
    elif isinstance(exc, HeaderValidationError):
        where = f"response header {exc.name!r}"
    else:
        where = "response body" if response else "request body"
    cause = exc.__cause__
    schema_errors = getattr(cause, "schema_errors", None)
    if schema_errors:
        return _schema_error_lines(where, schema_errors)
    if cause is not None:
        return [f"{where}: {_clip(_cause_text(cause))}"]
    return [_clip(str(exc))]


def collect(errors: Iterable[Exception], *, response: bool = False) -> list[str]:
    """Run openapi-core's error iterator, turning the warnings it emits into report lines."""
    lines: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for error in errors:
            lines.extend(_describe(error, response=response))
    for warning in caught:
        text = str(warning.message)
        if "allowEmptyValue" in text:  # a property of the document, not of the traffic
            continue
        lines.append(f"openapi-core warning: {text}")
    return lines


# --- Extra strictness ------------------------------------------------------------------------------


def _declared_query(document: Mapping[str, Any], match: PathOperationServer) -> tuple[set[str], set[str]]:
    """Return the declared query names and those of them that are ``deepObject`` parameters."""
    names: set[str] = set()
    deep: set[str] = set()
    for source in (match.operation, match.path):
        for parameter in source.get("parameters", []):
            if (parameter / "in").read_str() != "query":
                continue
            name = (parameter / "name").read_str()
            names.add(name)
            if "style" in parameter and (parameter / "style").read_str() == "deepObject":
                deep.add(name)
    for scheme in document.get("components", {}).get("securitySchemes", {}).values():
        scheme = resolve(document, scheme)
        if scheme.get("type") == "apiKey" and scheme.get("in") == "query":
            names.add(scheme["name"])
    return names, deep


def undeclared_query_lines(
    document: Mapping[str, Any], match: PathOperationServer, request: httpx.Request
) -> list[str]:
    """A line per query parameter the operation does not declare (vendors ignore them silently)."""
    names, deep = _declared_query(document, match)
    lines = []
    for key, _ in parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True):
        base = key.split("[", 1)[0]
        if key in names or (base in deep and key.startswith(f"{base}[")):
            continue
        line = f"query parameter {key!r} is not declared by the operation (vendors ignore it silently)"
        if line not in lines:
            lines.append(line)
    return lines


def undeclared_form_lines(match: PathOperationServer, request: httpx.Request) -> list[str]:
    """A line per form field outside a form schema that has ``additionalProperties: false``."""
    mimetype = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if mimetype != "application/x-www-form-urlencoded" or "requestBody" not in match.operation:
        return []
    content = match.operation / "requestBody" / "content"
    if mimetype not in content:
        return []
    schema = content / mimetype / "schema"
    if "additionalProperties" not in schema or (schema / "additionalProperties").read_value() is not False:
        return []
    declared = set(schema.get("properties", {}).keys()) if "properties" in schema else set()
    lines = []
    body = request_content(request).decode("utf-8", errors="replace")
    for key, _ in parse_qsl(body, keep_blank_values=True):
        base = key.split("[", 1)[0]
        line = f"request body field {base!r} is not in the form schema (additionalProperties: false)"
        if base not in declared and line not in lines:
            lines.append(line)
    return lines


def find_match(finder: Any, method: str, url: httpx.URL) -> PathOperationServer:
    """The document's operation for ``method url`` (any host); raises ``PathError`` when there is none."""
    origin = f"{url.scheme}://{url.netloc.decode('ascii')}" if url.is_absolute_url else ""
    found: PathOperationServer = finder.find(method.lower(), origin + raw_path(url))
    return found
