"""Drive hostile values through the three doors a caller's words reach: call, invoke and MCP.

``attack(target, attack_class, door)`` sends every value of one attack class
(``sdk.testing._hostile.HOSTILE_VALUES``) as every string argument of every
operation of one connector and checks, for each:

* the outcome is a result or a typed ``NexoraError`` (a tool result for the
  model), never an untyped exception;
* every request that reached the mock transport matches one of the running
  operation's declared endpoints, by an implementation independent of the
  SDK's guard, and carries no line break, NUL or method override in a header;
* no record from another path came back: any request outside the declared
  endpoints is answered with a foreign record holding a canary, and that
  canary must never appear in what the caller or model receives;
* what comes back does not echo the hostile value (errors name fields, not
  values) and carries no credential.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import respx

from sdk import MemoryAuditSink, NexoraError, ToolResult
from sdk._call import tool_name
from sdk._endpoints import Endpoint
from sdk.testing import MemoryCredentialSource, make_canary, mock_runtime
from sdk.testing._hostile import HOSTILE_VALUES, hostile_request_problem
from tests.security._targets import Target

Door = Literal["call", "invoke", "mcp"]
DOORS: tuple[Door, ...] = ("call", "invoke", "mcp")
TENANT = "sec-tenant"
INTEGRATION = "sec"


@dataclass
class Findings:
    """What went wrong across one attack run; empty lists mean the promises held."""

    problems: list[str] = field(default_factory=list)
    attempts: int = 0
    requests_checked: int = 0


def _foreign_record(canary: str) -> dict[str, Any]:
    """A body every vendor's parser might read something from, full of one canary."""
    item = {"id": canary, "name": canary, "email": f"{canary}@foreign.test", "subject": canary}
    return {
        "data": [item],
        "results": [item],
        "records": [item],
        "list": [{"customer": item, "invoice": item, "subscription": item}],
        "tickets": [item],
        "values": [item],
        "issues": [item],
        **item,
    }


@contextlib.asynccontextmanager
async def _session(
    target: Target, router: respx.MockRouter, secret: str
) -> AsyncIterator[tuple[Any, MemoryAuditSink]]:
    writes = sorted({str(s.scope) for s in target.connector.operations.values() if s.is_write})
    credentials = MemoryCredentialSource()
    credentials.put(TENANT, INTEGRATION, target.credential(secret))
    audit = MemoryAuditSink()
    async with (
        mock_runtime(
            target.connector,
            router,
            credentials,
            tenant=TENANT,
            integration=INTEGRATION,
            settings=target.settings,
            write_scopes=writes,
            audit_sink=audit,
        ) as nc,
        nc.conversation(tenant=TENANT, conversation_id="security-call") as conv,
    ):
        yield conv, audit


def _elsewhere(
    declared: Sequence[Endpoint], base: str, foreign: str, hits: list[httpx.Request]
) -> Callable[[httpx.Request], httpx.Response]:
    """Answer what the case's own routes do not: 404 on a declared path, a foreign record elsewhere."""

    def answer(request: httpx.Request) -> httpx.Response:
        if hostile_request_problem(request, declared, base) is None:
            return httpx.Response(404, json={"error": "not_found"})
        hits.append(request)
        return httpx.Response(200, json=_foreign_record(foreign))

    return answer


Send = Callable[[str, dict[str, Any]], Awaitable[tuple[str, bool]]]
"""Send one call; return what the caller or model sees and whether it is a success."""


@contextlib.asynccontextmanager
async def _door(conv: Any, door: Door) -> AsyncIterator[Send]:
    """A function that sends one call through ``door`` and returns what the caller or model sees."""
    if door == "call":

        async def via_call(operation: str, arguments: dict[str, Any]) -> tuple[str, bool]:
            try:
                return repr(await conv.call(INTEGRATION, operation, **arguments)), True
            except NexoraError as exc:
                return f"{type(exc).__name__}: {exc}", False

        yield via_call
    elif door == "invoke":

        async def via_invoke(operation: str, arguments: dict[str, Any]) -> tuple[str, bool]:
            try:
                result = await conv.invoke(tool_name(INTEGRATION, operation), arguments)
            except NexoraError as exc:
                result = ToolResult.from_error(exc)
            return result.as_json(), result.ok

        yield via_invoke
    else:
        from mcp import Client

        from sdk.mcp_server import build_server

        async with Client(build_server(conv)) as client:

            async def via_mcp(operation: str, arguments: dict[str, Any]) -> tuple[str, bool]:
                result = await client.call_tool(tool_name(INTEGRATION, operation), arguments)
                texts = [getattr(c, "text", "") for c in result.content]
                return json.dumps(texts, ensure_ascii=False), not result.is_error

            yield via_mcp


async def attack(target: Target, attack_class: str, door: Door) -> Findings:
    """Send every value of ``attack_class`` into every string argument of every operation."""
    findings = Findings()
    values = HOSTILE_VALUES[attack_class]
    for case in target.cases:
        spec = target.connector.operations[case.operation]
        arguments = [name for name, value in case.arguments.items() if isinstance(value, str)]
        for argument in arguments:
            router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
            secret, canary, foreign = make_canary("secret"), make_canary("customer"), make_canary("foreign")
            case.mock(router, canary)
            foreign_hits: list[httpx.Request] = []
            async with _session(target, router, secret) as (conv, audit):
                base = conv._runtime._binding(TENANT, INTEGRATION).connector.http.base_path

                router.route().mock(side_effect=_elsewhere(spec.endpoints, base, foreign, foreign_hits))
                async with _door(conv, door) as send:
                    for value in values:
                        where = f"{target.name}.{case.label}({argument}) via {door}, {value!r:.40}"
                        router.reset()
                        findings.attempts += 1
                        try:
                            seen, ok = await send(case.operation, {**case.arguments, argument: value})
                        except Exception as exc:  # noqa: BLE001 - reported as a finding below
                            findings.problems.append(f"{where}: raised {type(exc).__name__}")
                            continue
                        for call in router.calls:
                            findings.requests_checked += 1
                            problem = hostile_request_problem(call.request, spec.endpoints, base)
                            if problem is not None:
                                findings.problems.append(f"{where}: sent {problem}")
                        if foreign in seen:
                            findings.problems.append(f"{where}: a record from another path came back")
                        if secret in seen:
                            findings.problems.append(f"{where}: the credential came back")
                        if not ok and len(value.strip()) >= 6 and value in seen:
                            findings.problems.append(f"{where}: the error echoed the value back")
                for record in audit.records:
                    text = record.model_dump_json()
                    if secret in text or canary in text or foreign in text:
                        findings.problems.append(f"{target.name}.{case.label}: audit record leaked")
            if foreign_hits:
                findings.problems.append(f"{target.name}.{case.label}: {len(foreign_hits)} foreign requests")
    return findings
