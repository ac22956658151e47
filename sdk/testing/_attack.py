"""One hostile value sent as one argument of one operation, and what the battery demands of the outcome.

The values are what a caller can steer a language model into sending
(:mod:`sdk.testing._hostile`). The outcome must be a typed SDK error or a
result, neither echoing the value; the tool-call path (``conv.invoke``) must
not echo it either for the traversal and injection classes; and every request
that reached the mock transport must match the operation's declared
endpoints, as judged by :func:`~sdk.testing._hostile.hostile_request_problem`,
which is independent of the SDK's own guard.
"""

from __future__ import annotations

from sdk._call import Conversation, ToolResult, tool_name
from sdk._errors import NexoraError
from sdk._operations import OperationSpec
from sdk.testing._cases import OperationCase
from sdk.testing._harness import INTEGRATION, ScenarioRun
from sdk.testing._hostile import hostile_request_problem

__all__ = ["attack_argument"]

# Attack classes also sent through the tool-call path.
_TOOL_ATTACKS = ("traversal", "header-injection", "query-injection", "nul")


async def attack_argument(
    conv: Conversation,
    run: ScenarioRun,
    case: OperationCase,
    spec: OperationSpec,
    argument: str,
    attack: str,
    value: str,
    base_path: str,
) -> None:
    """Send ``value`` (of the ``attack`` class) as ``argument`` of ``case`` and assert nothing escaped."""
    where = f"{case.label}({argument}) with a {attack} value"
    arguments = {**case.arguments, argument: value}
    echoable = len(value.strip()) >= 6
    run.router.reset()
    failure: BaseException | None = None
    try:
        await conv.call(INTEGRATION, case.operation, **arguments)
    except Exception as exc:  # noqa: BLE001 - judged below, outside the handler
        failure = exc
    if failure is not None:
        assert isinstance(failure, NexoraError), f"{where} raised {type(failure).__name__}"
        run.errors.append(failure)
        assert not (echoable and value in str(failure)), f"{where}: the error echoes the value"
    if attack in _TOOL_ATTACKS:
        try:
            result = await conv.invoke(tool_name(INTEGRATION, case.operation), arguments)
        except NexoraError as exc:
            run.errors.append(exc)
            result = ToolResult.from_error(exc)
        assert not (echoable and value in result.as_json()), f"{where}: the tool result echoes it"
    for call in run.router.calls:
        problem = hostile_request_problem(call.request, spec.endpoints, base_path)
        assert problem is None, f"{where} sent {problem}"
