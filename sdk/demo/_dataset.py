"""The demo's one synthetic caller, as the three sandbox vendors know them.

Everything here is made up: names use the reserved ``.example`` domain and
the phone numbers are in the 555 range. One ticket comment holds a card number
(Stripe's documented test card) and an NZ IRD number (the textbook example
that passes the check-digit rule), which a redaction step at the language-model
boundary must mask.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["CALLER", "CARD_LIKE", "IRD_LIKE", "SENSITIVE_COMMENT", "DemoCaller", "Clock"]

CARD_LIKE = "4242 4242 4242 4242"
"""Stripe's documented test Visa number: passes the Luhn check, charges nothing anywhere."""
IRD_LIKE = "049-091-850"
"""An IRD number that passes the NZ check-digit rule (weights 3,2,7,6,5,4,3,2, mod 11)."""

SENSITIVE_COMMENT = (
    "Hi, I was charged twice for invoice KPL-0042. I paid with my card "
    f"{CARD_LIKE} on the 3rd and it went through again on the 4th. "
    f"My IRD number is {IRD_LIKE} if you need it for the GST credit note."
)


@dataclass(frozen=True, slots=True)
class DemoCaller:
    """The person who rings in, with their company."""

    first_name: str = "Aroha"
    last_name: str = "Parata"
    email: str = "aroha.parata@kowhai-plumbing.example"
    phone_e164: str = "+64215550100"
    phone_national: str = "021 555 0100"
    """How the billing and CRM staff typed the number in."""
    phone_international: str = "+64 21 555 0100"
    company: str = "Kowhai Plumbing Ltd"
    company_domain: str = "kowhai-plumbing.example"
    company_phone: str = "09 555 0199"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


CALLER = DemoCaller()


class Clock:
    """Times relative to when the sandbox was built, in each vendor's format."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def epoch(self, days: float) -> int:
        """Unix seconds ``days`` from now (negative: in the past)."""
        return int(self.now + days * 86400)

    def iso(self, days: float, *, millis: bool = False) -> str:
        """ISO 8601 UTC with a ``Z``, as HubSpot (with milliseconds) and Zendesk write it."""
        moment = datetime.fromtimestamp(self.now + days * 86400, tz=UTC)
        text = moment.isoformat(timespec="milliseconds" if millis else "seconds")
        return text.replace("+00:00", "Z")
