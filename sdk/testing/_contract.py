"""Check a connector's HTTP traffic against the vendor's own OpenAPI document.

Connector tests mock the vendor with respx; a :class:`VendorContract` checks
that every request the connector builds, and every response fixture it is fed,
is valid under the vendor's document::

    from sdk.testing import VendorContract, assert_calls_valid

    CONTRACT = VendorContract.from_document("specs/acme-openapi.yaml")

    async def test_find_contacts_follows_the_contract(...):
        ...  # drive the connector against a respx router
        assert_calls_valid(CONTRACT, router.calls)

Validation is openapi-core's (``OpenAPI.from_dict`` + ``iter_request_errors`` /
``iter_response_errors``, in :mod:`sdk.testing._contract_glue`), adjusted so
that it checks what matters for a connector:

* Paths match regardless of scheme and host (a regional host or a loopback
  sandbox still finds the operation); a server base path may be present or absent.
* ``oauth2``/``openIdConnect`` schemes are checked as ``Authorization: Bearer <token>``.
* ``deepObject`` query parameters and form fields are parsed the way Stripe and
  qs write them (``metadata[foo]=bar``, ``expand[]=x``, ``items[0][price]=p``).
* A query or form value that does not cast to its type is reported by the
  schema validator with its field path.
* Stricter than openapi-core: a query parameter the operation does not declare,
  and a form field outside a form schema with ``additionalProperties: false``,
  are errors. Vendors ignore unknown parameters silently, which is exactly the
  bug to catch (a filter that filters nothing).

Documents are not themselves validated (many vendors' are sloppy; the vendor's
document is still the contract of record). Warnings openapi-core emits while
validating become report lines. A response status the operation does not
declare is an error unless ``allow_undeclared_status=True``.

openapi-core is part of the ``testing`` extra and is imported only when a
contract is built, so ``import sdk.testing`` stays cheap.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpx

from sdk.testing import _contract_samples as _samples

if TYPE_CHECKING:
    from openapi_core import OpenAPI

__all__ = ["VendorContract", "label", "only_path", "spec_loader", "strict_nullable"]

_INSTALL = (
    "sdk.testing's OpenAPI contract helper needs openapi-core (and PyYAML for YAML documents); "
    "install the testing extra: pip install 'nexora-connect[testing]'"
)
_OPENAPI_PACKAGES = frozenset({"openapi_core", "jsonschema", "jsonschema_path", "werkzeug", "yaml"})
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _import(name: str) -> ModuleType:
    """Import a module that needs openapi-core, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in _OPENAPI_PACKAGES:
            raise
        raise ImportError(_INSTALL, name=exc.name) from exc


def _checks() -> ModuleType:
    return _import("sdk.testing._contract_checks")


def _read_document(path: Path) -> dict[str, Any]:
    """Parse a JSON or YAML OpenAPI document (YAML ``=`` scalars read as strings, as YAML 1.2 does)."""
    if path.suffix == ".json":
        with path.open("rb") as handle:
            loaded: dict[str, Any] = json.load(handle)
            return loaded
    with path.open("rb") as handle:
        document: dict[str, Any] = _import("yaml").load(handle, Loader=spec_loader())
    return document


@functools.cache
def spec_loader() -> Any:
    """A safe YAML loader that reads ``=`` as a string, as YAML 1.2 loaders do.

    Zendesk's document has unquoted ``=`` scalars, which YAML 1.1 tags as the obsolete ``value``
    type; PyYAML's safe loaders have no constructor for it.
    """
    yaml = _import("yaml")
    loader: Any = type("SpecLoader", (getattr(yaml, "CSafeLoader", yaml.SafeLoader),), {})
    loader.add_constructor("tag:yaml.org,2002:value", lambda ld, node: ld.construct_scalar(node))
    return loader


def strict_nullable(node: Any) -> Any:
    """Make Stripe-style loose ``nullable`` validate as the vendor means it.

    Stripe marks fields ``{"anyOf": [{"$ref": ...}], "nullable": true}`` and ``{"enum": [...],
    "nullable": true}`` without null in the enum; JSON Schema validators read ``nullable`` only
    next to ``type``. Only those two shapes change: a null branch is added to the ``anyOf``,
    ``None`` to the ``enum``.
    """
    if isinstance(node, list):
        return [strict_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict_nullable(value) for key, value in node.items()}
    if out.get("nullable") is True:
        if "anyOf" in out and "type" not in out:
            out["anyOf"] = [*out["anyOf"], {"type": "object", "nullable": True, "enum": [None]}]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


@dataclass(frozen=True, eq=False)
class VendorContract:
    """One vendor OpenAPI document, parsed once per process and ready to validate against."""

    name: str
    path: Path
    document: Mapping[str, Any] = field(repr=False)
    openapi: OpenAPI = field(repr=False)

    @classmethod
    def from_document(
        cls, path: str | Path, *, name: str | None = None, loose_nullable: bool = False
    ) -> VendorContract:
        """Load the document at ``path`` (JSON, or YAML), cached per path for the process.

        ``loose_nullable`` applies :func:`strict_nullable` (for Stripe-style documents).
        """
        resolved = Path(path).resolve()
        if not resolved.is_file():
            raise FileNotFoundError(f"no OpenAPI document at {resolved}")
        contract = _load_cached(resolved, loose_nullable)
        if name is not None and name != contract.name:
            return dataclasses.replace(contract, name=name)  # the parsed document is shared
        return contract

    @classmethod
    def from_dict(
        cls, document: Mapping[str, Any], *, name: str, path: str | Path = "<memory>"
    ) -> VendorContract:
        """A contract over a document a test built or trimmed itself (see :func:`only_path`)."""
        build = _import("sdk.testing._contract_glue").build_openapi
        return cls(name=name, path=Path(path), document=document, openapi=build(dict(document)))

    @functools.cached_property
    def _finder(self) -> Any:
        return _import("sdk.testing._contract_glue").AnyHostPathFinder(self.openapi.spec)

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

    # --- validation ------------------------------------------------------------------------

    def find_operation(self, method: str, path: str) -> str:
        """The operationId for a method and a path or URL (any host); AssertionError if there is none."""
        checks = _checks()
        url = httpx.URL(path)
        try:
            match = checks.find_match(self._finder, method, url)
        except checks.PathError as exc:
            raise AssertionError(
                f"{method.upper()} {_raw_path(url)}: no operation in {self.name} ({exc})"
            ) from None
        return str((match.operation / "operationId").read_str())

    def validate_request(self, request: httpx.Request) -> list[str]:
        """One line per way ``request`` breaks the contract (path, parameters, security, body).

        Empty when the request is valid.
        """
        checks = _checks()
        try:
            match = checks.find_match(self._finder, request.method, request.url)
        except checks.PathError as exc:
            return [f"no operation in {self.name}: {exc}"]
        glue = _import("sdk.testing._contract_glue")
        lines: list[str] = checks.collect(self.openapi.iter_request_errors(glue.OpenAPIRequest(request)))
        lines += checks.undeclared_query_lines(self.document, match, request)
        lines += checks.undeclared_form_lines(match, request)
        return lines

    def validate_response(
        self, request: httpx.Request, response: httpx.Response, *, allow_undeclared_status: bool = False
    ) -> list[str]:
        """One line per way ``response`` breaks what the operation declares; [] if valid.

        With ``allow_undeclared_status``, a status the operation does not declare (and no
        ``default`` covers) is accepted unchecked: useful for scripted 429/503 retry paths on
        vendors that document only their success responses.
        """
        checks = _checks()
        try:
            checks.find_match(self._finder, request.method, request.url)
        except checks.PathError as exc:
            return [f"no operation in {self.name}: {exc}"]
        glue = _import("sdk.testing._contract_glue")
        errors: Iterator[Exception] = self.openapi.iter_response_errors(
            glue.OpenAPIRequest(request), glue.OpenAPIResponse(response)
        )
        if allow_undeclared_status:
            errors = (error for error in errors if not isinstance(error, checks.ResponseNotFound))
        lines: list[str] = checks.collect(errors, response=True)
        return lines

    def assert_request_valid(self, request: httpx.Request) -> None:
        """Fail with every contract violation of ``request``."""
        lines = self.validate_request(request)
        if lines:
            raise self._failure("request", request, lines)

    def assert_response_valid(
        self, request: httpx.Request, response: httpx.Response, *, allow_undeclared_status: bool = False
    ) -> None:
        """Fail unless the response's status, headers and body match what the operation declares."""
        lines = self.validate_response(request, response, allow_undeclared_status=allow_undeclared_status)
        if lines:
            raise self._failure(f"response {response.status_code} to", request, lines)

    def _failure(self, what: str, request: httpx.Request, lines: Sequence[str]) -> AssertionError:
        try:
            operation = f"{self.name} {self.find_operation(request.method, str(request.url))}"
        except AssertionError:
            operation = self.name
        body = "\n".join(f"  - {line}" for line in lines)
        return AssertionError(f"{what} {label(request)} breaks {operation}:\n{body}")

    # --- fixtures from the document --------------------------------------------------------

    def _operation_node(self, operation_id: str) -> dict[str, Any]:
        try:
            method, path = self.operations[operation_id]
        except KeyError:
            raise KeyError(f"{self.name} has no operationId {operation_id!r}") from None
        node: dict[str, Any] = self.document["paths"][path][method.lower()]
        return node

    def _response_content(self, operation_id: str, status: int | str) -> Any:
        responses = self._operation_node(operation_id).get("responses", {})
        return _samples.resolve(self.document, responses.get(str(status), {})).get("content", {})

    def _request_content(self, operation_id: str) -> Any:
        body = _samples.resolve(self.document, self._operation_node(operation_id).get("requestBody", {}))
        return body.get("content", {})

    def request_examples(self, operation_id: str) -> dict[str, Any]:
        """The request-body examples the document gives for an operation, by name."""
        return _samples.examples(self.document, self._request_content(operation_id))

    def response_examples(self, operation_id: str, status: int | str = 200) -> dict[str, Any]:
        """The response examples the document gives for an operation and status, by name.

        Named ``examples`` and a media-level ``example`` come first; the schema's own ``example``
        is used (under the name ``"schema"``) only when there is neither.
        """
        return _samples.examples(self.document, self._response_content(operation_id, status))

    def minimal_request_body(self, operation_id: str) -> Any:
        """The smallest body the request schema accepts: required fields only, first choices."""
        schema = _samples.body_schema(self.document, self._request_content(operation_id))
        return _samples.minimal_instance(self.document, schema)

    def minimal_response_body(self, operation_id: str, status: int | str = 200) -> Any:
        """The smallest body the response schema accepts, for vendors without examples.

        Required fields only; nullable ones are ``None``; the first ``enum`` value and the first
        ``anyOf``/``oneOf`` branch. Adjust the fields a test cares about afterwards.
        """
        schema = _samples.body_schema(self.document, self._response_content(operation_id, status))
        return _samples.minimal_instance(self.document, schema)


@functools.cache
def _load_cached(path: Path, loose_nullable: bool) -> VendorContract:
    document = _read_document(path)
    if loose_nullable:
        document = strict_nullable(document)
    return VendorContract.from_dict(document, name=path.stem, path=path)


def only_path(document: Mapping[str, Any], path: str) -> dict[str, Any]:
    """Keep one path of a document and the component schemas it references, transitively.

    For validating against one operation of a very large document without building every schema.
    """
    schemas = document["components"]["schemas"]
    keep: dict[str, Any] = {}
    pending = list(_refs(document["paths"][path]))
    while pending:
        name = pending.pop().rsplit("/", 1)[-1]
        if name not in keep:
            keep[name] = schemas[name]
            pending.extend(_refs(schemas[name]))
    components: dict[str, Any] = {"schemas": keep}
    if "securitySchemes" in document["components"]:
        components["securitySchemes"] = document["components"]["securitySchemes"]
    return {
        **{key: value for key, value in document.items() if key not in ("paths", "components")},
        "paths": {path: document["paths"][path]},
        "components": components,
    }


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


def _raw_path(url: httpx.URL) -> str:
    # Percent-encoded, so an encoded "/" inside a path parameter cannot split a segment.
    return url.raw_path.decode("ascii").split("?", 1)[0]


def label(request: httpx.Request) -> str:
    return f"{request.method} {_raw_path(request.url)}"
