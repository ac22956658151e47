"""Property tests: redaction is stable, leaves plain prose alone, and never misses a card."""

from __future__ import annotations

import itertools
import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from sdk._redaction import IdentifierType, RedactionAction, RedactionPolicy, find_identifiers, redact
from tests.redaction import vectors as v

T = IdentifierType
MASK_ALL = RedactionPolicy(identifiers=dict.fromkeys(IdentifierType, RedactionAction.MASK))
LAST4_ALL = RedactionPolicy(identifiers=dict.fromkeys(IdentifierType, RedactionAction.LAST4))
POLICIES = st.sampled_from([RedactionPolicy(), MASK_ALL, LAST4_ALL])

NO_DIGITS = st.text(alphabet=st.characters(blacklist_characters="0123456789"), max_size=60)
WORDS = st.sampled_from(
    [
        "my", "card", "is", "IRD", "TFN", "NHS", "SSN", "Medicare", "NHI", "licence", "call", "phone",
        "order", "ticket", "refund", "ABN", "IHI", "national insurance", ".", ",", "\n", "(", ")", "+",
        "-", "#", ":", "[redacted UK NHS number]", "[card ending 4242]", "x@example.com",
    ]
)  # fmt: skip


def _identifier(seed: int) -> str:
    rng = random.Random(seed)
    prefix, length = rng.choice([(p, n) for _, p, n in v.CARD_PREFIXES])
    choices = [
        v.card(rng, prefix, length),
        v.group(v.card(rng, prefix, length), (4, 4, 4, 4), rng.choice(" -")),
        v.iban(rng, rng.choice(["GB", "DE", "FR"])),
        v.ird(rng),
        v.group(v.ird(rng).zfill(9), (3, 3, 3), "-"),
        v.group(v.tfn(rng), (3, 3, 3)),
        v.abn(rng),
        v.group(v.nhs(rng), (3, 3, 4)),
        v.group(v.medicare(rng, irn=rng.random() < 0.5), (4, 5, 1, 1)),
        v.ihi(rng),
        v.group(v.ssn(rng), (3, 2, 4), "-"),
        v.nino(rng),
        v.nhi_old(rng),
        v.nhi_new(rng).lower(),
        v.driver_licence(rng),
        "+64 21 123 4567",
        "021 123 4567",
        str(rng.randint(1, 10**12)),
    ]
    return rng.choice(choices)


PIECES = st.one_of(
    WORDS, st.integers(0, 10**9).map(_identifier), st.from_regex(r"[0-9]{1,19}", fullmatch=True)
)
TEXTS = st.lists(PIECES, max_size=25).flatmap(
    lambda pieces: st.lists(
        st.sampled_from([" ", "", "-", " - ", ". "]), min_size=len(pieces), max_size=len(pieces)
    ).map(lambda seps: "".join(p + s for p, s in zip(pieces, seps, strict=True)))
)


@settings(max_examples=300)
@given(TEXTS, POLICIES)
def test_redacting_twice_changes_nothing_more(text: str, policy: RedactionPolicy) -> None:
    once = redact(text, policy)
    assert redact(once, policy) == once


@settings(max_examples=200)
@given(st.text(), POLICIES)
def test_arbitrary_text_yields_ordered_disjoint_findings_and_a_stable_redaction(
    text: str, policy: RedactionPolicy
) -> None:
    findings = find_identifiers(text)
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
    for first, second in itertools.pairwise(findings):
        assert first.end <= second.start
    once = redact(text, policy)
    assert redact(once, policy) == once


@given(st.text(alphabet=st.characters(blacklist_characters="0123456789@")), POLICIES)
def test_text_without_digits_or_at_signs_is_unchanged(text: str, policy: RedactionPolicy) -> None:
    assert redact(text, policy) == text


@given(NO_DIGITS, NO_DIGITS, st.integers(0, 10**9), st.sampled_from(["", " ", "-"]))
def test_a_valid_card_inside_any_text_is_masked(before: str, after: str, seed: int, sep: str) -> None:
    rng = random.Random(seed)
    prefix, length = rng.choice([(p, n) for _, p, n in v.CARD_PREFIXES])
    number = v.card(rng, prefix, length)
    written = v.group(number, (4, 4, 4, 4), sep) if sep else number
    redacted = redact(f"{before} {written} {after}")
    assert number not in re.sub(r"\D", "", redacted)
    assert f"[card ending {number[-4:]}]" in redacted


@given(NO_DIGITS, NO_DIGITS, st.from_regex(r"[1-9][0-9]{15}", fullmatch=True))
def test_a_luhn_invalid_sixteen_digit_number_is_never_masked(before: str, after: str, number: str) -> None:
    if v.luhn_ok(number):
        number = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not v.luhn_ok(number)
    text = f"{before} {number} {after}"
    assert redact(text, MASK_ALL) == text
