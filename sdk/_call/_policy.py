"""What a tenant lets a language model see of its data: the policy itself (S6).

The policy is configuration (``[tenants.<id>.redaction]``), validated when the
configuration loads; :mod:`sdk._call._render` applies it. Kept apart from the
renderer so that the configuration needs no rendering code to validate.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field, field_validator

from sdk import _models
from sdk._models import Money, Sensitive, SharedModel
from sdk._redaction import RedactionAction, RedactionPolicy

__all__ = [
    "DEFAULT_POLICY",
    "SHARED_MODELS",
    "FieldAction",
    "InternalAction",
    "LLMPolicy",
]


InternalAction = Literal["drop", "mask", "keep"]
"""What the model sees of internal records (agents' notes, internal ticket comments)."""
FieldAction = Literal["keep", "last4", "mask", "drop"]
"""What the model sees of one field of a shared model."""


def _configurable_models() -> dict[str, type[SharedModel]]:
    """The shared models whose fields a policy may name: every record type, not the ``Money`` value."""
    found: dict[str, type[SharedModel]] = {}
    for name in _models.__all__:
        item = getattr(_models, name)
        if isinstance(item, type) and issubclass(item, SharedModel) and item not in (SharedModel, Money):
            found[name] = item
    return found


SHARED_MODELS: Final = _configurable_models()
"""The shared models by name: what a policy's ``fields`` keys may name."""
_FIXED_FIELDS: Final = frozenset({"TicketComment.public"})
"""Fields a policy may not change: without ``public`` a model would read an internal note as a reply."""


class LLMPolicy(RedactionPolicy):
    """A tenant's policy for everything handed to a language model (S6).

    It is a :class:`~sdk.RedactionPolicy` (``identifiers`` and ``phone_regions``
    govern identifiers found inside free text) plus what the model sees of
    structured data. Configured as ``[tenants.<id>.redaction]``::

        pii = "keep"      # names, emails, phone numbers, free text people wrote
        pci = "last4"     # payment card data
        health = "mask"   # health identifiers and information
        internal_notes = "drop"   # agents' notes and internal ticket comments
        identifiers = { card = "last4", nz_ird = "mask" }   # inside free text
        fields = { "Contact.email" = "mask", "Invoice.amount_due" = "drop" }

    The defaults keep PII because a voice agent must be able to greet the
    caller by name and read back the email on file; card data keeps only its
    last four characters, the part a caller quotes to confirm a card; health
    data is masked because an agent has no use for it on a phone line.

    Internal records (a :class:`~sdk.Note`, a :class:`~sdk.TicketComment`
    whose ``public`` is false) are dropped by default: staff write them for
    staff ("caller was abusive", "refund declined, do not offer again"), and a
    model that has read one can be talked into reading it out. Dropped means
    absent: no placeholder and no count, so the model does not learn they
    exist. ``mask`` keeps each record's metadata (visibility, date, author
    id) with its text replaced; ``keep`` hands it over like any other record,
    still through the free-text redactor.

    ``fields`` overrides the action for single fields of the shared models,
    named ``Model.field``; a field it does not name keeps its default (the
    sensitivity action for a marked field, ``keep`` for the rest). ``last4``
    on a field keeps the tail of a value of eight or more letters and digits
    and masks shorter ones. An unknown model or field is a configuration
    error naming the key. A kept field still goes through free-text
    redaction; whether an internal record is shown at all is
    ``internal_notes``'s decision, never a field's.

    Subclassing (rather than wrapping) the engine's policy means any setting
    the engine gains is configurable here without a change.
    """

    pii: RedactionAction = Field(
        default=RedactionAction.KEEP,
        description="Fields marked PII (names, emails, phone numbers, free text people wrote): kept.",
    )
    pci: RedactionAction = Field(
        default=RedactionAction.LAST4,
        description="Fields marked PCI (payment card data): only the last four characters by default.",
    )
    health: RedactionAction = Field(
        default=RedactionAction.MASK,
        description="Fields marked health (identifiers, information): masked.",
    )
    internal_notes: InternalAction = Field(
        default="drop",
        description="Agents' notes and internal ticket comments: drop (default), mask their text, or keep.",
    )
    fields: dict[str, FieldAction] = Field(
        default_factory=dict,
        description='Per field of a shared model, e.g. {"Contact.email": "mask"}: keep, last4, mask or drop.',
    )

    @field_validator("fields", mode="after")
    @classmethod
    def _known_fields(cls, value: dict[str, FieldAction]) -> dict[str, FieldAction]:
        for key in value:
            model_name, dot, field_name = key.partition(".")
            model = SHARED_MODELS.get(model_name)
            if not dot or model is None:
                raise ValueError(
                    f"fields key {key!r} names no shared model: write Model.field, with Model one of "
                    + ", ".join(sorted(SHARED_MODELS))
                )
            if field_name not in model.model_fields:
                raise ValueError(
                    f"fields key {key!r}: {model_name} has no field {field_name!r} (its fields: "
                    + ", ".join(model.model_fields)
                    + ")"
                )
            if key in _FIXED_FIELDS:
                raise ValueError(
                    f"fields key {key!r} cannot be set: the model needs it to tell an internal note "
                    "from a public reply; use internal_notes to decide what it sees of them"
                )
        return value

    def field_action(self, sensitivity: Sensitive) -> RedactionAction:
        """The action for a structured field of ``sensitivity``."""
        if sensitivity is Sensitive.PII:
            return self.pii
        if sensitivity is Sensitive.PCI:
            return self.pci
        return self.health


DEFAULT_POLICY: Final = LLMPolicy()
"""The policy of a tenant that configured none, and of ``llm_view`` called without one."""
