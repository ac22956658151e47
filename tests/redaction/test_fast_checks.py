"""The table-driven check-digit sums answer exactly as python-stdnum's checksums.

``sdk._redaction._checks`` computes Luhn, TFN, IRD, ABN, NHS (and Medicare)
weighted sums from per-position tables rather than calling stdnum, because
they run on every digit run of a text. A sum cut in threes is the sum of its
thirds, so each table is checked exhaustively against the weights; then each
check is compared with stdnum (or, for Medicare, the specification in
``vectors``) on arbitrary digit strings, on every generated valid number and
on each of those with one digit changed: a number the library accepts is
never rejected, and one it rejects is never accepted.
"""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn as stdnum_luhn
from stdnum.au import abn as stdnum_abn
from stdnum.au import tfn as stdnum_tfn
from stdnum.gb import nhs as stdnum_nhs
from stdnum.nz import ird as stdnum_ird

from sdk._redaction import _checks
from tests.redaction import vectors as v


def _stdnum_ird(digits: str) -> bool:
    return (
        len(digits) in (8, 9)
        and 10_000_000 < int(digits) < 150_000_000
        and stdnum_ird.calc_check_digit(digits[:-1]) == digits[-1]
    )


def _stdnum_tfn(digits: str) -> bool:
    return len(digits) in (8, 9) and stdnum_tfn.checksum(digits) == 0


def _stdnum_abn(digits: str) -> bool:
    return len(digits) == 11 and stdnum_abn.calc_check_digits(digits[2:]) == digits[:2]


def _stdnum_nhs(digits: str) -> bool:
    return len(digits) == 10 and stdnum_nhs.checksum(digits) == 0


def _one_digit_off(value: str) -> list[str]:
    return [
        value[:at] + d + value[at + 1 :] for at in range(len(value)) for d in "0123456789" if d != value[at]
    ]


def test_every_table_entry_is_its_weighted_sum() -> None:
    tables = {
        (1, 4, 3, 7, 5, 8, 6, 9, 10): _checks._TFN9,
        (1, 4, 3, 7, 5, 8, 6, 9): _checks._TFN8,
        (3, 2, 7, 6, 5, 4, 3, 2): _checks._IRD_PRIMARY,
        (7, 4, 3, 2, 5, 2, 7, 6): _checks._IRD_SECONDARY,
        (3, 5, 7, 9, 11, 13, 15, 17, 19): _checks._ABN,
        (10, 9, 8, 7, 6, 5, 4, 3, 2, 1): _checks._NHS,
        (1, 3, 7, 9, 1, 3, 7, 9): _checks._MEDICARE,
    }
    entries = 0
    for weights, parts in tables.items():
        assert len(parts) == (len(weights) + 2) // 3
        for index, table in enumerate(parts):
            chunk = weights[index * 3 : index * 3 + 3]
            expected = {
                "".join(combo): sum(w * int(d) for w, d in zip(chunk, combo, strict=True))
                for combo in itertools.product("0123456789", repeat=len(chunk))
            }
            assert table == expected, (weights, index)
            entries += len(table)
    assert entries > 15_000


def test_luhn_agrees_with_stdnum_on_every_short_string() -> None:
    for size in range(1, 6):
        for combo in itertools.product("0123456789", repeat=size):
            digits = "".join(combo)
            assert _checks.luhn_ok(digits) == (stdnum_luhn.checksum(digits) == 0), digits


@settings(max_examples=3000)
@given(st.text(alphabet="0123456789", min_size=1, max_size=24))
def test_luhn_agrees_with_stdnum(digits: str) -> None:
    assert _checks.luhn_ok(digits) == (stdnum_luhn.checksum(digits) == 0)


@settings(max_examples=3000)
@given(st.text(alphabet="0123456789", min_size=7, max_size=12))
def test_weighted_checks_agree_with_stdnum_on_any_digits(digits: str) -> None:
    assert _checks.is_tfn(digits) == _stdnum_tfn(digits)
    assert _checks.is_ird(digits) == _stdnum_ird(digits)
    assert _checks.is_abn(digits) == _stdnum_abn(digits)
    assert _checks.is_nhs(digits) == _stdnum_nhs(digits)
    assert _checks.is_medicare(digits) == v.medicare_ok(digits)


@settings(max_examples=300)
@given(st.integers(0, 10**9))
def test_valid_numbers_and_their_one_digit_neighbours_agree(seed: int) -> None:
    rng = random.Random(seed)
    cases = [
        (v.tfn(rng), _checks.is_tfn, _stdnum_tfn),
        (v.ird(rng), _checks.is_ird, _stdnum_ird),
        (v.ird(rng).zfill(9), _checks.is_ird, _stdnum_ird),
        (v.abn(rng), _checks.is_abn, _stdnum_abn),
        (v.nhs(rng), _checks.is_nhs, _stdnum_nhs),
        (v.medicare(rng, irn=seed % 2 == 0), _checks.is_medicare, v.medicare_ok),
        (v.card(rng, "4", 16), _checks.luhn_ok, lambda d: stdnum_luhn.checksum(d) == 0),
    ]
    for valid, fast, reference in cases:
        assert fast(valid), valid
        assert reference(valid), valid
        for other in _one_digit_off(valid):
            assert fast(other) == reference(other), other


def test_eight_digit_tfns_and_irds_use_the_shortened_forms() -> None:
    """An eight-digit TFN takes the first eight weights; an eight-digit IRD is zero-filled."""
    rng = random.Random(8)
    eights = ["".join(rng.choice("0123456789") for _ in range(8)) for _ in range(20_000)]
    accepted_tfn = [digits for digits in eights if _checks.is_tfn(digits)]
    accepted_ird = [digits for digits in eights if _checks.is_ird(digits)]
    assert accepted_tfn
    assert accepted_ird
    assert [digits for digits in eights if _stdnum_tfn(digits)] == accepted_tfn
    assert [digits for digits in eights if _stdnum_ird(digits)] == accepted_ird
