"""Check connector HTTP traffic against the vendors' own OpenAPI documents.

Connector tests mock vendor hosts with respx; this module checks that every request a connector
builds, and every response fixture it is fed, is valid under the vendor's contract::

    from tests.contracts.openapi_contract import VendorSpec, assert_calls_valid

    async def test_find_contact(respx_mock):
        respx_mock.post("https://api.hubapi.com/crm/v3/objects/contacts/search").respond(200, json=...)
        ...  # drive the connector
        assert_calls_valid(VendorSpec.load("hubspot-contacts"), respx_mock.calls)

Validation is done by openapi-core (``OpenAPI.from_dict`` + ``iter_request_errors`` /
``iter_response_errors``) with these adjustments, made in ``_openapi_core_glue``:

* Paths match regardless of scheme and host, so ``https://acme.zendesk.com/api/v2/...`` and a
  loopback sandbox URL both find the operation. A server base path (Chargebee's ``/api/v1``) may be
  present or absent.
* ``oauth2``/``openIdConnect`` schemes (HubSpot, JSM) are checked as ``Authorization: Bearer <token>``,
  as Prism does; openapi-core only warns "Unsupported scheme type" for them.
* ``deepObject`` query parameters and form fields are parsed the way Stripe writes them
  (``metadata[foo]=bar``, ``expand[]=x``, ``items[0][price]=p``, ``created[gte]=1``).
  openapi-core 0.23 handles only one level of ``name[key]`` into an ``object`` schema and raises a
  deserialisation error for every other ``deepObject`` parameter, even an absent one, which made
  every Stripe request fail.
* A query or form value that does not cast to its schema type (``limit=abc``) is left as text, so
  the schema validator reports it with its field path; openapi-core's own cast error names neither.
* Strictness openapi-core lacks: a query parameter the operation does not declare, and a form field
  outside a form schema with ``additionalProperties: false``, are errors. Vendors ignore unknown
  parameters silently (e.g. ``email[is]`` on Chargebee v1), which is exactly the bug to catch.

Which file each name loads, and why (see ``shared/vendor-specs/README.md``):

* ``hubspot-<object>``: ``shared/…/hubspot/prism-ready/<object>.v3.json``. The originals declare
  the error response with media type ``*/*``; openapi-core matches that range but then deserialises
  the body with the ``*/*`` (binary) loader, so every JSON error body fails as "not of type object".
  The prism-ready copies only rename that media type to ``application/json`` (what HubSpot sends)
  and drop ``"example": null``; schemas, parameters and security are identical.
* ``zendesk``: the original ``zendesk/oas.yaml`` (the only copy; unquoted ``=`` scalars handled below).
* ``stripe``: the bundled copy of the prism-ready 9-path subset (``tests/fixtures/specs/stripe``);
  the 4 MB original is not redistributed here. Its expandable fields are reduced to string ids, so a
  response fetched with ``expand[]`` will not validate against it.
* ``stripe-full``: the original ``stripe/spec3.yaml`` (API 2023-08-16) from the shared folder, for
  paths outside the subset such as ``POST /v1/invoices/{invoice}/send``.
* ``jira-service-management``, ``chargebee``: bundled prism-ready copies. Their only changes are
  to examples (JSON-in-string examples parsed; ``example: null`` dropped; Chargebee YAML → JSON,
  which also loads 50x faster), so validation is identical and examples are usable as fixtures.
* ``intercom``: the original YAML from the shared folder (MIT, but not needed by a connector yet).

Specs whose licence forbids redistribution (HubSpot: proprietary; Zendesk: none) are read only
from ``../shared/vendor-specs`` beside the repository, or ``$NEXORA_VENDOR_SPECS``; when absent the
calling test is skipped. Documents are not checked with openapi-spec-validator: it rejects the
Zendesk, Intercom and Chargebee files (undeclared path parameters, 3.1 parameter keywords), and the
vendor's document is the contract of record even where it is sloppy.

Other behaviour worth knowing: warnings openapi-core emits while validating (a deprecated
parameter or header was sent; an unsupported style) become report lines rather than escaping into
pytest's ``filterwarnings = error``; a response status the operation does not declare is an error
unless ``allow_undeclared_status=True`` (Zendesk documents only its success responses).

Known gaps: query strings and form bodies are compared after parsing, so encoding details (``+``
versus ``%20``, key order) are not checked; ``allowEmptyValue`` is ignored; response headers are
checked only where the document declares them; the request's host is not checked against the
vendor (any host matches, by design).
"""

from __future__ import annotations

import functools
import json
import os
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
import yaml
from jsonschema.exceptions import ValidationError as SchemaError
from openapi_core import OpenAPI
from openapi_core.templating.paths.datatypes import PathOperationServer
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import ParameterValidationError, SecurityValidationError
from openapi_core.validation.response.exceptions import HeaderValidationError

from tests.contracts import _samples
from tests.contracts._openapi_core_glue import (
    AnyHostPathFinder,
    OpenAPIRequest,
    OpenAPIResponse,
    build_openapi,
    raw_path,
    request_content,
)

__all__ = [
    "SPEC_NAMES",
    "VendorSpec",
    "vendor_specs_dir",
    "find_operation",
    "request_errors",
    "response_errors",
    "assert_request_valid",
    "assert_response_valid",
    "assert_calls_valid",
    "ContractRecorder",
]

ENV_VAR = "NEXORA_VENDOR_SPECS"
_REPO_ROOT = Path(__file__).resolve().parents[2]
_BUNDLED_DIR = _REPO_ROOT / "tests" / "fixtures" / "specs"


@dataclass(frozen=True)
class _Source:
    relpath: str
    bundled: bool  # True: redistributable copy under tests/fixtures/specs; False: shared folder only.
    loose_nullable: bool = False  # see _strict_nullable


def _strict_nullable(node: Any) -> Any:
    """Make Stripe's loose ``nullable`` validate as Stripe means it.

    Stripe marks fields ``{"anyOf": [{"$ref": ...}], "nullable": true}`` and
    ``{"enum": [...], "nullable": true}`` without null in the enum; JSON Schema
    validators read ``nullable`` only next to ``type``, so every real Stripe
    object with ``"address": null`` would fail. Only those two shapes change:
    a null branch is added to the ``anyOf``, ``None`` to the ``enum``.
    """
    if isinstance(node, list):
        return [_strict_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _strict_nullable(value) for key, value in node.items()}
    if out.get("nullable") is True:
        if "anyOf" in out and "type" not in out:
            out["anyOf"] = [*out["anyOf"], {"type": "object", "nullable": True, "enum": [None]}]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


_SOURCES: dict[str, _Source] = {
    "hubspot-contacts": _Source("hubspot/prism-ready/contacts.v3.json", bundled=False),
    "hubspot-companies": _Source("hubspot/prism-ready/companies.v3.json", bundled=False),
    "hubspot-notes": _Source("hubspot/prism-ready/notes.v3.json", bundled=False),
    "hubspot-tickets": _Source("hubspot/prism-ready/tickets.v3.json", bundled=False),
    "hubspot-calls": _Source("hubspot/prism-ready/calls.v3.json", bundled=False),
    "zendesk": _Source("zendesk/oas.yaml", bundled=False),
    "stripe": _Source("stripe/stripe-voice-subset.json", bundled=True, loose_nullable=True),
    "stripe-full": _Source("stripe/spec3.yaml", bundled=False, loose_nullable=True),
    "jira-service-management": _Source("jira-service-management/openapi.json", bundled=True),
    "chargebee": _Source("chargebee/chargebee_api_v1_spec.json", bundled=True),
    "intercom": _Source("intercom/api.intercom.io.2.14.yaml", bundled=False),
}

SPEC_NAMES: tuple[str, ...] = tuple(_SOURCES)


def vendor_specs_dir() -> Path:
    """Return where the non-redistributable vendor documents are read from."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured)
    return _REPO_ROOT.parent / "shared" / "vendor-specs"


# --- Loading ---------------------------------------------------------------------------------------


class _SpecLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe YAML loader that reads ``=`` as a string, as YAML 1.2 loaders do.

    Zendesk's document has unquoted ``=`` scalars, which YAML 1.1 tags as the obsolete ``value``
    type; PyYAML's safe loaders have no constructor for it.
    """


_SpecLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def _read_document(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        if path.suffix == ".json":
            return json.load(handle)  # type: ignore[no-any-return]
        return yaml.load(handle, Loader=_SpecLoader)  # type: ignore[no-any-return]  # noqa: S506


# --- The spec object -------------------------------------------------------------------------------

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True, eq=False)
class VendorSpec:
    """One vendor OpenAPI document, parsed once per process and ready to validate against."""

    name: str
    path: Path
    document: Mapping[str, Any] = field(repr=False)
    openapi: OpenAPI = field(repr=False)

    @classmethod
    def load(cls, name: str) -> VendorSpec:
        """Return the named spec, skipping the calling test when its document is not available."""
        try:
            source = _SOURCES[name]
        except KeyError:
            raise ValueError(f"unknown vendor spec {name!r}; known: {', '.join(SPEC_NAMES)}") from None
        root = _BUNDLED_DIR if source.bundled else vendor_specs_dir()
        path = root / source.relpath
        if not path.is_file():
            if not root.is_dir():
                pytest.skip(f"vendor specs not found at {root}; set {ENV_VAR}", allow_module_level=True)
            pytest.skip(
                f"vendor specs not found at {path} (for {name!r}); set {ENV_VAR}", allow_module_level=True
            )
        return _load_cached(name, path)

    @functools.cached_property
    def _finder(self) -> AnyHostPathFinder:
        return AnyHostPathFinder(self.openapi.spec)

    @functools.cached_property
    def operations(self) -> Mapping[str, tuple[str, str]]:
        """Map each operationId to its ``(METHOD, path template)``."""
        found: dict[str, tuple[str, str]] = {}
        for path, item in self.document.get("paths", {}).items():
            for method in _METHODS:
                operation = item.get(method)
                if isinstance(operation, dict) and "operationId" in operation:
                    found[operation["operationId"]] = (method.upper(), path)
        return found

    def _resolve(self, node: Any) -> Any:
        return _samples.resolve(self.document, node)

    def _operation_node(self, operation_id: str) -> dict[str, Any]:
        try:
            method, path = self.operations[operation_id]
        except KeyError:
            raise KeyError(f"{self.name} has no operationId {operation_id!r}") from None
        return self.document["paths"][path][method.lower()]  # type: ignore[no-any-return]

    def request_examples(self, operation_id: str) -> dict[str, Any]:
        """Return the request-body examples the document gives for an operation, by name."""
        body = self._resolve(self._operation_node(operation_id).get("requestBody", {}))
        return _samples.examples(self.document, body.get("content", {}))

    def response_examples(self, operation_id: str, status: int | str = 200) -> dict[str, Any]:
        """Return the response examples the document gives for an operation and status, by name.

        Named ``examples`` and a media-level ``example`` come first; the response schema's own
        ``example`` is used (under the name ``"schema"``) only when there is neither.
        """
        responses = self._operation_node(operation_id).get("responses", {})
        response = self._resolve(responses.get(str(status), {}))
        return _samples.examples(self.document, response.get("content", {}))

    def minimal_request_body(self, operation_id: str) -> Any:
        """Build the smallest body the request schema accepts: required fields only, first choices."""
        body = self._resolve(self._operation_node(operation_id).get("requestBody", {}))
        return _samples.minimal_instance(
            self.document, _samples.body_schema(self.document, body.get("content", {}))
        )

    def minimal_response_body(self, operation_id: str, status: int | str = 200) -> Any:
        """Build the smallest body the response schema accepts, for vendors without examples (Stripe).

        Required fields only; nullable ones are ``None``; the first ``enum`` value and the first
        ``anyOf``/``oneOf`` branch are used. Adjust the fields a test cares about afterwards.
        """
        responses = self._operation_node(operation_id).get("responses", {})
        response = self._resolve(responses.get(str(status), {}))
        schema = _samples.body_schema(self.document, response.get("content", {}))
        return _samples.minimal_instance(self.document, schema)


@functools.cache
def _load_cached(name: str, path: Path) -> VendorSpec:
    document = _read_document(path)
    if _SOURCES[name].loose_nullable:
        document = _strict_nullable(document)
    return VendorSpec(name=name, path=path, document=document, openapi=build_openapi(document))


def only_path(document: Mapping[str, Any], path: str) -> dict[str, Any]:
    """Keep one path of a document and the component schemas it references, transitively.

    For validating against one operation of a very large document (the full Stripe spec,
    Jira's platform API) without building every schema in it.
    """
    schemas = document["components"]["schemas"]
    keep: dict[str, Any] = {}
    pending = list(_refs(document["paths"][path]))
    while pending:
        name = pending.pop().rsplit("/", 1)[-1]
        if name not in keep:
            keep[name] = schemas[name]
            pending.extend(_refs(schemas[name]))
    return {
        **{key: value for key, value in document.items() if key not in ("paths", "components")},
        "paths": {path: document["paths"][path]},
        "components": {"schemas": keep, "securitySchemes": document["components"]["securitySchemes"]},
    }


def spec_from_document(name: str, path: Path, document: dict[str, Any]) -> VendorSpec:
    """A VendorSpec over a document a test prepared itself (e.g. with :func:`only_path`)."""
    return VendorSpec(name=name, path=path, document=document, openapi=build_openapi(document))


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


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


def _collect(errors: Iterable[Exception], *, response: bool = False) -> list[str]:
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


def _declared_query(spec: VendorSpec, match: PathOperationServer) -> tuple[set[str], set[str]]:
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
    for scheme in spec.document.get("components", {}).get("securitySchemes", {}).values():
        scheme = spec._resolve(scheme)
        if scheme.get("type") == "apiKey" and scheme.get("in") == "query":
            names.add(scheme["name"])
    return names, deep


def _undeclared_query_lines(
    spec: VendorSpec, match: PathOperationServer, request: httpx.Request
) -> list[str]:
    names, deep = _declared_query(spec, match)
    lines = []
    for key, _ in parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True):
        base = key.split("[", 1)[0]
        if key in names or (base in deep and key.startswith(f"{base}[")):
            continue
        line = f"query parameter {key!r} is not declared by the operation (vendors ignore it silently)"
        if line not in lines:
            lines.append(line)
    return lines


def _undeclared_form_lines(match: PathOperationServer, request: httpx.Request) -> list[str]:
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


# --- Public checks ---------------------------------------------------------------------------------


def _match(spec: VendorSpec, method: str, url: httpx.URL) -> PathOperationServer:
    origin = f"{url.scheme}://{url.netloc.decode('ascii')}" if url.is_absolute_url else ""
    return spec._finder.find(method.lower(), origin + raw_path(url))


def _label(request: httpx.Request) -> str:
    return f"{request.method} {raw_path(request.url)}"


def find_operation(spec: VendorSpec, method: str, path: str) -> str:
    """Return the operationId for a method and a path or URL; raise AssertionError if there is none.

    ``path`` may be a full URL on any host; a query string is ignored.
    """
    url = httpx.URL(path)
    try:
        match = _match(spec, method, url)
    except PathError as exc:
        raise AssertionError(
            f"{method.upper()} {raw_path(url)}: no operation in {spec.name} ({exc})"
        ) from None
    return str((match.operation / "operationId").read_str())


def request_errors(spec: VendorSpec, request: httpx.Request) -> list[str]:
    """Return one line per way the request breaks the contract; empty when it is valid."""
    try:
        match = _match(spec, request.method, request.url)
    except PathError as exc:
        return [f"no operation in {spec.name}: {exc}"]
    lines = _collect(spec.openapi.iter_request_errors(OpenAPIRequest(request)))
    lines += _undeclared_query_lines(spec, match, request)
    lines += _undeclared_form_lines(match, request)
    return lines


def response_errors(
    spec: VendorSpec,
    request: httpx.Request,
    response: httpx.Response,
    *,
    allow_undeclared_status: bool = False,
) -> list[str]:
    """Return one line per way the response breaks the operation's declared response.

    With ``allow_undeclared_status``, a status the operation does not declare (and no ``default``
    covers) is accepted unchecked; useful for scripted 429/503 retry paths on vendors that document
    only their success responses (Zendesk).
    """
    try:
        _match(spec, request.method, request.url)
    except PathError as exc:
        return [f"no operation in {spec.name}: {exc}"]
    errors = spec.openapi.iter_response_errors(OpenAPIRequest(request), OpenAPIResponse(response))
    if allow_undeclared_status:
        errors = (error for error in errors if not isinstance(error, ResponseNotFound))
    return _collect(errors, response=True)


def _operation_label(spec: VendorSpec, request: httpx.Request) -> str:
    try:
        return f"{spec.name} {find_operation(spec, request.method, str(request.url))}"
    except AssertionError:
        return spec.name


def _failure(what: str, spec: VendorSpec, request: httpx.Request, lines: Sequence[str]) -> AssertionError:
    body = "\n".join(f"  - {line}" for line in lines)
    return AssertionError(f"{what} {_label(request)} breaks {_operation_label(spec, request)}:\n{body}")


def assert_request_valid(spec: VendorSpec, request: httpx.Request) -> None:
    """Fail with every contract violation of the request: path, parameters, security and body."""
    lines = request_errors(spec, request)
    if lines:
        raise _failure("request", spec, request, lines)


def assert_response_valid(
    spec: VendorSpec,
    request: httpx.Request,
    response: httpx.Response,
    *,
    allow_undeclared_status: bool = False,
) -> None:
    """Fail unless the response's status, headers and body match what the operation declares."""
    lines = response_errors(spec, request, response, allow_undeclared_status=allow_undeclared_status)
    if lines:
        raise _failure(f"response {response.status_code} to", spec, request, lines)


class ContractRecorder:
    """Validate recorded respx calls against one or more specs and count the operations exercised.

    A connector that talks to several documents of one vendor (HubSpot's contacts, notes, ...) passes
    them all; each call is checked against the first spec that has an operation for it. Validation
    happens after the fact, on ``router.calls``, rather than inside a respx side effect, because a
    connector may catch and translate exceptions raised by its transport.
    """

    def __init__(self, *specs: VendorSpec, allow_undeclared_status: bool = False) -> None:
        if not specs:
            raise ValueError("ContractRecorder needs at least one VendorSpec")
        self.specs = specs
        self.allow_undeclared_status = allow_undeclared_status
        self.exercised: Counter[str] = Counter()

    def _spec_for(self, request: httpx.Request) -> tuple[VendorSpec, str] | None:
        for spec in self.specs:
            try:
                return spec, find_operation(spec, request.method, str(request.url))
            except AssertionError:
                continue
        return None

    def check(self, calls: Any) -> list[str]:
        """Validate every call (a respx router or its ``calls``); return the operationIds in order.

        All failures are gathered into one AssertionError, grouped by call. An empty call list
        fails too: it usually means the check ran after ``respx.mock()`` exited and cleared it.
        """
        if isinstance(calls, respx.Router | respx.Route):
            calls = calls.calls
        if not calls:
            raise AssertionError(
                "no calls to check; call this before the respx.mock() block exits (it clears router.calls)"
            )
        operation_ids: list[str] = []
        failures: list[str] = []
        for index, call in enumerate(calls, start=1):
            request, response = call.request, call.optional_response
            found = self._spec_for(request)
            if found is None:
                names = ", ".join(spec.name for spec in self.specs)
                failures.append(f"call {index}: {_label(request)}: no operation in {names}")
                continue
            spec, operation_id = found
            operation_ids.append(operation_id)
            self.exercised[operation_id] += 1
            lines = [f"request: {line}" for line in request_errors(spec, request)]
            if response is not None:
                lines += [
                    f"response {response.status_code}: {line}"
                    for line in response_errors(
                        spec, request, response, allow_undeclared_status=self.allow_undeclared_status
                    )
                ]
            if lines:
                detail = "\n".join(f"    - {line}" for line in lines)
                failures.append(f"call {index}: {_label(request)} ({spec.name} {operation_id}):\n{detail}")
        if failures:
            raise AssertionError("calls break the vendor contract:\n" + "\n".join(failures))
        return operation_ids

    def assert_exercised(self, *operation_ids: str) -> None:
        """Fail if any of the operationIds was not among the checked calls."""
        missing = [operation_id for operation_id in operation_ids if operation_id not in self.exercised]
        if missing:
            raise AssertionError(f"operations never called: {', '.join(missing)}")


def assert_calls_valid(
    spec: VendorSpec | Sequence[VendorSpec],
    calls: Any,
    *,
    allow_undeclared_status: bool = False,
) -> list[str]:
    """Validate every request and response of a respx router (or ``router.calls``).

    Returns the operationIds exercised, in call order, for coverage reports.
    """
    specs = (spec,) if isinstance(spec, VendorSpec) else tuple(spec)
    recorder = ContractRecorder(*specs, allow_undeclared_status=allow_undeclared_status)
    return recorder.check(calls)
