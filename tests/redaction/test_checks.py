"""The validators agree with the published algorithms, re-implemented independently in ``vectors``.

The engine's checks come from python-stdnum and python-nhi (and a few hand-written
ones); these properties compare them with the specifications on arbitrary inputs,
so a library change or a wiring mistake (wrong slice, wrong length) shows up here.
"""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st
from stdnum.us import ssn as stdnum_ssn

from sdk._redaction import _checks
from tests.redaction import vectors as v


def digits(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=size, max_size=size)


@given(st.one_of(digits(8), digits(9)))
def test_ird_agrees_with_both_weight_sets(value: str) -> None:
    assert _checks.is_ird(value) == v.ird_ok(value)


@given(digits(9))
def test_tfn_agrees_with_the_ato_weights(value: str) -> None:
    assert _checks.is_tfn(value) == v.tfn_ok(value)


@given(digits(11))
def test_abn_agrees_with_mod_89(value: str) -> None:
    """The ATO issues check digits 11-99; 10 and 0x also pass the bare mod-89 sum."""
    assert _checks.is_abn(value) == (v.abn_ok(value) and int(value[:2]) >= 11)


@given(digits(10))
def test_nhs_agrees_with_mod_11(value: str) -> None:
    assert _checks.is_nhs(value) == v.nhs_ok(value)


@given(st.one_of(digits(10), digits(11)))
def test_medicare_agrees_with_the_weighted_check(value: str) -> None:
    assert _checks.is_medicare(value) == v.medicare_ok(value)


@given(digits(9))
def test_hand_written_ssn_rules_agree_with_stdnum(value: str) -> None:
    assert _checks.is_ssn(value) == stdnum_ssn.is_valid(value)


def test_ssn_numbers_known_from_misuse_are_refused() -> None:
    for value in ("078051120", "457555462", "219099999"):
        assert not _checks.is_ssn(value)


@given(st.text(alphabet="0123456789", min_size=12, max_size=19))
def test_card_is_luhn_plus_a_network_prefix(value: str) -> None:
    if _checks.is_card(value):
        assert v.luhn_ok(value)
        assert _checks.card_network(value) is not None


@given(st.integers(0, 10**9))
def test_ihi_needs_its_prefix_and_luhn(seed: int) -> None:
    value = v.ihi(random.Random(seed))
    assert _checks.is_ihi(value)
    assert not _checks.is_ihi(v.broken(v.T.AU_IHI, value))
    assert not _checks.is_ihi("800361" + value[6:])


@given(
    st.text(alphabet=v.NHI_LETTERS, min_size=3, max_size=3),
    digits(2),
    st.one_of(digits(2), st.text(alphabet=v.NHI_LETTERS, min_size=2, max_size=2)),
)
def test_nhi_agrees_with_mod_11_and_mod_23(letters: str, middle: str, tail: str) -> None:
    value = letters + middle + tail
    assert _checks.is_nhi(value) == v.nhi_ok(value)


@given(st.integers(0, 10**9), st.sampled_from([country for country, _ in v.IBAN_SHAPES]))
def test_iban_lengths_come_from_the_registry_and_check_digits_from_mod_97(seed: int, country: str) -> None:
    value = v.iban(random.Random(seed), country)
    assert _checks.iban_length(country) == len(value)
    assert _checks.is_iban(value)
    assert not _checks.is_iban(value[:-1] + str((int(value[-1]) + 1) % 10))
