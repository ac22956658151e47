"""The engine's NHI check is python-nhi's, on every string the engine can hand it and more.

``_checks.is_nhi`` computes python-nhi's mod 11 and mod 23 sums from tables;
here it is held to ``nhi.is_nhi`` (test values allowed) on every valid NHI
prefix with generated tails, on random strings of the shapes the engine
reads, in any case, and on strings of other lengths and alphabets.
"""

from __future__ import annotations

import itertools
import random
import string

import nhi
from hypothesis import given, settings
from hypothesis import strategies as st

from sdk._redaction._checks import is_nhi
from tests.redaction import vectors as v


def _reference(value: str) -> bool:
    return bool(nhi.is_nhi(value, allow_test_values=True))


def test_every_prefix_with_every_new_format_check_letter_agrees() -> None:
    """All 24 x 24 x 24 prefixes, each with random digits and every possible final letter or digit."""
    rng = random.Random(1)
    valid = 0
    for prefix in itertools.product(v.NHI_LETTERS, repeat=3):
        middle = f"{rng.randrange(100):02d}"
        for tail in (rng.choice(v.NHI_LETTERS), f"{rng.randrange(10)}"):
            for check in v.NHI_LETTERS + string.digits + "IO":
                value = "".join(prefix) + middle + tail + check
                expected = _reference(value)
                assert is_nhi(value) is expected, value
                valid += expected
    assert valid > 24**3, "too few valid NHIs generated to test anything"


def test_generated_valid_numbers_and_their_look_alikes_agree() -> None:
    rng = random.Random(2)
    for _ in range(20_000):
        value = rng.choice([v.nhi_old, v.nhi_new])(rng)
        for candidate in (
            value,
            value.lower(),
            value[:-1] + rng.choice(string.ascii_letters + string.digits),
        ):
            assert is_nhi(candidate) is _reference(candidate), candidate


@settings(max_examples=3000)
@given(st.text(alphabet=st.sampled_from([*string.ascii_letters, *string.digits, " ", "\n", "-"]), max_size=9))
def test_arbitrary_ascii_strings_agree(value: str) -> None:
    assert is_nhi(value) is _reference(value)


@settings(max_examples=500)
@given(st.text(min_size=1, max_size=8))
def test_any_unicode_string_agrees(value: str) -> None:
    assert is_nhi(value) is _reference(value)
