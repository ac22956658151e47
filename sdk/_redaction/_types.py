"""The vocabulary of redaction: what is found, and what a tenant wants done with it.

A policy is data (a tenant writes it in configuration as
``{"identifiers": {"card": "mask"}}``), so it is a frozen pydantic model whose
keys and values are string enums. Types the tenant does not mention keep the
safe defaults: a card keeps its last four digits, email addresses and phone
numbers stay (a voice agent needs them to confirm who is calling), and every
national, tax and health identifier is masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sdk._redaction._phones import DEFAULT_NATIONAL_REGIONS

__all__ = [
    "CONTEXT_DEPENDENT",
    "Finding",
    "IdentifierType",
    "RedactionAction",
    "RedactionPolicy",
]


class IdentifierType(StrEnum):
    """A kind of identifier that redaction recognises in free text."""

    CARD = "card"
    IBAN = "iban"
    EMAIL = "email"
    PHONE = "phone"
    NZ_IRD = "nz_ird"
    NZ_NHI = "nz_nhi"
    NZ_DRIVER_LICENCE = "nz_driver_licence"
    AU_TFN = "au_tfn"
    AU_ABN = "au_abn"
    AU_MEDICARE = "au_medicare"
    AU_IHI = "au_ihi"
    US_SSN = "us_ssn"
    UK_NHS = "uk_nhs"
    UK_NINO = "uk_nino"

    @property
    def label(self) -> str:
        """The words a language model reads in place of the identifier."""
        return _LABELS[self]


_LABELS: Final[MappingProxyType[IdentifierType, str]] = MappingProxyType(
    {
        IdentifierType.CARD: "card",
        IdentifierType.IBAN: "IBAN",
        IdentifierType.EMAIL: "email address",
        IdentifierType.PHONE: "phone number",
        IdentifierType.NZ_IRD: "NZ IRD number",
        IdentifierType.NZ_NHI: "NZ NHI number",
        IdentifierType.NZ_DRIVER_LICENCE: "NZ driver licence number",
        IdentifierType.AU_TFN: "AU tax file number",
        IdentifierType.AU_ABN: "AU ABN",
        IdentifierType.AU_MEDICARE: "AU Medicare number",
        IdentifierType.AU_IHI: "AU IHI number",
        IdentifierType.US_SSN: "US SSN",
        IdentifierType.UK_NHS: "UK NHS number",
        IdentifierType.UK_NINO: "UK NI number",
    }
)


class RedactionAction(StrEnum):
    """What happens to a found identifier in text handed to a language model."""

    MASK = "mask"
    """Replace it entirely, naming only its type."""
    LAST4 = "last4"
    """Replace it, keeping the last four characters (PCI's limit for a card)."""
    KEEP = "keep"
    """Leave it as written."""


DEFAULT_ACTIONS: Final[MappingProxyType[IdentifierType, RedactionAction]] = MappingProxyType(
    {
        kind: {
            IdentifierType.CARD: RedactionAction.LAST4,
            IdentifierType.EMAIL: RedactionAction.KEEP,
            IdentifierType.PHONE: RedactionAction.KEEP,
        }.get(kind, RedactionAction.MASK)
        for kind in IdentifierType
    }
)


def _default_identifiers() -> dict[IdentifierType, RedactionAction]:
    return dict(DEFAULT_ACTIONS)


CONTEXT_DEPENDENT: Final = frozenset(
    {
        IdentifierType.NZ_IRD,
        IdentifierType.NZ_NHI,
        IdentifierType.NZ_DRIVER_LICENCE,
        IdentifierType.AU_TFN,
        IdentifierType.AU_MEDICARE,
        IdentifierType.US_SSN,
        IdentifierType.UK_NHS,
        IdentifierType.UK_NINO,
    }
)
"""Types that some written forms make count only when their sentence names them.

A driver licence has no check digit; an IRD, TFN, NHS or Medicare number
has a check that one random number in ten or eleven passes, and an SSN none,
so unless written in its conventional grouping each needs a context word; an
NHI or NI number written in lower case does too. These are the types a strict
policy can take without context words; the others never need them.
"""


class RedactionPolicy(BaseModel):
    """A tenant's choice of action per identifier type.

    Types left out of ``identifiers`` take the defaults, and the validated
    model always lists every type, so what a policy does is readable from
    the policy itself.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    identifiers: dict[IdentifierType, RedactionAction] = Field(
        default_factory=_default_identifiers,
        description=(
            'Action per identifier type found inside free text, e.g. {card = "last4", nz_ird = "mask"}; '
            "types left out take their defaults (docs: Redaction)."
        ),
    )
    phone_regions: tuple[str, ...] = Field(
        default=DEFAULT_NATIONAL_REGIONS,
        description=(
            "Countries (ISO 3166 alpha-2, as libphonenumber names them: GB for the UK) whose "
            "national, trunk-0 phone format is recognised. Numbers in international form "
            "(+CC or 00CC) are recognised for every country."
        ),
    )

    strict: frozenset[IdentifierType] = Field(
        default=frozenset(),
        description=(
            "Types masked without context words: every sentence counts as naming them, so an "
            "unspaced IRD or SSN and a driver licence are taken wherever they stand, at the cost "
            "of order numbers of the same shape. true means every type this can apply to "
            "(nz_ird, nz_nhi, nz_driver_licence, au_tfn, au_medicare, us_ssn, uk_nhs, uk_nino)."
        ),
    )

    @field_validator("strict", mode="before")
    @classmethod
    def _strict_switch(cls, value: object) -> object:
        if value is True:
            return CONTEXT_DEPENDENT
        if value is False or value is None:
            return frozenset()
        return value

    @field_validator("strict", mode="after")
    @classmethod
    def _strict_applies(cls, value: frozenset[IdentifierType]) -> frozenset[IdentifierType]:
        others = sorted(kind.value for kind in value - CONTEXT_DEPENDENT)
        if others:
            raise ValueError(
                f"strict cannot apply to {others}: they are found without context words already; "
                "it applies to " + ", ".join(sorted(kind.value for kind in CONTEXT_DEPENDENT))
            )
        return value

    @field_validator("identifiers", mode="after")
    @classmethod
    def _fill_defaults(
        cls, value: dict[IdentifierType, RedactionAction]
    ) -> dict[IdentifierType, RedactionAction]:
        return {kind: value.get(kind, DEFAULT_ACTIONS[kind]) for kind in IdentifierType}

    @field_validator("phone_regions", mode="after")
    @classmethod
    def _known_regions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [region for region in value if region not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(
                f"unknown phone region(s) {unknown}: use ISO 3166 alpha-2 codes in capitals, e.g. 'NZ', 'GB'"
            )
        return value

    def action_for(self, kind: IdentifierType) -> RedactionAction:
        """Return the action this policy takes on identifiers of ``kind``."""
        return self.identifiers.get(kind, DEFAULT_ACTIONS[kind])


@dataclass(frozen=True, slots=True)
class Finding:
    """Where one identifier sits in a text: ``text[start:end]``.

    The value itself is deliberately not stored, so a finding can be logged,
    counted or put in an exception without carrying the identifier along.
    """

    kind: IdentifierType
    start: int
    end: int
