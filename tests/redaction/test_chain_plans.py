"""Round two of the fast paths (issue 13): chain plans per shape, and sentences read as far as needed.

``_runs`` plans a digit chain's runs once per shape (digits written "d"), and
``ContextReader`` finds sentence ends only up to the sentence asked about and
answers for the whole text at once when its first sentence read names nothing
and no word of the text could. Both must answer exactly as the slow way does:
the reader against sentences cut from every end and read word by word, in any
order of questions; the plans without keeping anything of a text (S5) and
within their bound whatever shapes a text throws at them.
"""

from __future__ import annotations

import random
import string
from bisect import bisect_right

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdk._redaction import (
    IdentifierType,
    RedactionAction,
    RedactionPolicy,
    _checks,
    _context,
    _runs,
    find_identifiers,
    redact,
    redact_many,
)

T = IdentifierType
MASK_ALL = RedactionPolicy(identifiers=dict.fromkeys(IdentifierType, RedactionAction.MASK))

PIECES = st.sampled_from(
    ["My", "TFN", "tax", "file", "IRD", "no.", "No.", "Ref.", "phone", "call", "order", "ticket", "is", "at",
     "x@example.com", "nhs.help@example.org", "[redacted UK NHS number]", "[card ending 4242]", "\u212a",
     "\u00e9t\u00e9", "Driver licence:", ".", ". ", "! ", "? ", "\n", ":\n", ": \n", "\r\n", "4111 1111",
     "021 123 4567", "123-45-6789", "(09) 379 0000", "+64 21 123 4567", "NHS", "ni", "number", "text"]
)  # fmt: skip
TEXTS = st.lists(
    st.one_of(PIECES, st.text(alphabet=string.ascii_letters + " .!?\n:", max_size=8)), max_size=30
)


def _reference(
    text: str, always: frozenset[IdentifierType], position: int
) -> tuple[frozenset[T], frozenset[T]]:
    """The sentence holding ``position`` cut from all of the text's ends, its words read by regex."""
    ends = [match.end() for match in _context._SENTENCE_END.finditer(text)]
    index = bisect_right(ends, position)
    sentence = text[ends[index - 1] if index else 0 : ends[index] if index < len(ends) else len(text)]
    sentence = _context.MARKER_RE.sub(" ", _context.EMAIL_RE.sub(" ", sentence))
    said = frozenset(_context._named_by_words(sentence))
    return said, said | always


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.sampled_from(["", " ", "\n"]), st.booleans(), st.randoms(use_true_random=False))
def test_the_reader_answers_as_sentences_cut_from_every_end(
    parts: list[str], glue: str, strict: bool, rng: random.Random
) -> None:
    text = glue.join(parts)
    always = frozenset({T.AU_TFN, T.US_SSN}) if strict else frozenset()
    reader = _context.ContextReader(text, always)
    positions = list(range(len(text) + 1))
    rng.shuffle(positions)  # questions come in any order: lettered shapes ask from before a chain
    for position in positions[:40]:
        assert reader.sentence_at(position) == _reference(text, always, position), (text, position)
        assert reader.said_at(position) == _reference(text, always, position)[0]


def test_a_text_whose_first_sentence_names_nothing_still_reads_a_later_one() -> None:
    # The whole-text shortcut is taken only when no word of the text names anything.
    quiet = "About order 123456782, nothing changed. " * 3
    text = quiet + "My TFN is 123456782 for payroll."
    assert redact(text, MASK_ALL).count("[redacted AU tax file number]") == 1
    reader = _context.ContextReader(text)
    assert reader.sentence_at(5) == (frozenset(), frozenset())
    assert reader.sentence_at(len(text) - 3)[0] == {T.AU_TFN}


def test_the_plan_cache_keeps_no_digit_of_any_text() -> None:
    rng = random.Random(1313)
    canaries = [f"{rng.randrange(10**15, 10**16)}" for _ in range(20)]
    texts = [
        f"Card {c[:4]} {c[4:8]} {c[8:12]} {c[12:]} and ref {c[3:13]}, call +64 {c[:9]}." for c in canaries
    ]
    redact_many(texts)
    for text in texts:
        redact(text, MASK_ALL)
    for shape, _, _ in _runs.PLANS:
        assert not any(char.isdigit() for char in shape), shape
        assert set(shape) <= set("d+() -."), shape


def test_the_plan_cache_stays_bounded_whatever_shapes_come() -> None:
    rng = random.Random(7)
    for _ in range(3):
        chains = [
            "-".join(str(rng.randrange(10 ** rng.randint(1, 5))) for _ in range(rng.randint(2, 9)))
            for _ in range(2000)
        ]
        redact(" x ".join(chains))
        assert len(_runs.PLANS) <= _runs._MAX_CACHED_SHAPES
    table = " ".join(str(rng.randrange(10)) for _ in range(3000))  # one chain of 3,000 groups
    before = set(_runs.PLANS)
    redact(table)
    assert all(len(shape) <= _runs._MAX_CACHED_CHARS for shape, _, _ in set(_runs.PLANS) - before)


def test_a_chain_glued_to_words_reads_as_its_own_shape_either_way() -> None:
    # The plan is keyed by the shape and whether the first or last group is glued to a word,
    # so the same shape in two settings never shares an answer it should not.
    card = "4111 1111 1111 1111"
    assert redact(f"card {card} ok") == "card [card ending 1111] ok"
    assert redact(f"card ID{card} ok") == f"card ID{card} ok"
    assert redact(f"card {card}th ok") == f"card {card}th ok"
    assert redact(f"card ID{card}th ok") == f"card ID{card}th ok"
    assert redact(f"card {card} 0th") == "card [card ending 1111] 0th"


def test_no_twelve_digit_number_and_no_number_starting_0_1_or_7_is_a_card() -> None:
    # What lets the plans skip twelve-digit runs and ``is_card`` skip the Luhn sum: every
    # issuer prefix (the first six digits decide) of every length, exhaustively.
    for prefix in range(10**6):
        head = f"{prefix:06d}"
        assert _checks.card_network(head + "000000") is None, head
        if head[0] in "017":
            for length in range(_checks.MIN_CARD_DIGITS, 20):
                assert _checks.card_network(head + "0" * (length - 6)) is None, (head, length)
    rng = random.Random(12)
    for _ in range(2000):
        digits = "".join(rng.choice(string.digits) for _ in range(12))
        assert not _checks.is_card(digits)
        written = f"card {digits[:4]} {digits[4:8]} {digits[8:]}"
        assert T.CARD not in {finding.kind for finding in find_identifiers(written)}


def _long_chain(rng: random.Random) -> str:
    sizes = [rng.randint(1, 5) for _ in range(rng.randint(20, 40))]
    groups = ["".join(rng.choice("0123456789001") for _ in range(size)) for size in sizes]
    chain = groups[0]
    for group in groups[1:]:
        chain += rng.choice([" ", "-", ".", " - ", ") ", " (", ")"]) + group
    return rng.choice(["", "+", "("]) + chain


def test_a_chain_too_long_to_keep_is_planned_for_its_digits_as_the_full_plan_would_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A shape over the cache's length limit is planned with its own first digits, leaving out the
    # runs they make undialable; a plan kept for the shape (every run) must answer the same.
    rng = random.Random(64)
    texts = [rng.choice(["", "call ", "My TFN is ", "ab"]) + _long_chain(rng) for _ in range(300)]
    policies = [RedactionPolicy(), RedactionPolicy(strict=True, phone_regions=("US", "DE", "NZ"))]
    assert sum(len(text) > _runs._MAX_CACHED_CHARS + 6 for text in texts) > 250
    planned = [redact(text, policy) for text in texts for policy in policies]
    monkeypatch.setattr(_runs, "_MAX_CACHED_CHARS", 10**6)
    _runs.PLANS.clear()
    try:
        assert [redact(text, policy) for text in texts for policy in policies] == planned
    finally:
        _runs.PLANS.clear()
