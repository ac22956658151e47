"""The engine's shortcuts answer exactly as the slow paths they stand in front of.

Each cheap rejection or cached lookup in ``sdk._redaction`` is only allowed if
it never changes an answer: the table-driven Luhn against stdnum's, the IBAN
registry compiled once against stdnum's ``is_valid``, the North American cut
rule against libphonenumber's metadata, the byte-level reading of context
words against the regex one, and a batch against one text at a time.
"""

from __future__ import annotations

import itertools
import random
import string

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat
from stdnum import iban as stdnum_iban
from stdnum import luhn as stdnum_luhn
from stdnum import numdb

from sdk._redaction import (
    IdentifierType,
    RedactionAction,
    RedactionPolicy,
    _checks,
    _context,
    redact,
    redact_many,
)
from sdk._redaction._phones import NANP_CUTS, boundaries
from tests.redaction import forms
from tests.redaction import vectors as v

T = IdentifierType
MASK_ALL = RedactionPolicy(identifiers=dict.fromkeys(IdentifierType, RedactionAction.MASK))
LAST4_ALL = RedactionPolicy(identifiers=dict.fromkeys(IdentifierType, RedactionAction.LAST4))
POLICIES = st.sampled_from([RedactionPolicy(), MASK_ALL, LAST4_ALL, RedactionPolicy(strict=True)])


@given(st.text(alphabet="0123456789", min_size=1, max_size=24))
def test_table_luhn_agrees_with_stdnum(digits: str) -> None:
    assert _checks.luhn_ok(digits) == (stdnum_luhn.checksum(digits) == 0) == v.luhn_ok(digits)


def test_table_luhn_accepts_every_generated_card() -> None:
    rng = random.Random(7)
    for _, prefix, length in v.CARD_PREFIXES:
        for _ in range(20):
            number = v.card(rng, prefix, length)
            assert _checks.luhn_ok(number)
            assert _checks.is_card(number)
            assert not _checks.luhn_ok(v.broken(T.CARD, number))


def _registry_countries() -> list[str]:
    return [prefix[1] for prefix in numdb.get("iban").prefixes if len(prefix[1]) == 2]


def test_iban_check_agrees_with_stdnum_for_every_registered_country() -> None:
    rng = random.Random(11)
    countries = _registry_countries()
    assert len(countries) > 60
    alphabet = string.ascii_uppercase + string.digits
    for country in countries:
        length = _checks.iban_length(country)
        assert length is not None
        for _ in range(25):
            body = "".join(
                rng.choice(alphabet if rng.random() < 0.3 else string.digits) for _ in range(length - 4)
            )
            check = f"{98 - int(''.join(str(int(c, 36)) for c in body + country + '00')) % 97:02d}"
            for value in (country + check + body, country + f"{(int(check) + 1) % 100:02d}" + body):
                assert _checks.is_iban(value) == stdnum_iban.is_valid(value, check_country=False), value


@given(st.text(alphabet=string.ascii_uppercase + string.digits, min_size=5, max_size=36))
def test_iban_check_agrees_with_stdnum_on_arbitrary_strings(value: str) -> None:
    assert _checks.is_iban(value) == stdnum_iban.is_valid(value, check_country=False)


def test_every_valid_north_american_number_is_cut_where_nanp_cuts_says() -> None:
    """The rule that skips validating other groupings rests on this: a 10-digit US number formats 3-3-4."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("US")
    assert metadata is not None
    assert metadata.general_desc is not None
    assert tuple(metadata.general_desc.possible_length) == (10,)
    ten_digit = [f for f in metadata.number_format if f.pattern == r"(\d{3})(\d{3})(\d{4})"]
    assert ten_digit, "the US format for ten digits changed: revisit NANP_CUTS"
    rng = random.Random(3)
    seen = 0
    while seen < 200:
        number = phonenumbers.PhoneNumber(
            country_code=1, national_number=int(f"{rng.randint(2, 9)}{rng.randrange(10**9):09d}")
        )
        if not phonenumbers.is_valid_number_for_region(number, "US"):
            continue
        written = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        groups = tuple(len(run) for run in "".join(c if c.isdigit() else " " for c in written).split())
        assert boundaries(groups) == set(NANP_CUTS), written
        seen += 1


SENTENCE_CHARS = st.sampled_from(
    [*string.ascii_letters, *" .,:;-()[]@#'\"!?\t", *"0123456789", "\u212a", "\u0130", "\u00e9"]
)
WORDS = st.sampled_from(
    ["IRD", "tax", "file", "Tax File", "national", "insurance", "NI", "no", "number", "inland", "revenue",
     "phone", "call", "x@example.com", "nhs.help@example.org", "[redacted UK NHS number]", "Licence", "dl",
     "chi", "which"]
)  # fmt: skip


@given(st.lists(st.one_of(WORDS, st.text(SENTENCE_CHARS, max_size=6)), max_size=12))
def test_byte_reading_of_context_words_agrees_with_the_regex_reading(parts: list[str]) -> None:
    sentence = " ".join(parts)
    words = _context._WORD_RE.findall(sentence.lower())
    expected = {_context._WORD_KINDS[w] for w in words if w in _context._WORD_KINDS}
    expected |= {_context._PAIR_KINDS[p] for p in itertools.pairwise(words) if p in _context._PAIR_KINDS}
    assert _context._named_by_words(sentence) == expected


# Texts that end or start where a separator could join them to a neighbour: a colon before a
# line break, a "+" or "(" before digits, letters before digits, a dangling "@".
EDGES = st.sampled_from(
    ["", ":", ": ", ":\r", "\r", " ", "+", "(", "-", ".", "no.", "IRD", "AB", "4111", "@", "\n"]
)


def _piece(seed: int) -> str:
    rng = random.Random(seed)
    kind = rng.choice(list(IdentifierType))
    sample = forms.valid(kind, rng) if rng.random() < 0.6 else forms.invalid(kind, rng)
    if sample is None:
        return str(rng.randint(0, 10**12))
    return f"{sample.context} {sample.written}".strip()


TEXTS = st.lists(
    st.tuples(EDGES, st.integers(0, 10**9).map(_piece), EDGES).map("".join), min_size=1, max_size=10
)


@settings(max_examples=150, deadline=None)
@given(TEXTS, POLICIES)
def test_a_batch_is_redacted_exactly_as_its_texts_one_by_one(
    texts: list[str], policy: RedactionPolicy
) -> None:
    batch = [*texts, texts[0]]  # a repeated value too
    assert redact_many(batch, policy) == [redact(text, policy) for text in batch]


def test_a_batch_masks_what_each_text_holds() -> None:
    texts = [
        "Driver licence:",
        "AB123456",
        "IRD no.",
        "49091850",
        "card",
        "4242 4242 4242 4242",
        "",
        "+64 21 555 0100",
    ]
    out = redact_many(texts, MASK_ALL)
    # A label in one field does not vouch for the value in the next: each stands alone.
    assert out[1] == "AB123456"
    assert out[3] == "49091850"
    assert out[5] == "[redacted card]"
    assert out[7] == "[redacted phone number]"
    assert "4242" not in "".join(out)
    assert redact_many([], MASK_ALL) == []
