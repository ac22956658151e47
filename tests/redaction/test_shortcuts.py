"""The engine's shortcuts for short fields change no output, under any policy.

A policy that keeps phone numbers and email addresses (the default) has them
looked for only in a text holding something else it writes over, and a text
that cannot hold any identifier but an email address is returned after one
regex search (``_engine._SHORTCUTS``). Here the engine with its shortcuts is
held to the engine without them (the switch off: every text scanned in full)
on generated short fields (``short_fields``) under generated policies, one by
one and in batches, and the regex to the detectors it stands in for.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from sdk._redaction import (
    IdentifierType,
    RedactionAction,
    RedactionPolicy,
    _engine,
    find_identifiers,
    redact,
    redact_many,
)
from sdk._redaction._detectors import scan
from sdk._redaction._fold import fold
from tests.redaction import short_fields as sf
from tests.redaction import vectors as v

T = IdentifierType
KEEP, MASK = RedactionAction.KEEP, RedactionAction.MASK
FIELDS = 3000
BATCHES = 300


def _full(call: object, *args: object) -> object:
    """``call(*args)`` with the shortcuts off."""
    assert callable(call)
    _engine._SHORTCUTS = False
    try:
        return call(*args)
    finally:
        _engine._SHORTCUTS = True


@pytest.fixture(autouse=True)
def _shortcuts_on() -> Iterator[None]:
    assert _engine._SHORTCUTS, "a test left the shortcuts off"
    yield
    _engine._SHORTCUTS = True


@pytest.mark.parametrize("seed", range(4))
def test_short_fields_are_redacted_as_without_shortcuts(seed: int) -> None:
    rng = random.Random(seed)
    changed = 0
    for _ in range(FIELDS // 4):
        policy = sf.policy(rng)
        text = sf.field(rng)
        expected = _full(redact, text, policy)
        assert redact(text, policy) == expected, (text, policy)
        changed += expected != text
    assert changed > FIELDS // 40, "the generated fields hold too few identifiers to test anything"


@pytest.mark.parametrize("seed", range(4))
def test_batches_are_redacted_as_without_shortcuts(seed: int) -> None:
    rng = random.Random(100 + seed)
    for _ in range(BATCHES // 4):
        policy = sf.policy(rng)
        texts = sf.batch(rng)
        expected = _full(redact_many, texts, policy)
        assert redact_many(texts, policy) == expected, (texts, policy)
        assert expected == [redact(text, policy) for text in texts]


@pytest.mark.parametrize("seed", range(3))
def test_long_texts_are_redacted_as_without_shortcuts(seed: int) -> None:
    """Many fields in one text: phone numbers are validated only near what a policy masks."""
    rng = random.Random(200 + seed)
    joins = (". ", " ", "\n", ", ", " - ", ":\n", " call ", " my IRD is ")
    for _ in range(40):
        policy = sf.policy(rng)
        text = "".join(sf.field(rng) + rng.choice(joins) for _ in range(rng.randint(5, 40)))
        expected = _full(redact, text, policy)
        assert redact(text, policy) == expected, (text, policy)
        assert redact_many([text, sf.field(rng)], policy)[0] == expected


def test_runs_that_need_their_neighbours_claimed_are_redacted_as_without_shortcuts() -> None:
    """Chains of identifiers and phone numbers whose runs count only if their neighbours are claimed.

    A kept address puts the scan's email search off; a masked or kept phone
    number, a kept identifier may be what claims a masked run's neighbour.
    """
    rng = random.Random(3)
    for _ in range(3000):
        actions = {kind: rng.choice(list(RedactionAction)) for kind in IdentifierType}
        actions[T.EMAIL] = KEEP
        strict = frozenset(kind for kind in (T.AU_TFN, T.NZ_IRD, T.US_SSN, T.UK_NHS) if rng.random() < 0.3)
        policy = RedactionPolicy(identifiers=actions, strict=strict)
        sep = rng.choice(" -")
        pieces = [
            rng.choice(
                [
                    v.tfn(rng),
                    v.ird(rng).zfill(9),
                    v.ssn(rng),
                    "021 123 4567",
                    rng.choice(["12", "345", "6789"]),
                ]
            )
            for _ in range(rng.randint(2, 4))
        ]
        written = " ".join(p if len(p) != 9 else sep.join((p[:3], p[3:6], p[6:])) for p in pieces)
        text = rng.choice(["TFN ", "call ", "", "SSN "]) + written + rng.choice([" a@b.io", "@x.io", ""])
        assert redact(text, policy) == _full(redact, text, policy), (text, policy)


@pytest.mark.parametrize("policy", [None, RedactionPolicy(strict=True)])
def test_kept_kinds_still_shield_and_claim_as_they_did(policy: RedactionPolicy | None) -> None:
    """Where a kept phone number or address decides what happens to its neighbour, it still does."""
    rng = random.Random(7)
    card = v.card(rng)
    cases = [
        f"{card}@example.test",  # the address keeps the card in its local part
        f"jane.{v.ird(rng)}@example.co.nz",
        "+64 21 123 4567",  # an international number, nothing else in it
        "021 123 4567 772 104 318",  # a phone number, and a TFN only because its neighbours are claimed
        "098-743-545-772 104 318 021 123 4567",
        f"+64 21 123 4567 {card}",
        f"call 021 123 4567 or {v.group(v.tfn(rng), (3, 3, 3))}",
        f"IRD {v.ird(rng)}@x.io",
    ]
    for text in cases:
        expected = _full(redact, text, policy)
        assert redact(text, policy) == expected, text
        assert redact_many([text, "Aroha", text], policy) == [expected, "Aroha", expected]
    assert card not in redact(f"+64 21 123 4567 {card}", policy)
    assert redact(f"{card}@example.test", policy) == f"{card}@example.test"


def test_a_masked_phone_or_address_is_still_found_in_a_short_field() -> None:
    """The shortcuts are for kept kinds only: a policy masking them still masks them."""
    policy = RedactionPolicy(identifiers={T.PHONE: MASK, T.EMAIL: MASK})
    for text in ("+6495550123", "aroha@example.test", "+64 21 123 4567, aroha.7@example.co.nz"):
        redacted = redact(text, policy)
        assert "[redacted" in redacted, text
        assert not any(char.isdigit() for char in redacted), text
        assert redact_many([text], policy) == [redacted]


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from([*"0123456789 -.()+@_aAbBcCdDeEzZ\n", "\u2013", "\uff14", "\u00a0"]),
        max_size=30,
    )
)
def test_the_regex_misses_no_text_a_detector_finds_something_in(text: str) -> None:
    """A text the regex passes over yields no candidate but email addresses, under any strictness."""
    view = fold(text)
    if _engine._MAY_HOLD.search(view) is not None:
        return
    for strict in (frozenset(), frozenset(RedactionPolicy(strict=True).strict)):
        found, _ = scan(view, ("NZ", "AU", "GB", "IE", "US"), strict)
        assert all(candidate.kind is T.EMAIL for candidate in found), (text, found)
    assert all(finding.kind is T.EMAIL for finding in find_identifiers(text))


def test_the_regex_lets_through_every_shape_of_identifier() -> None:
    """Generated identifiers of every type, and phone numbers, alone and as a field's only content."""
    rng = random.Random(11)
    found = 0
    for _ in range(3000):
        text = fold(rng.choice([sf.identifier(rng), sf.phone(rng), sf.record_id(rng)]))
        for strict in (frozenset(), frozenset(RedactionPolicy(strict=True).strict)):
            others = [c for c in scan(text, sf.REGIONS, strict)[0] if c.kind is not T.EMAIL]
            if others:
                found += 1
                assert _engine._MAY_HOLD.search(text) is not None, text
    assert found > 1000, "too few generated texts hold an identifier to test anything"


def test_the_regex_lets_through_the_shortest_numbers_of_every_region() -> None:
    """Every region's example numbers, national and international, spaced and not, national form on.

    The shortest dial with seven digits after a trunk 0 ("0900123" in Albania)
    or "+": the regex's seven-character branch is there for them.
    """
    kinds = [kind for kind in PhoneNumberType.values() if kind != PhoneNumberType.UNKNOWN]
    found = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in kinds:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            for form in (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL):
                written = phonenumbers.format_number(example, form)
                for text in {written, "".join(char for char in written if char.isdigit() or char == "+")}:
                    if any(c.kind is T.PHONE for c in scan(text, (region,), frozenset())[0]):
                        found += 1
                        assert _engine._MAY_HOLD.search(text) is not None, (region, text)
    assert found > 2000, "too few example numbers found to test anything"


@settings(max_examples=1000, deadline=None)
@given(
    st.text(alphabet=st.sampled_from([*"0123456789", " ", "-", ".", "(", ")", "+", "a", "B"]), max_size=22)
)
def test_the_regex_misses_no_digit_chain_a_detector_finds_something_in(text: str) -> None:
    """Chains of digits and separators, where seven- to nine-digit numbers dial or do not."""
    if _engine._MAY_HOLD.search(text) is not None:
        return
    for strict in (frozenset(), frozenset(RedactionPolicy(strict=True).strict)):
        found, _ = scan(text, sf.REGIONS, strict)
        assert not found, (text, found)


def test_a_text_without_an_identifier_is_returned_as_the_same_object() -> None:
    """Nothing to write: the caller's string itself, not a copy (and no scan)."""
    for text in ("Aroha Ngata", "in_T3stPaid000004", "A1B2C3D4-0001", "aroha@example.test", "35438"):
        assert redact(text) is text
    keep_all = RedactionPolicy(identifiers=dict.fromkeys(IdentifierType, KEEP))
    assert redact("+6495550123 4242 4242 4242 4242", keep_all) == "+6495550123 4242 4242 4242 4242"
