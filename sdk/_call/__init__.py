"""The call wing: everything that lives and dies with one phone call.

* :mod:`~sdk._call._conversation`: the conversation, its encrypted cache and lifetime (S2, S5);
* :mod:`~sdk._call._sources`, :mod:`~sdk._call._customer_context`: the caller's context and its
  sealed records; :mod:`~sdk._call._fanout`: how it is fetched from every integration at once;
* :mod:`~sdk._call._policy`, :mod:`~sdk._call._render`, :mod:`~sdk._call._context_text`,
  :mod:`~sdk._call._llm`: what a language model may see, and the text it reads (S6);
* :mod:`~sdk._call._tool_schema`, :mod:`~sdk._call._tool_catalogue`, :mod:`~sdk._call._tool_formats`,
  :mod:`~sdk._call._tool_invoke`: the scoped tools and each provider's shape of them;
* :mod:`~sdk._call._ports`: the protocol the runtime implements for it. Nothing here imports
  the runtime or its configuration.
"""

from sdk._call._context_text import COMMENTS_SHOWN
from sdk._call._conversation import Conversation, scope_of
from sdk._call._customer_context import CustomerContext
from sdk._call._llm import llm_field_view, llm_text, llm_view
from sdk._call._policy import FieldAction, InternalAction, LLMPolicy
from sdk._call._ports import CallRuntime, CallScope
from sdk._call._render import INTERNAL_WITHHELD, LLMRenderer, format_money, mask_field
from sdk._call._sources import SourceRecords, SourceResult, SourceStatus, StepResult
from sdk._call._tool_catalogue import (
    Tool,
    offered_tools,
    tenant_catalogue,
    tenant_tool_definitions,
    tool_definitions,
    tool_name,
)
from sdk._call._tool_formats import FORMATS, ToolFormat
from sdk._call._tool_invoke import ToolResult, invoke_tool

__all__ = [
    "COMMENTS_SHOWN",
    "FORMATS",
    "INTERNAL_WITHHELD",
    "CallRuntime",
    "CallScope",
    "Conversation",
    "CustomerContext",
    "FieldAction",
    "InternalAction",
    "LLMPolicy",
    "LLMRenderer",
    "SourceRecords",
    "SourceResult",
    "SourceStatus",
    "StepResult",
    "Tool",
    "ToolFormat",
    "ToolResult",
    "format_money",
    "invoke_tool",
    "llm_field_view",
    "llm_text",
    "llm_view",
    "mask_field",
    "offered_tools",
    "scope_of",
    "tenant_catalogue",
    "tenant_tool_definitions",
    "tool_definitions",
    "tool_name",
]
