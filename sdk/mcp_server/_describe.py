"""What an MCP client is told about a tool beyond its schema: annotations and the result's shape.

The annotations are hints for a client's tool picker and its confirmation
prompts, derived from the operation's declared scope, never from the vendor:

* ``readOnlyHint``: the scope reads (``contacts:read``);
* ``destructiveHint``: false for a read and for the standard writes that only
  add something (a note, a comment, a ticket) or re-send one (an invoice);
  true for any other write, which might change or remove what is there;
* ``idempotentHint``: true for a read; false for a write, since calling it
  twice adds twice;
* ``openWorldHint``: false for a read, which sees only the business's own
  records in its configured systems; true for a write, which can reach people
  outside the business (a public comment or a re-sent invoice emails the
  customer).

Results are JSON text (what ``conv.invoke`` returns) and the same value as
``structuredContent`` under ``result``, which ``outputSchema`` describes; MCP
asks for an object there, and a tool's result may be a list or a single value.
"""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue

from sdk._call import Tool
from sdk._connector import Category

__all__ = ["output_schema", "structured", "tool_annotations"]

_ADDITIVE_WRITES = frozenset(
    {
        (Category.CRM, "create_note"),
        (Category.TICKETING, "create_ticket"),
        (Category.TICKETING, "add_comment"),
        (Category.BILLING, "resend_invoice"),
    }
)
"""Standard writes that add a record or re-send one and never change or remove what is there."""


def tool_annotations(tool: Tool) -> dict[str, Any]:
    """The tool's MCP annotations, keyed by their Python names in ``mcp.types.ToolAnnotations``."""
    write = tool.spec.is_write
    return {
        "title": tool.title,
        "read_only_hint": not write,
        "destructive_hint": write and (tool.category, tool.spec.name) not in _ADDITIVE_WRITES,
        "idempotent_hint": not write,
        "open_world_hint": write,
    }


def _kind(tool: Tool) -> str:
    shape = tool.spec.result_adapter.json_schema()
    if shape.get("type") == "array":
        return "a list of records, the most relevant first; empty fields are left out"
    if tool.spec.is_write:
        return 'the record written, or {"status": "done"} when the policy withholds it'
    return "one record, or one value; empty fields are left out"


def output_schema(tool: Tool) -> dict[str, Any]:
    """The shape of ``structuredContent``: the redacted result under ``result``."""
    return {
        "type": "object",
        "properties": {
            "result": {
                "description": (
                    f"What {tool.spec.name.replace('_', ' ')} found or did, redacted by the business's "
                    f"policy: {_kind(tool)}. Null when there is nothing to show."
                )
            }
        },
        "required": ["result"],
        "additionalProperties": False,
    }


def structured(content: JsonValue) -> dict[str, JsonValue]:
    """``structuredContent`` for a successful call: the redacted result under ``result``."""
    return {"result": content}
