"""Every identifier type: valid vectors are found (spaced, dashed, unspaced), invalid ones left alone.

Vectors are generated with check digits computed in ``vectors`` from the
published algorithms, plus a few well-known public test numbers.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from sdk._redaction import Finding, IdentifierType, RedactionAction, RedactionPolicy, find_identifiers, redact
from sdk._redaction._phones import DEFAULT_NATIONAL_REGIONS
from tests.redaction import vectors as v

T = IdentifierType
MASK_ALL = RedactionPolicy(identifiers=dict.fromkeys(IdentifierType, RedactionAction.MASK))
PLAIN = "Customer wrote in about the refund and said {} was the one to use, thanks."
SAMPLES = 12


def only_finding(text: str, phone_regions: tuple[str, ...] = DEFAULT_NATIONAL_REGIONS) -> Finding:
    findings = find_identifiers(text, phone_regions=phone_regions)
    assert len(findings) == 1, (text, findings)
    return findings[0]


def assert_found(kind: IdentifierType, written: str, template: str = PLAIN) -> None:
    text = template.format(written)
    finding = only_finding(text)
    assert finding.kind is kind, (written, finding)
    assert text[finding.start : finding.end] == written
    redacted = redact(text, MASK_ALL)
    assert redacted == template.format(f"[redacted {kind.label}]")


def assert_untouched(written: str, template: str = PLAIN, *, may_be_phone: bool = False) -> None:
    """Nothing in the text is taken for an identifier; ``may_be_phone`` allows a (kept) phone number.

    A same-shape number with a failing check can still be a dialable number: a
    broken NHS number in 3-3-4 grouping is often a valid US one.
    """
    text = template.format(written)
    findings = find_identifiers(text)
    if may_be_phone:
        findings = [f for f in findings if f.kind is not T.PHONE]
        assert redact(text) == text
    else:
        assert redact(text, MASK_ALL) == text
    assert findings == [], (written, findings)


def rngs() -> list[random.Random]:
    return [random.Random(seed) for seed in range(SAMPLES)]


def fails_every_digit_check(digits: str) -> bool:
    checks = (v.luhn_ok, v.ird_ok, v.tfn_ok, v.abn_ok, v.nhs_ok, v.medicare_ok)
    return not any(check(digits) for check in checks)


# --- cards ---------------------------------------------------------------------------------------

PUBLIC_TEST_CARDS = [
    "4242 4242 4242 4242",  # Visa
    "4000 0566 5566 5556",  # Visa debit
    "5555 5555 5555 4444",  # Mastercard
    "2223 0031 2200 3222",  # Mastercard 2-series
    "5200 8282 8282 8210",  # Mastercard debit
    "3782 822463 10005",  # Amex
    "6011 1111 1111 1117",  # Discover
    "3530 1113 3330 0000",  # JCB
    "3056 9309 0259 04",  # Diners 14 digits
    "6200 0000 0000 0005",  # UnionPay
]


@pytest.mark.parametrize("written", PUBLIC_TEST_CARDS)
def test_public_test_cards_are_found_spaced_dashed_and_unspaced(written: str) -> None:
    assert v.luhn_ok(written.replace(" ", ""))
    for form in (written, written.replace(" ", "-"), written.replace(" ", "")):
        assert_found(T.CARD, form)


@pytest.mark.parametrize(("network", "prefix", "length"), v.CARD_PREFIXES)
def test_generated_cards_of_every_network_are_found(network: str, prefix: str, length: int) -> None:
    for rng in rngs():
        number = v.card(rng, prefix, length)
        for form in (number, v.group(number, (4, 4, 4, 4)), v.group(number, (4, 4, 4, 4), "-")):
            assert_found(T.CARD, form)


def test_card_last4_keeps_only_the_last_four_digits() -> None:
    text = PLAIN.format("2223 0031 2200 3222")
    redacted = redact(text)
    assert redacted == PLAIN.format("[card ending 3222]")
    assert "2223" not in redacted
    assert "0031" not in redacted


def test_luhn_invalid_numbers_of_card_shape_are_left_alone() -> None:
    for rng in rngs():
        number = v.broken(T.CARD, v.card(rng, "4", 16))
        for form in (number, v.group(number, (4, 4, 4, 4)), v.group(number, (4, 4, 4, 4), "-")):
            assert_untouched(form)


def test_luhn_valid_numbers_outside_every_card_range_are_left_alone() -> None:
    for rng in rngs():
        assert_untouched(v.card(rng, rng.choice("179"), 16))


# --- IBAN ----------------------------------------------------------------------------------------

PUBLIC_IBANS = ["GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00", "NL91 ABNA 0417 1643 00"]


@pytest.mark.parametrize("written", PUBLIC_IBANS)
def test_public_ibans_are_found_in_every_case_and_spacing(written: str) -> None:
    assert v.iban_ok(written)
    for form in (written, written.replace(" ", ""), written.lower(), written.lower().replace(" ", "")):
        assert_found(T.IBAN, form)


@pytest.mark.parametrize("country", [country for country, _ in v.IBAN_SHAPES])
def test_generated_ibans_are_found_and_broken_ones_are_not(country: str) -> None:
    for rng in rngs():
        number = v.iban(rng, country)
        spaced = v.group(number, (4,) * 8)
        assert_found(T.IBAN, spaced)
        assert_found(T.IBAN, number.lower())
        bad = number[:2] + f"{(int(number[2:4]) + 1) % 100:02d}" + number[4:]
        assert not v.iban_ok(bad)
        assert all(f.kind is not T.IBAN for f in find_identifiers(PLAIN.format(v.group(bad, (4,) * 8))))


def test_iban_followed_by_a_word_is_cut_at_the_registered_length() -> None:
    text = "Pay into BE68 5390 0754 7034 then call."
    finding = only_finding(text)
    assert finding.kind is T.IBAN
    assert text[finding.start : finding.end] == "BE68 5390 0754 7034"


# --- email ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["jane.doe+refunds@example.co.nz", "A_B-9@mail.example.org", "x@y.io"])
def test_email_addresses_are_found(written: str) -> None:
    assert_found(T.EMAIL, written)


@pytest.mark.parametrize("written", ["@handle", "user@localhost", "a@b", "support at example.com"])
def test_things_that_are_not_email_addresses_are_left_alone(written: str) -> None:
    assert_untouched(written)


# --- phone numbers -------------------------------------------------------------------------------

DEFAULT_NATIONAL = ["NZ", "AU", "GB", "IE", "US"]
EU = ["DE", "FR", "NL", "ES", "IT", "IE", "BE", "AT", "SE", "PL"]


def example(region: str, kind: int, form: int) -> str:
    number = phonenumbers.example_number_for_type(region, kind)
    assert number is not None
    return phonenumbers.format_number(number, form)


@pytest.mark.parametrize("region", DEFAULT_NATIONAL)
@pytest.mark.parametrize("kind", [PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE])
def test_phone_numbers_are_found_in_national_and_international_form(region: str, kind: int) -> None:
    for form in (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.E164):
        written = example(region, kind, form)
        assert_found(T.PHONE, written, "Best to call {} after five.")


@pytest.mark.parametrize("region", EU)
def test_eu_phone_numbers_are_found_in_international_form_by_default(region: str) -> None:
    written = example(region, PhoneNumberType.MOBILE, PhoneNumberFormat.INTERNATIONAL)
    assert_found(T.PHONE, written, "Best to call {} after five.")
    assert_found(T.PHONE, "00" + written[1:], "Best to call {} after five.")


def test_eu_national_forms_are_found_when_the_policy_lists_the_region() -> None:
    written = example("DE", PhoneNumberType.FIXED_LINE, PhoneNumberFormat.NATIONAL)
    text = f"Best to reach me on {written} after five."
    assert find_identifiers(text) == []
    finding = only_finding(text, phone_regions=("NZ", "DE"))
    assert finding.kind is T.PHONE
    policy = RedactionPolicy(identifiers={T.PHONE: RedactionAction.MASK}, phone_regions=("NZ", "DE"))
    assert redact(text, policy) == "Best to reach me on [redacted phone number] after five."


def test_phone_numbers_are_kept_by_default_and_masked_on_request() -> None:
    text = "Call 021 123 4567 or +44 20 7946 0018."
    assert redact(text) == text
    policy = RedactionPolicy(identifiers={T.PHONE: RedactionAction.MASK})
    assert redact(text, policy) == "Call [redacted phone number] or [redacted phone number]."


@pytest.mark.parametrize(
    "written",
    [
        "2024-05-15 10",  # a date and an hour
        "2125550123",  # bare ten digits, nothing says it is a phone
        "12345",
        "0000 000 000",
    ],
)
def test_digit_runs_that_are_not_dialled_numbers_are_left_alone(written: str) -> None:
    assert_untouched(written, "Ticket updated {}:30 by the overnight team.")


def test_a_bare_north_american_number_is_a_phone_when_the_sentence_says_so() -> None:
    text = "Her mobile is 2015550123 if the line drops."
    assert only_finding(text).kind is T.PHONE


# --- digit-only national and health numbers -----------------------------------------------------

WEAK: list[tuple[IdentifierType, str, tuple[int, ...], str]] = [
    # kind, context word, conventional grouping, separator
    (T.NZ_IRD, "IRD number", (3, 3, 3), "-"),
    (T.AU_TFN, "TFN", (3, 3, 3), " "),
    (T.US_SSN, "SSN", (3, 2, 4), "-"),
    (T.UK_NHS, "NHS number", (3, 3, 4), " "),
    (T.AU_MEDICARE, "Medicare card", (4, 5, 1), " "),
]


def weak_value(kind: IdentifierType, rng: random.Random) -> str:
    """A valid value of ``kind`` that no other weak type with the same grouping also accepts."""
    makers: dict[IdentifierType, Callable[[], str]] = {
        T.NZ_IRD: lambda: v.ird(rng).zfill(9),
        T.AU_TFN: lambda: v.tfn(rng),
        T.US_SSN: lambda: v.ssn(rng),
        T.UK_NHS: lambda: v.nhs(rng),
        T.AU_MEDICARE: lambda: v.medicare(rng),
    }
    while True:
        value = makers[kind]()
        rival = {T.NZ_IRD: v.tfn_ok, T.AU_TFN: v.ird_ok}.get(kind)
        if rival is None or not rival(value):
            return value


@pytest.mark.parametrize(("kind", "word", "grouping", "sep"), WEAK)
def test_weak_identifiers_in_their_conventional_grouping_are_found(
    kind: IdentifierType, word: str, grouping: tuple[int, ...], sep: str
) -> None:
    for rng in rngs():
        value = weak_value(kind, rng)
        assert_found(kind, v.group(value, grouping, sep))
        assert_found(kind, v.group(value, grouping, " " if sep == "-" else "-"))


@pytest.mark.parametrize(("kind", "word", "grouping", "sep"), WEAK)
def test_weak_identifiers_written_unspaced_are_found_when_their_sentence_names_them(
    kind: IdentifierType, word: str, grouping: tuple[int, ...], sep: str
) -> None:
    for rng in rngs():
        value = weak_value(kind, rng)
        assert_found(kind, value, f"My {word} is {{}} if you need it.")
        assert_found(kind, value, f"Here it is: {{}} (my {word.lower()}).")


@pytest.mark.parametrize(("kind", "word", "grouping", "sep"), WEAK)
def test_weak_identifiers_unspaced_and_unnamed_are_left_alone_like_order_numbers(
    kind: IdentifierType, word: str, grouping: tuple[int, ...], sep: str
) -> None:
    """A bare nine-digit number with a valid mod-11 check is one order number in eleven.

    (A bare number with a leading 0 may still be a valid phone number, which the
    default policy keeps.)
    """
    for rng in rngs():
        text = f"Order {weak_value(kind, rng)} has shipped."
        assert [f.kind for f in find_identifiers(text) if f.kind is not T.PHONE] == []
        assert redact(text) == text


@pytest.mark.parametrize(("kind", "word", "grouping", "sep"), WEAK)
def test_same_shape_numbers_with_a_failing_check_are_left_alone_even_when_named(
    kind: IdentifierType, word: str, grouping: tuple[int, ...], sep: str
) -> None:
    for rng in rngs():
        value = weak_value(kind, rng)
        if kind is T.US_SSN:
            bad = rng.choice(["000", "666", "9" + value[1:3]]) + value[3:]
        else:
            bad = v.broken(kind, value)
            while not fails_every_digit_check(bad):
                bad = v.broken(kind, weak_value(kind, rng))
        assert_untouched(v.group(bad, grouping, sep), f"My {word} is {{}} if you need it.", may_be_phone=True)


def test_ssn_group_and_serial_rules_are_applied() -> None:
    for bad in ("123-00-4567", "123-45-0000", "666-45-6789", "900-45-6789", "000-12-3456"):
        assert_untouched(bad, "My SSN is {} if you need it.")


def test_known_public_examples() -> None:
    assert_found(T.NZ_IRD, "49-091-850")  # IRD's own example
    assert_found(T.NZ_IRD, "136-410-132")
    assert_found(T.AU_TFN, "123 456 782", "TFN {} please.")
    assert_found(T.AU_ABN, "51 824 753 556")  # the ATO's own ABN
    assert_found(T.UK_NHS, "943 476 5919")


def test_an_nhs_grouped_number_starting_with_zero_is_not_assumed_to_be_an_nhs_number() -> None:
    rng = random.Random(7)
    while True:
        value = "0" + str(rng.randint(10_000_000, 99_999_999))
        value += next((d for d in "0123456789" if v.nhs_ok(value + d)), "")
        if len(value) == 10:
            break
    assert all(f.kind is not T.UK_NHS for f in find_identifiers(PLAIN.format(v.group(value, (3, 3, 4)))))
    assert_found(T.UK_NHS, v.group(value, (3, 3, 4)), "NHS number {} on file.")


# --- strong digit-only identifiers ---------------------------------------------------------------


def test_abn_is_found_spaced_and_unspaced_and_broken_ones_are_not() -> None:
    for rng in rngs():
        value = v.abn(rng)
        assert_found(T.AU_ABN, v.group(value, (2, 3, 3, 3)))
        assert_found(T.AU_ABN, value)
        bad = v.broken(T.AU_ABN, value)
        if fails_every_digit_check(bad):
            assert_untouched(v.group(bad, (2, 3, 3, 3)), "ABN {} on the invoice.")


def test_medicare_eleven_digit_form_with_the_reference_number_is_found() -> None:
    for rng in rngs():
        value = v.medicare(rng, irn=True)
        assert_found(T.AU_MEDICARE, v.group(value, (4, 5, 1, 1)))
        assert_found(T.AU_MEDICARE, value, "Medicare {} for the claim.")
        assert_found(T.AU_MEDICARE, v.group(value, (4, 5, 1, 1), "-"))


def test_ihi_is_found_and_wins_over_card() -> None:
    for rng in rngs():
        value = v.ihi(rng)
        assert v.luhn_ok(value)
        assert_found(T.AU_IHI, v.group(value, (4, 4, 4, 4)))
        assert_found(T.AU_IHI, value)
        assert_untouched(v.group(v.broken(T.AU_IHI, value), (4, 4, 4, 4)), "IHI {} on the record.")


# --- letters and digits --------------------------------------------------------------------------


def test_nhi_old_and_new_formats_are_found_and_broken_ones_are_not() -> None:
    for rng in rngs():
        for value in (v.nhi_old(rng), v.nhi_new(rng)):
            assert_found(T.NZ_NHI, value)
            assert_found(T.NZ_NHI, value.lower(), "Her NHI is {} at the clinic.")
            assert_untouched(v.broken(T.NZ_NHI, value), "Her NHI is {} at the clinic.")


def test_nhi_public_test_values_are_found() -> None:
    for value in ("ZZZ0016", "ZZZ0024", "ZAA0067"):
        if v.nhi_ok(value):
            assert_found(T.NZ_NHI, value)
    assert v.nhi_ok("ZZZ0016")


def test_new_format_nhi_uses_mod_23_not_the_withdrawn_mod_24() -> None:
    rng = random.Random(3)
    found_disagreement = False
    for _ in range(200):
        value = v.nhi_new(rng)
        total = sum(w * v._nhi_value(c) for w, c in zip(range(7, 1, -1), value, strict=False))
        mod24_letter = v.NHI_LETTERS[(24 - total % 24) % 24 - 1]
        if mod24_letter != value[6]:
            found_disagreement = True
            assert_untouched(value[:6] + mod24_letter, "NHI {} please.")
    assert found_disagreement


def test_nino_is_found_compact_and_spaced_and_prefix_rules_apply() -> None:
    for rng in rngs():
        value = v.nino(rng)
        assert_found(T.UK_NINO, value)
        assert_found(T.UK_NINO, f"{value[:2]} {value[2:4]} {value[4:6]} {value[6:8]} {value[8]}")
        assert_found(T.UK_NINO, value.lower(), "My national insurance number is {}.")
    for bad in ("QQ123456C", "DA123456A", "AO123456A", "GB123456A", "ZZ123456A", "AB123456E"):
        assert_untouched(bad, "My national insurance number is {}.")


def test_driver_licence_is_found_only_when_the_sentence_names_it() -> None:
    """NZ licences have no check digit: two letters and six digits is also a booking reference."""
    for rng in rngs():
        value = v.driver_licence(rng)
        assert_found(T.NZ_DRIVER_LICENCE, value, "Driver licence {} expires soon.")
        assert_found(T.NZ_DRIVER_LICENCE, value, "DL: {}.")
        assert_found(T.NZ_DRIVER_LICENCE, value.lower(), "my license is {}")
        assert_untouched(value, "Booking reference {} is confirmed.")


# --- several at once -----------------------------------------------------------------------------


def test_neighbours_separated_by_one_space_are_found_separately() -> None:
    text = "IRD 49-091-850 4242 4242 4242 4242 and 943 476 5919."
    kinds = [f.kind for f in find_identifiers(text)]
    assert kinds == [T.NZ_IRD, T.CARD, T.UK_NHS]


def test_surrounding_text_is_kept_byte_for_byte() -> None:
    text = "  Start\t4242-4242-4242-4242\n\nend ✓ 😀 "
    assert redact(text) == "  Start\t[card ending 4242]\n\nend ✓ 😀 "


def test_findings_do_not_carry_the_value() -> None:
    text = "card 4242 4242 4242 4242"
    finding = only_finding(text)
    assert "4242" not in repr(finding)
    assert not hasattr(finding, "value")
    assert re.fullmatch(r"Finding\(kind=.*, start=5, end=24\)", repr(finding))


# --- regressions found by the benchmark corpus and the property tests ----------------------------


def test_a_card_shaped_run_inside_an_iban_with_wrong_check_digits_is_not_a_card() -> None:
    text = "Refund to my account DE00 4242 4242 4242 4242 00 please."
    assert not v.iban_ok("DE00424242424242424200")
    assert find_identifiers(text) == []


def test_the_rest_of_an_invalid_international_number_is_not_a_national_one() -> None:
    text = "Call me on +1 011-856-6795 after five."
    assert find_identifiers(text) == []


def test_a_national_phone_number_cut_out_of_an_nhs_number_does_not_hide_it() -> None:
    assert v.nhs_ok("4460869985")
    text = "Patient 446 086 9985 was seen."
    assert [f.kind for f in find_identifiers(text)] == [T.UK_NHS]


def test_only_real_maestro_ranges_count_as_cards() -> None:
    number = v.luhn_complete("59053413243762")
    assert_untouched(number, "About tracking {}, nothing has changed.")
    assert_found(T.CARD, v.luhn_complete("675912345678901"))


def test_a_two_letter_country_code_that_is_not_an_iban_does_not_hide_an_ni_number() -> None:
    assert_found(T.UK_NINO, "MK027215D", "NI number {} for payroll.")


def test_rounding_out_a_chain_does_not_merge_a_date_and_a_time_into_a_phone_number() -> None:
    assert_untouched("2024-05-15 10", "Updated {}:30 by the overnight team.")
