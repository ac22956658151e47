"""``llm_view`` and ``llm_text``: any SDK data, redacted by a tenant's policy, for a language model (S6).

Shared models, lists and mappings of them, plain values and a whole
:class:`~sdk.CustomerContext` render here; the engine is
:class:`~sdk._call._render.LLMRenderer`, the context's own layout
:mod:`sdk._call._context_text`.
"""

from __future__ import annotations

from pydantic import BaseModel, JsonValue

from sdk._call._customer_context import CustomerContext, render_context
from sdk._call._policy import DEFAULT_POLICY, LLMPolicy
from sdk._call._render import LLMRenderer, inline
from sdk._models import SharedModel

__all__ = ["llm_field_view", "llm_text", "llm_view"]


def llm_view(value: object, policy: LLMPolicy | None = None) -> JsonValue:
    """Return ``value`` as JSON-able data (dict, list, str, int, float, bool, None), redacted.

    Pass the tenant's policy (``TenantConfig.redaction``); without one the
    defaults apply. Shared models become dicts without their empty fields and
    without the fields the policy drops; internal records (agents' notes,
    internal comments) are left out unless the policy opts in, and one passed
    on its own renders as None; money becomes
    ``{"amount": "12.50", "currency": "NZD"}``; datetimes ISO 8601 strings;
    enums their values; a customer context its ``for_llm("json")`` layout.
    Raises ``TypeError`` for a type it does not know.
    """
    if isinstance(value, CustomerContext):
        return render_context(value, policy or DEFAULT_POLICY, "json")
    return LLMRenderer(policy or DEFAULT_POLICY).view(value)


def llm_field_view(
    value: object, model: type[SharedModel], field_name: str, policy: LLMPolicy | None = None
) -> JsonValue:
    """Render ``value`` as the field ``model.field_name`` (see :meth:`LLMRenderer.field_view`)."""
    return LLMRenderer(policy or DEFAULT_POLICY).field_view(value, model, field_name)


def llm_text(value: object, policy: LLMPolicy | None = None) -> str:
    """Return ``value`` as compact text for a prompt: one line per record, redacted like :func:`llm_view`."""
    policy = policy or DEFAULT_POLICY
    if isinstance(value, CustomerContext):
        return render_context(value, policy, "text")
    view = LLMRenderer(policy).view(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        if not isinstance(view, list) or not view:
            return "(none)"
        return "\n".join(f"- {inline(item)}" for item in view)
    if view is None:
        return "(none)"  # nothing, or an internal record the policy withholds: the same words
    if isinstance(value, BaseModel):
        return f"{type(value).__name__}: {inline(view)}"
    return inline(view)
