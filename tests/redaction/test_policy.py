"""Tenant policies: mask, keep the last four, or keep, per identifier type."""

from __future__ import annotations

import random
import re

import pytest
from pydantic import ValidationError

from sdk._redaction import IdentifierType, RedactionAction, RedactionPolicy, mask, redact
from tests.redaction import vectors as v

T = IdentifierType
A = RedactionAction


def sample(kind: IdentifierType) -> str:
    """One valid identifier of ``kind``, written so that it is found without context words."""
    rng = random.Random(11)
    return {
        T.CARD: "4242 4242 4242 4242",
        T.IBAN: "GB82 WEST 1234 5698 7654 32",
        T.EMAIL: "jane.doe@example.co.nz",
        T.PHONE: "+64 21 123 4567",
        T.NZ_IRD: "49-091-850",
        T.NZ_NHI: v.nhi_new(rng),
        T.NZ_DRIVER_LICENCE: "driver licence " + v.driver_licence(rng),
        T.AU_TFN: "TFN " + v.tfn(rng),
        T.AU_ABN: "51 824 753 556",
        T.AU_MEDICARE: v.group(v.medicare(rng), (4, 5, 1)),
        T.AU_IHI: v.group(v.ihi(rng), (4, 4, 4, 4)),
        T.US_SSN: v.group(v.ssn(rng), (3, 2, 4), "-"),
        T.UK_NHS: "943 476 5919",
        T.UK_NINO: v.nino(rng),
    }[kind]


def test_defaults_keep_last_four_of_cards_keep_contact_details_and_mask_the_rest() -> None:
    policy = RedactionPolicy()
    assert policy.action_for(T.CARD) is A.LAST4
    assert policy.action_for(T.EMAIL) is A.KEEP
    assert policy.action_for(T.PHONE) is A.KEEP
    masked = set(IdentifierType) - {T.CARD, T.EMAIL, T.PHONE}
    assert all(policy.action_for(kind) is A.MASK for kind in masked)
    assert set(policy.identifiers) == set(IdentifierType)


def test_a_partial_policy_from_configuration_fills_in_the_defaults() -> None:
    policy = RedactionPolicy.model_validate({"identifiers": {"card": "mask", "phone": "last4"}})
    assert policy.action_for(T.CARD) is A.MASK
    assert policy.action_for(T.PHONE) is A.LAST4
    assert policy.action_for(T.UK_NHS) is A.MASK
    assert policy.identifiers[T.EMAIL] is A.KEEP


@pytest.mark.parametrize(
    "bad",
    [
        {"identifiers": {"passport": "mask"}},
        {"identifiers": {"card": "hide"}},
        {"identifiers": {}, "cards": "mask"},
        {"phone_regions": ["XX"]},
        {"phone_regions": ["nz"]},
    ],
)
def test_policies_with_unknown_types_actions_fields_or_regions_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RedactionPolicy.model_validate(bad)


def test_policies_are_frozen() -> None:
    policy = RedactionPolicy()
    with pytest.raises(ValidationError):
        policy.identifiers = {}  # type: ignore[misc]


@pytest.mark.parametrize("kind", list(IdentifierType))
@pytest.mark.parametrize("action", list(RedactionAction))
def test_each_action_applies_to_each_type_and_to_nothing_else(
    kind: IdentifierType, action: RedactionAction
) -> None:
    written = sample(kind)
    text = f"Note from the caller. {written}. Order 12345 is unrelated."
    policy = RedactionPolicy(identifiers={other: A.KEEP for other in IdentifierType} | {kind: action})
    redacted = redact(text, policy)
    if action is A.KEEP:
        assert redacted == text
        return
    assert redacted.startswith("Note from the caller. ")
    assert redacted.endswith(". Order 12345 is unrelated.")
    value = re.sub(r"^(driver licence|TFN) ", "", written)
    assert value not in redacted
    tail = "".join(c for c in value if c.isalnum())[-4:]
    if action is A.LAST4 and len("".join(c for c in value if c.isalnum())) >= 8:
        assert f"[{kind.label} ending {tail}]" in redacted
    else:
        assert f"[redacted {kind.label}]" in redacted
        assert tail not in redacted.replace("12345", "")


def test_last4_never_shows_more_than_the_last_four_digits_of_a_card() -> None:
    for seed in range(50):
        rng = random.Random(seed)
        prefix, length = rng.choice([(p, n) for _, p, n in v.CARD_PREFIXES])
        number = v.card(rng, prefix, length)
        redacted = redact(f"Card {v.group(number, (4,) * 5)} on file.")
        assert redacted == f"Card [card ending {number[-4:]}] on file."
        leftover = re.sub(r"\D", "", redacted)
        assert leftover == number[-4:]


def test_mask_for_structured_fields() -> None:
    assert mask("4242424242424242", T.CARD, A.LAST4) == "[card ending 4242]"
    assert mask("4242424242424242", T.CARD) == "[card ending 4242]"
    assert mask("943 476 5919", T.UK_NHS, A.MASK) == "[redacted UK NHS number]"
    assert mask("943 476 5919", T.UK_NHS) == "[redacted UK NHS number]"
    assert mask("jane@example.com", T.EMAIL, A.KEEP) == "jane@example.com"


def test_last4_of_a_short_value_masks_it_entirely_rather_than_showing_half() -> None:
    assert mask("ZZZ0016", T.NZ_NHI, A.LAST4) == "[redacted NZ NHI number]"
    assert mask("49-091-850", T.NZ_IRD, A.LAST4) == "[NZ IRD number ending 1850]"
