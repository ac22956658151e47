"""``CustomerContext``: the caller across a tenant's integrations, with its records sealed.

The model's fields are statuses and timings only (safe to log or dump). The
records live as one sealed entry in the conversation's encrypted cache (S5):
hangup's wipe reaches them, and reading them afterwards raises
:class:`~sdk.ConversationClosedError`. Each read decrypts and validates the
entry once and hands the models over as they are; the renderers work on those
models directly. How the context is fetched is :mod:`sdk._call._fanout`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, Literal, TypeVar, overload

from pydantic import BaseModel, ConfigDict, JsonValue, PrivateAttr

from sdk._cache import ConversationCache
from sdk._call._context_text import context_text, context_view
from sdk._call._policy import LLMPolicy
from sdk._call._sources import SourceRecords, SourceResult, SourceStatus
from sdk._connector import Category
from sdk._errors import InvalidArgumentsError, UsageError
from sdk._models import Account, BillingCustomer, Contact, Invoice, Money, Subscription, Ticket

__all__ = ["CustomerContext", "render_context", "seal_context"]

_SEALED_INTEGRATION = "~customer-context"
"""Cache namespace of sealed contexts; '~' is outside the integration id alphabet, so no
integration's entries can collide with it or be discarded with it after a write."""

T = TypeVar("T")


class _AllRecords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[str, SourceRecords]


class _Sealed:
    """Where a context's records live: one sealed entry in the conversation's cache.

    Copies of a context share it (there is one conversation to wipe), and it
    refuses to be pickled: customer data never leaves the process.
    """

    __slots__ = ("_cache", "_token")

    def __init__(self, cache: ConversationCache, records: _AllRecords) -> None:
        self._cache = cache
        self._token = secrets.token_bytes(16)
        cache.put(_SEALED_INTEGRATION, "records", self._token, records.model_dump_json().encode())

    def open(self) -> dict[str, SourceRecords]:
        payload = self._cache.get(_SEALED_INTEGRATION, "records", self._token)
        if payload is None:  # pragma: no cover - entries of this namespace are only dropped by a wipe
            raise UsageError("this customer context's records are gone; fetch the context again")
        return _AllRecords.model_validate_json(payload).sources

    def __deepcopy__(self, memo: dict[int, object]) -> _Sealed:
        return self

    def __reduce__(self) -> Any:
        raise UsageError("a CustomerContext cannot be pickled: its data must never leave the process")


class CustomerContext(BaseModel):
    """The caller's context across the tenant's integrations, from ``conv.customer_context(...)``.

    The model's fields are statuses and timings only (safe to log or dump);
    the records are read through :meth:`records` and the accessors, which
    decrypt them from the conversation's cache on each access and raise
    :class:`~sdk.ConversationClosedError` once the conversation is over. Hand
    the model :meth:`for_llm`, which applies the tenant's redaction policy.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[str, SourceResult]
    """Per integration id, in the tenant's configuration order (empty when unidentified)."""
    budget_ms: float
    elapsed_ms: float
    identified: bool = True
    """False when the caller withheld their number and gave nothing else: nobody was looked up."""

    _sealed: _Sealed | None = PrivateAttr(default=None)
    _policy: LLMPolicy = PrivateAttr(default_factory=LLMPolicy)

    # --- status ----------------------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        """True when every source that could answer did, definitively (found the caller once, or nobody).

        A source that cannot search by the identifier given (``unsupported``: Jira Service
        Management by phone) is left out: it could not have answered, and counting it would mark
        every phone-only call incomplete. A source whose page walk was cut short (``truncated``)
        did not answer definitively. An unidentified caller has nothing complete about them.
        """
        return self.identified and all(
            s.status in (SourceStatus.OK, SourceStatus.NOT_FOUND) and not s.truncated
            for s in self.sources.values()
            if s.status is not SourceStatus.UNSUPPORTED
        )

    # --- records ---------------------------------------------------------------------------------

    def _records(self) -> dict[str, SourceRecords]:
        if self._sealed is None:
            return {}
        return self._sealed.open()

    def records(self, integration: str) -> SourceRecords:
        """Everything one integration delivered (candidates too, when it was ambiguous)."""
        if integration not in self.sources:
            known = ", ".join(self.sources) or "none"
            raise UsageError(f"this context has no source {integration!r} (sources: {known})")
        return self._records().get(integration, SourceRecords())

    def _first(self, category: Category, pick: Callable[[SourceRecords], T | None]) -> T | None:
        records = self._records()
        for integration, result in self.sources.items():
            if result.category is category and integration in records:
                found = pick(records[integration])
                if found is not None:
                    return found
        return None

    def _all(self, category: Category, pick: Callable[[SourceRecords], tuple[T, ...]]) -> tuple[T, ...]:
        records = self._records()
        return tuple(
            item
            for integration, result in self.sources.items()
            if result.category is category and integration in records
            for item in pick(records[integration])
        )

    @property
    def contact(self) -> Contact | None:
        """The caller's CRM contact (from the first CRM integration that found exactly one)."""
        return self._first(Category.CRM, lambda r: r.contact)

    @property
    def account(self) -> Account | None:
        return self._first(Category.CRM, lambda r: r.account)

    @property
    def tickets(self) -> tuple[Ticket, ...]:
        """The caller's tickets from every ticketing integration, each source's open ones first."""
        return self._all(Category.TICKETING, lambda r: r.tickets)

    @property
    def billing_customer(self) -> BillingCustomer | None:
        return self._first(Category.BILLING, lambda r: r.customer)

    @property
    def balance(self) -> Money | None:
        """What the caller owes (positive) or holds in credit (negative)."""
        return self._first(Category.BILLING, lambda r: r.balance)

    @property
    def invoices(self) -> tuple[Invoice, ...]:
        return self._all(Category.BILLING, lambda r: r.invoices)

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return self._all(Category.BILLING, lambda r: r.subscriptions)

    # --- rendering for a language model ----------------------------------------------------------

    @overload
    def for_llm(self, format: Literal["text"] = "text") -> str: ...

    @overload
    def for_llm(self, format: Literal["json"]) -> dict[str, JsonValue]: ...

    def for_llm(self, format: Literal["text", "json"] = "text") -> str | dict[str, JsonValue]:
        """Render the context for a language model, redacted with the tenant's policy (S6).

        ``text`` is a few lines per source, what a voice agent's prompt can
        afford; ``json`` is the same content as a dict. Both say plainly when
        a source found nothing, found several candidates, ran out of time,
        was denied or failed, so the model never mistakes silence for absence.
        Internal ticket comments are left out unless the tenant's policy opts
        in (``internal_notes``), and its per-field rules apply; the records
        from :meth:`records` and the accessors stay complete for agent code.
        """
        if format not in ("text", "json"):
            raise InvalidArgumentsError("for_llm: format must be 'text' or 'json'")
        return render_context(self, self._policy, format)

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise UsageError("a CustomerContext cannot be pickled: its data must never leave the process")


@overload
def render_context(context: CustomerContext, policy: LLMPolicy, format: Literal["text"]) -> str: ...


@overload
def render_context(
    context: CustomerContext, policy: LLMPolicy, format: Literal["json"]
) -> dict[str, JsonValue]: ...


def render_context(
    context: CustomerContext, policy: LLMPolicy, format: Literal["text", "json"]
) -> str | dict[str, JsonValue]:
    """``context`` rendered under ``policy``: its records are decrypted once, straight into models."""
    if not context.identified:
        if format == "text":
            return UNIDENTIFIED_TEXT
        return {"caller": "unidentified", "reason": "caller ID withheld", "sources": {}}
    records = context._records()
    if format == "text":
        return context_text(context.sources, records, policy)
    return context_view(context.sources, records, policy)


UNIDENTIFIED_TEXT = (
    "The caller is not identified: their caller ID is withheld, so no records were looked up. "
    "Ask who is calling (an email address or an account number) before discussing an account."
)
"""What a model reads for a withheld caller: never silence it could mistake for "no records"."""


def seal_context(
    context: CustomerContext,
    records: dict[str, SourceRecords],
    *,
    cache: ConversationCache,
    policy: LLMPolicy,
) -> CustomerContext:
    """Seal ``records`` into the conversation's ``cache`` for ``context``, under the tenant's ``policy``."""
    context._sealed = _Sealed(cache, _AllRecords(sources=records))
    context._policy = policy
    return context
