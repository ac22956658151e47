"""Declaring connector operations and the scope each one needs.

``@operation(scope=...)`` marks a connector method as an operation. The
declaration is read once, when the connector class is created, into an
:class:`OperationSpec` that holds everything dispatch needs: the scope, the
POST paths that are really reads, a pydantic model of the arguments (used to
validate calls and to export tool schemas) and an adapter for the result.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, create_model

from sdk._endpoints import Endpoint, parse_endpoints
from sdk._errors import ConfigurationError, InvalidArgumentsError
from sdk._scopes import Scope
from sdk._validation import validation_problems

__all__ = ["OperationDeclaration", "OperationSpec", "PathPattern", "endpoints", "operation"]

_F = TypeVar("_F", bound=Callable[..., Awaitable[Any]])

_ATTRIBUTE = "__nexora_operation__"
_ENDPOINTS_ATTRIBUTE = "__nexora_endpoints__"


@dataclass(frozen=True, slots=True)
class PathPattern:
    """A URL path template such as ``/crm/v3/objects/{object}/search``.

    ``{name}`` matches one non-empty path segment; nothing else is a wildcard,
    so a declared read-over-POST can never cover more than the paths it names.
    """

    template: str
    regex: re.Pattern[str]

    @classmethod
    def compile(cls, template: str) -> PathPattern:
        if not template.startswith("/"):
            raise ConfigurationError(f"read-over-POST path {template!r} must start with '/'")
        parts = re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", template)
        body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        return cls(template, re.compile(body))

    def matches(self, path: str) -> bool:
        return self.regex.fullmatch(path) is not None


@dataclass(frozen=True, slots=True)
class OperationDeclaration:
    """What ``@operation`` recorded on the function, before the class exists."""

    scope: Scope
    reads_over_post: tuple[PathPattern, ...]
    cacheable: bool
    endpoints: tuple[Endpoint, ...] = ()


@dataclass(frozen=True, slots=True)
class OperationSpec:
    """Everything dispatch, enforcement and tool export need about one operation."""

    name: str
    scope: Scope
    reads_over_post: tuple[PathPattern, ...]
    cacheable: bool
    description: str
    arguments_model: type[BaseModel]
    result_adapter: TypeAdapter[Any]
    implemented: bool
    endpoints: tuple[Endpoint, ...] = ()

    @property
    def is_write(self) -> bool:
        return self.scope.is_write

    def allows_post_read(self, path: str) -> bool:
        """Return True if a POST to ``path`` is a declared read of this operation."""
        return not self.is_write and any(
            e.method == "POST" and e.matches("POST", path) for e in self.endpoints
        )

    def endpoint(self, method: str, template: str) -> Endpoint | None:
        """The declared endpoint with exactly this method and template, if any."""
        for found in self.endpoints:
            if found.method == method and found.template == template:
                return found
        return None

    def matching_endpoint(self, method: str, raw_path: str) -> Endpoint | None:
        """The declared endpoint an encoded request path falls under, if any."""
        for found in self.endpoints:
            if found.matches(method, raw_path):
                return found
        return None

    def validate_arguments(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Validate call arguments; the error names fields, never the values given."""
        problems: str | None = None
        try:
            model = self.arguments_model.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(validation_problems(exc))
        if problems is not None:
            # Raised outside the except block: the ValidationError quotes the values given.
            raise InvalidArgumentsError(f"invalid arguments for {self.name}: {problems}")
        return {name: getattr(model, name) for name in type(model).model_fields}


def _check_endpoints(scope: Scope, declared: tuple[Endpoint, ...], where: str) -> None:
    for found in declared:
        if scope.is_write or found.is_read:
            continue
        if found.method != "POST":
            raise ConfigurationError(
                f"{where}: {found} mutates, but the operation holds the read scope {scope}; a read may "
                "declare GET, HEAD, OPTIONS and POST (a search that takes its query in a body) only"
            )
        if "graphql" in found.template.lower() and found.body_check is None:
            raise ConfigurationError(
                f"{where}: {found} is a read over POST to a GraphQL-style endpoint; declare it as "
                "Endpoint('POST', path, body_check=graphql_query_only) so a mutation can never be sent"
            )


def operation(
    scope: str,
    *,
    endpoints: Sequence[str | Endpoint] = (),
    reads_over_post: Sequence[str] = (),
    cacheable: bool = True,
) -> Callable[[_F], _F]:
    """Declare a connector method as an operation that needs ``scope``.

    ``endpoints`` lists every request the operation may send, as
    ``"GET /v1/customers/{customer_id}"`` (see :func:`endpoints`). A read may
    declare POST endpoints (searches); a read over POST to a GraphQL-style
    path needs a body check. ``reads_over_post`` is the older spelling of
    ``endpoints=["POST <path>", ...]`` and still works. ``cacheable=False``
    keeps a read's result out of the conversation cache (for data that must
    be fresh on every call).
    """
    parsed = Scope.parse(scope)
    patterns = tuple(PathPattern.compile(p) for p in reads_over_post)
    if parsed.is_write and patterns:
        raise ConfigurationError(f"{scope} is a write scope; reads_over_post applies to read scopes only")
    declared = parse_endpoints([*endpoints, *(f"POST {p}" for p in reads_over_post)])

    def decorate(func: _F) -> _F:
        target: _F = func
        if not inspect.iscoroutinefunction(func):
            raise TypeError(f"operation {func.__qualname__} must be an 'async def' method")
        _check_endpoints(parsed, declared, func.__qualname__)
        setattr(
            target,
            _ATTRIBUTE,
            OperationDeclaration(parsed, patterns, cacheable and not parsed.is_write, declared),
        )
        if declared or not hasattr(target, _ENDPOINTS_ATTRIBUTE):
            setattr(target, _ENDPOINTS_ATTRIBUTE, declared + endpoints_of(target))
        return target

    return decorate


def endpoints(*declared: str | Endpoint) -> Callable[[_F], _F]:
    """Declare the requests an operation (or ``verify``) may send: ``@endpoints("GET /v1/x/{id}")``.

    Put it on a connector's override of a standard operation, whose scope the
    category base already fixes. The HTTP layer sends nothing else while the
    operation runs, and fills each ``{placeholder}`` itself, one encoded
    segment per value.
    """
    parsed = parse_endpoints(declared)

    def decorate(func: _F) -> _F:
        target: _F = func
        if not inspect.iscoroutinefunction(func):
            raise TypeError(f"{func.__qualname__} must be an 'async def' method to declare endpoints")
        found = declaration_of(target)
        if found is not None:
            _check_endpoints(found.scope, parsed, func.__qualname__)
        setattr(target, _ENDPOINTS_ATTRIBUTE, parse_endpoints([*endpoints_of(target), *parsed]))
        return target

    return decorate


def declaration_of(func: object) -> OperationDeclaration | None:
    found = getattr(func, _ATTRIBUTE, None)
    return found if isinstance(found, OperationDeclaration) else None


def endpoints_of(func: object) -> tuple[Endpoint, ...]:
    """The endpoints declared on this very function (not on a method it overrides)."""
    found = getattr(func, _ENDPOINTS_ATTRIBUTE, ())
    return found if isinstance(found, tuple) else ()


def build_spec(
    name: str,
    func: Callable[..., Any],
    declaration: OperationDeclaration,
    *,
    implemented: bool,
    implementation: Callable[..., Any] | None = None,
) -> OperationSpec:
    """Turn a declared method into an OperationSpec (called once per connector class).

    ``func`` fixes the arguments and result (the first declaration); the
    endpoints come from ``implementation``, the function that really runs.
    """
    declared = endpoints_of(implementation if implementation is not None else func)
    _check_endpoints(declaration.scope, declared, name)
    hints = typing.get_type_hints(func, include_extras=True)
    fields: dict[str, Any] = {}
    for param in list(inspect.signature(func).parameters.values())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"operation {func.__qualname__} may not take *args or **kwargs")
        annotation = hints.get(param.name, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, default)
    arguments_model = create_model(
        f"{name}_arguments",
        __config__=ConfigDict(extra="forbid", frozen=True),
        **fields,
    )
    doc = inspect.getdoc(func) or name.replace("_", " ")
    return OperationSpec(
        name=name,
        scope=declaration.scope,
        reads_over_post=declaration.reads_over_post,
        cacheable=declaration.cacheable,
        description=doc.strip().split("\n\n")[0].replace("\n", " "),
        arguments_model=arguments_model,
        result_adapter=TypeAdapter(hints.get("return", Any)),
        implemented=implemented,
        endpoints=declared,
    )
