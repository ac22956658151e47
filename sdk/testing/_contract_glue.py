"""openapi-core adjustments and httpx adapters behind :mod:`sdk.testing._contract`.

Imported only when a contract is built (openapi-core is the ``testing`` extra's and loads a
JSON-Schema stack): see :mod:`sdk.testing._contract` for what each adjustment is for.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas import oas30_write_schema_casters_factory, oas31_schema_casters_factory
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.exceptions import DeserializeError
from openapi_core.deserializing.styles import StyleDeserializersFactory, style_deserializers
from openapi_core.deserializing.styles.deserializers import StyleDeserializer
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.security.providers import ApiKeyProvider, BaseProvider
from openapi_core.templating.datatypes import TemplateResult
from openapi_core.templating.paths.datatypes import PathOperation, PathOperationServer
from openapi_core.templating.paths.finders import APICallPathFinder
from werkzeug.datastructures import Headers, ImmutableMultiDict

# --- Security --------------------------------------------------------------------------------------


def _authorization_credentials(parameters: RequestParameters, scheme: str) -> str:
    header = parameters.header.get("Authorization")
    if header is None:
        raise SecurityProviderError("Missing authorization header.")
    auth_type, _, credentials = header.partition(" ")
    if auth_type.lower() != scheme.lower() or not credentials.strip():
        raise SecurityProviderError(f"Authorization header is not '{scheme} <credentials>'.")
    return credentials


class _HttpProvider(BaseProvider):
    """An ``http`` scheme; the scheme name is compared case-insensitively (RFC 9110 §11.1)."""

    def __call__(self, parameters: RequestParameters) -> Any:
        return _authorization_credentials(parameters, (self.scheme / "scheme").read_str())


class _BearerProvider(BaseProvider):
    """An ``oauth2`` or ``openIdConnect`` scheme: the access token travels as a Bearer token."""

    def __call__(self, parameters: RequestParameters) -> Any:
        return _authorization_credentials(parameters, "bearer")


class _SecurityProviderFactory(SecurityProviderFactory):
    """openapi-core's providers, except that ``oauth2`` is checked instead of warned about."""

    PROVIDERS = {  # noqa: RUF012 -- overrides the base class's table
        "apiKey": ApiKeyProvider,
        "http": _HttpProvider,
        "oauth2": _BearerProvider,
        "openIdConnect": _BearerProvider,
    }


# --- deepObject and casting ------------------------------------------------------------------------

_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


def _bracket_segments(suffix: str) -> list[str]:
    segments = _BRACKETS.findall(suffix)
    if "".join(f"[{s}]" for s in segments) != suffix:
        raise ValueError(f"malformed bracket key suffix {suffix!r}")
    return segments


def _insert(tree: dict[str, Any], segments: list[str], value: str) -> None:
    node = tree
    for segment in segments[:-1]:
        if segment == "":
            raise ValueError("'[]' is only supported as the last bracket")
        child = node.setdefault(segment, {})
        if not isinstance(child, dict):
            raise ValueError(f"key {segment!r} is both a value and an object")
        node = child
    last = segments[-1]
    if last == "":
        appended = node.setdefault("", [])
        if not isinstance(appended, list):
            raise ValueError("'[]' mixed with keyed values")
        appended.append(value)
    elif last in node:
        raise ValueError(f"key {last!r} given more than once")
    else:
        node[last] = value


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if "" in node:
        if len(node) > 1:
            raise ValueError("'[]' mixed with keyed values")
        return [_listify(item) for item in node[""]]
    if node and all(key.isdigit() for key in node):
        return [_listify(node[key]) for key in sorted(node, key=int)]
    return {key: _listify(value) for key, value in node.items()}


def _deep_object_loads(explode: bool, name: str, schema_type: str, location: Mapping[str, Any]) -> Any:
    """Parse a ``deepObject`` value written with nested brackets, as Stripe (and qs/Rack) do.

    ``name[a][b]=1`` → ``{"a": {"b": "1"}}``; ``name[]=x&name[]=y`` and ``name[0]=x`` → lists.
    A bare ``name=value`` is returned as is: Stripe uses it for ``anyOf[object, scalar]``
    parameters (``created=1690000000``) and ``name=`` to clear a hash.
    """
    prefix = f"{name}["
    keys = [key for key in location if key.startswith(prefix)]
    if not keys:
        if name in location:
            return location[name]
        raise KeyError(name)
    tree: dict[str, Any] = {}
    for key in keys:
        segments = _bracket_segments(key[len(name) :])
        getlist = getattr(location, "getlist", None)
        values = getlist(key) if getlist is not None else [location[key]]
        if len(values) > 1 and segments[-1] != "":
            raise ValueError(f"{key!r} given more than once")
        for value in values:
            _insert(tree, segments, value)
    return _listify(tree)


class _LenientStyleDeserializer(StyleDeserializer):
    """Leave a value that does not cast (``limit=abc``) as text for schema validation to report.

    openapi-core raises a CastError that names neither the form field nor the parameter path;
    the schema validator then says ``$.balance: 'abc' is not of type 'integer'`` instead.
    """

    def deserialize(self, location: Mapping[str, Any]) -> Any:
        if self.deserializer_callable is None:
            return super().deserialize(location)
        try:
            value = self.deserializer_callable(self.explode, self.name, self.schema_type, location)
        except (ValueError, TypeError, AttributeError) as exc:
            raise DeserializeError(self.style, self.name) from exc
        raw = copy.deepcopy(value)
        try:
            return self.caster.cast(value)
        except (ValueError, TypeError, AttributeError, CastError):
            return raw


class _StyleDeserializersFactory(StyleDeserializersFactory):
    def create(
        self, spec: SchemaPath, schema: SchemaPath, style: str, explode: bool, name: str
    ) -> StyleDeserializer:
        made = super().create(spec, schema, style, explode, name)
        return _LenientStyleDeserializer(
            made.style, made.explode, made.name, made.schema_type, made.caster, made.deserializer_callable
        )


def _style_deserializers_factory(openapi_version: str) -> StyleDeserializersFactory:
    casters = oas31_schema_casters_factory if openapi_version.startswith("3.1") else None
    return _StyleDeserializersFactory(
        casters or oas30_write_schema_casters_factory,
        style_deserializers={**style_deserializers, "deepObject": _deep_object_loads},
    )


# --- Host-agnostic path matching ------------------------------------------------------------------


def _base_path(server_url: str) -> str:
    # Not urlsplit: templated URLs such as "{protocol}://{site}.{environment}:{port}/api/v1" (Chargebee)
    # have no parsable scheme.
    if "//" in server_url:
        authority_and_path = server_url.split("//", 1)[1]
        slash = authority_and_path.find("/")
        server_url = authority_and_path[slash:] if slash >= 0 else ""
    return server_url.rstrip("/")


class _AnyHostServersIterator:
    """Accept a matched path whatever the scheme and host, with or without the server's base path."""

    def __call__(
        self,
        name: str,
        operations_iter: Iterator[PathOperation],
        spec: SchemaPath,
        base_url: str | None = None,
    ) -> Iterator[PathOperationServer]:
        for path, operation, path_result in operations_iter:
            prefix = urlsplit(name.rsplit(path_result.resolved, 1)[0]).path.rstrip("/")
            servers = path.get("servers") or operation.get("servers") or spec.get("servers")
            if not servers:
                if prefix == "":
                    yield PathOperationServer(path, operation, None, path_result, TemplateResult("/", {}))
                continue
            for server in servers:
                url = (server / "url").read_str()
                if prefix in ("", _base_path(url)):
                    yield PathOperationServer(path, operation, server, path_result, TemplateResult(url, {}))
                    break


class AnyHostPathFinder(APICallPathFinder):
    """openapi-core's path finder with host-agnostic server matching."""

    servers_iterator = _AnyHostServersIterator()


def build_openapi(document: dict[str, Any]) -> OpenAPI:
    """Wrap a parsed document for validation, without validating the document itself."""
    config = Config(
        spec_validator_cls=None,
        path_finder_cls=AnyHostPathFinder,
        security_provider_factory=_SecurityProviderFactory(),
        style_deserializers_factory=_style_deserializers_factory(str(document.get("openapi", ""))),
    )
    return OpenAPI.from_dict(document, config=config)


# --- httpx adapters (openapi-core's Request / Response protocols) ----------------------------------


def raw_path(url: httpx.URL) -> str:
    # Percent-encoded, so an encoded "/" inside a path parameter cannot split a segment.
    return url.raw_path.decode("ascii").split("?", 1)[0]


class OpenAPIRequest:
    """An :class:`httpx.Request` seen through openapi-core's ``Request`` protocol."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True)),
            header=Headers(list(request.headers.multi_items())),
            cookie=ImmutableMultiDict(_cookies(request)),
        )

    @property
    def host_url(self) -> str:
        return f"{self._request.url.scheme}://{self._request.url.netloc.decode('ascii')}"

    @property
    def path(self) -> str:
        return raw_path(self._request.url)

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        return request_content(self._request) or None

    @property
    def content_type(self) -> str:
        return str(self._request.headers.get("Content-Type", ""))


class OpenAPIResponse:
    """An :class:`httpx.Response` seen through openapi-core's ``Response`` protocol."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status_code(self) -> int:
        return self._response.status_code

    @property
    def content_type(self) -> str:
        return str(self._response.headers.get("Content-Type", ""))

    @property
    def headers(self) -> Headers:
        return Headers(list(self._response.headers.multi_items()))

    @property
    def data(self) -> bytes | None:
        try:
            return self._response.content or None
        except httpx.ResponseNotRead:
            return self._response.read() or None


def request_content(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead:
        return request.read()


def _cookies(request: httpx.Request) -> list[tuple[str, str]]:
    pairs = []
    for header in request.headers.get_list("Cookie"):
        for item in header.split(";"):
            key, _, value = item.strip().partition("=")
            if key:
                pairs.append((key, value))
    return pairs
