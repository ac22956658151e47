"""The context rule for identifiers without (strong) check digits, and the strict policy (issue 10, S6).

Default: an NZ driver licence, an unspaced IRD, TFN, SSN, NHS or Medicare
number, and a lower-case NHI or NI number count only when their own sentence
names them. Strict: the policy's types count without context words, their
checks still apply, and a slice of a longer number is still not one.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sdk._call import LLMPolicy
from sdk._config import NexoraConfig
from sdk._errors import ConfigurationError
from sdk._redaction import IdentifierType, RedactionAction, RedactionPolicy, find_identifiers, redact
from sdk._redaction._types import CONTEXT_DEPENDENT
from tests.redaction import forms
from tests.redaction import vectors as v
from tests.redaction.forms import Sample
from tests.redaction.test_properties import TEXTS
from tests.redaction.test_punctuation import MASK_ALL_BUT_PHONE, wrapped

T = IdentifierType
STRICT = RedactionPolicy(strict=True)
STRICT_MASK = RedactionPolicy(
    identifiers=dict.fromkeys(IdentifierType, RedactionAction.MASK) | {T.PHONE: RedactionAction.KEEP},
    strict=True,
)
LICENCE = "[redacted NZ driver licence number]"
NHI = v.nhi_old(random.Random(5)).lower()
IRD = "[redacted NZ IRD number]"


def kinds_found(text: str, policy: RedactionPolicy | None = None) -> list[IdentifierType]:
    policy = policy or RedactionPolicy()
    return [f.kind for f in find_identifiers(text, strict=policy.strict) if f.kind is not T.PHONE]


# --- the context rule: the identifier's own sentence, wherever in it the word stands -------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Driver licence AB123456 expires soon.", f"Driver licence {LICENCE} expires soon."),
        ("AB123456 is on my licence.", f"{LICENCE} is on my licence."),
        ("Here (my driver's licence): 'AB123456'!", f"Here (my driver's licence): '{LICENCE}'!"),
        ("Lic. AB123456", f"Lic. {LICENCE}"),
        ("DL no. AB123456, thanks", f"DL no. {LICENCE}, thanks"),
        ("Driver licence:\nAB123456", f"Driver licence:\n{LICENCE}"),
        ("Driver licence: \r\nAB123456", f"Driver licence: \r\n{LICENCE}"),
        ("IRD no. 49091850.", f"IRD no. {IRD}."),
        ("IRD: 49091850", f"IRD: {IRD}"),
        ("inland revenue #49091850", f"inland revenue #{IRD}"),
        ("(IRD 4909 1850)", f"(IRD {IRD})"),
        ("GST number\u00a0\u201c49091850\u201d", f"GST number\u00a0\u201c{IRD}\u201d"),
    ],
)
def test_a_context_word_in_the_same_sentence_finds_a_short_form(text: str, expected: str) -> None:
    assert v.ird_ok("49091850")
    assert redact(text) == expected
    assert redact(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The driver called. Booking AB123456 is confirmed.",
        "Driver licence\nAB123456",  # a label on its own line without a colon is a line of its own
        "Our IRD forms are done!\nOrder 49091850 shipped.",
        "Ask the driver? Seat AB123456 then.",
        "Order #49091850 shipped.",
        "(49091850)",
        "Booking reference (AB123456) is confirmed.",
        "Flight NZ123456! Gate 5.",
        'ref:"AB123456".',
        "Order 123456789 shipped.",  # a valid SSN and TFN shape, unnamed
        f"Patient lookup {NHI} done.",  # a valid NHI in lower case, unnamed
    ],
)
def test_without_a_context_word_in_its_sentence_a_short_form_is_left_alone(text: str) -> None:
    assert kinds_found(text) == []
    assert redact(text, MASK_ALL_BUT_PHONE) == text


def test_the_unnamed_examples_are_real_identifiers_of_their_shape() -> None:
    """Guards the test above: its values pass their checks, so only the missing words leave them."""
    assert v.ird_ok("49091850")
    assert v.ssn_ok("123456789")
    assert v.nhi_ok(NHI.upper())
    assert v.driver_licence(random.Random(0)).isalnum()
    assert kinds_found(f"Her NHI is {NHI}.") == [T.NZ_NHI]
    assert kinds_found("SSN 123456789.") == [T.US_SSN]


# --- strict: the same texts, masked without context words ---------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Booking reference (AB123456) is confirmed.", f"Booking reference ({LICENCE}) is confirmed."),
        ("Driver licence\nAB123456", f"Driver licence\n{LICENCE}"),
        ("Flight NZ123456! Gate 5.", f"Flight {LICENCE}! Gate 5."),
        ('ref:"AB123456".', f'ref:"{LICENCE}".'),
        ("Order #49091850 shipped.", f"Order #{IRD} shipped."),
        ("(49091850)", f"({IRD})"),
        ("\uff14\uff19\uff10\uff19\uff11\uff18\uff15\uff10", IRD),  # full width
    ],
)
def test_strict_masks_short_forms_without_context_words(text: str, expected: str) -> None:
    assert redact(text) == text
    assert redact(text, STRICT) == expected
    assert redact(expected, STRICT) == expected


def test_strict_applies_to_the_listed_types_only() -> None:
    text = "Order #49091850 and booking AB123456."
    ird_only = RedactionPolicy(strict=["nz_ird"])  # a list of names, as configuration gives it
    assert redact(text, ird_only) == f"Order #{IRD} and booking AB123456."
    licence_only = RedactionPolicy.model_validate({"strict": ["nz_driver_licence"]})
    assert redact(text, licence_only) == f"Order #49091850 and booking {LICENCE}."
    assert redact(text, STRICT) == f"Order #{IRD} and booking {LICENCE}."


def test_strict_does_not_take_a_slice_of_a_longer_number() -> None:
    """'123 456 789 012' holds a valid SSN shape; a context word would vouch for it, strict does not."""
    text = "Tracking 123 456 789 012 updated."
    assert v.ssn_ok("123456789")
    assert kinds_found(text, STRICT) == []
    assert redact(text, STRICT_MASK) == text


def test_strict_still_applies_the_checks() -> None:
    """Strict on one type: look-alikes failing its check stay. (The SSN has no check digit, so
    with strict on every type, most nine-digit numbers are SSNs: that is what strict means.)"""
    for seed in range(30):
        rng = random.Random(seed)
        for kind in (T.NZ_IRD, T.AU_TFN, T.UK_NHS, T.AU_MEDICARE, T.NZ_NHI, T.UK_NINO):
            sample = forms.invalid(kind, rng)
            assert sample is not None
            text = f"Ref ({sample.written.replace(' ', '')}) filed."
            assert kinds_found(text, RedactionPolicy(strict=frozenset({kind}))) == [], text
    ssn_only = RedactionPolicy(strict=frozenset({T.US_SSN}))
    for bad in ("000123456", "666123456", "900123456", "123004567", "123450000"):
        assert kinds_found(f"Ref {bad}.", ssn_only) == []
    assert kinds_found("Ref 123456789.", ssn_only) == [T.US_SSN]


def test_strict_prefers_masking_to_keeping_a_number_that_may_be_a_phone_number() -> None:
    """049091850 is an IRD number and a Wellington landline: strict masks it rather than keep it."""
    assert v.ird_ok("049091850")
    text = "Ref 049091850 noted."
    assert redact(text) == text
    assert redact(text, STRICT) == f"Ref {IRD} noted."


STRICT_KINDS = sorted(CONTEXT_DEPENDENT)
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("kind", STRICT_KINDS)
@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_strict_finds_every_written_form_without_its_context_words(
    kind: IdentifierType, data: st.DataObject, seed: int
) -> None:
    sample = forms.valid(kind, random.Random(seed))
    before, written, after = data.draw(wrapped(Sample("", sample.written)))
    text = before + written + after
    at = (len(before), len(before) + len(written))
    found = [(f.kind, f.start, f.end) for f in find_identifiers(text, strict=frozenset({kind}))]
    if found == [(T.PHONE, *at)]:
        # "051 923 464" is an IRD number in its own grouping and a Waterford number in Ireland's:
        # strict ranks below any structural evidence, so it stays what the default policy reads.
        assert [(f.kind, f.start, f.end) for f in find_identifiers(text)] == found
        return
    assert found == [(kind, *at)]
    assert written not in redact(text, RedactionPolicy(strict=frozenset({kind})))


@pytest.mark.parametrize("kind", [kind for kind in STRICT_KINDS if kind is not T.NZ_DRIVER_LICENCE])
@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_strict_adds_no_false_positive_on_look_alikes_with_a_failing_check(
    kind: IdentifierType, data: st.DataObject, seed: int
) -> None:
    sample = forms.invalid(kind, random.Random(seed))
    assert sample is not None
    before, written, after = data.draw(wrapped(Sample("", sample.written)))
    text = before + written + after
    strict = RedactionPolicy(strict=frozenset({kind}))
    assert kinds_found(text, strict) == []
    assert redact(text, RedactionPolicy(identifiers=STRICT_MASK.identifiers, strict=strict.strict)) == text


# --- configuration -------------------------------------------------------------------------------


def test_strict_is_off_by_default_and_true_means_every_type_it_applies_to() -> None:
    assert RedactionPolicy().strict == frozenset()
    assert RedactionPolicy.model_validate({"strict": True}).strict == CONTEXT_DEPENDENT
    assert RedactionPolicy.model_validate({"strict": False}).strict == frozenset()
    assert T.NZ_DRIVER_LICENCE in CONTEXT_DEPENDENT
    assert T.NZ_IRD in CONTEXT_DEPENDENT
    assert not {T.CARD, T.IBAN, T.EMAIL, T.PHONE, T.AU_ABN, T.AU_IHI} & CONTEXT_DEPENDENT


@pytest.mark.parametrize("bad", [["card"], ["passport"], "nz_ird", 1, ["nz_ird", "phone"]])
def test_strict_refuses_types_it_cannot_apply_to(bad: object) -> None:
    with pytest.raises(ValidationError):
        RedactionPolicy.model_validate({"strict": bad})


def test_strict_is_frozen_like_the_rest_of_the_policy() -> None:
    policy = RedactionPolicy()
    with pytest.raises(ValidationError):
        policy.strict = CONTEXT_DEPENDENT  # type: ignore[misc]


def test_the_tenant_configuration_and_the_llm_policy_carry_strict() -> None:
    base = {"vault": {"address": "http://127.0.0.1:9"}}
    config = NexoraConfig.parse(
        base
        | {"tenants": {"acme": {"redaction": {"strict": ["nz_driver_licence"], "internal_notes": "drop"}}}}
    )
    policy = config.tenants["acme"].redaction
    assert isinstance(policy, LLMPolicy)
    assert policy.strict == frozenset({T.NZ_DRIVER_LICENCE})
    assert redact("Booking AB123456.", policy) == f"Booking {LICENCE}."
    assert (
        NexoraConfig.parse(base | {"tenants": {"acme": {}}}).tenants["acme"].redaction.strict == frozenset()
    )
    with pytest.raises(ConfigurationError, match=r"tenants\.acme\.redaction\.strict"):
        NexoraConfig.parse(base | {"tenants": {"acme": {"redaction": {"strict": ["card"]}}}})


# --- strict only adds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Call me on (02) 1234 5356 after five.", "Call me on (201) 555-0801.", "Ring +64 21 123 4567 today."],
)
def test_strict_does_not_cut_into_a_phone_number_written_as_one(text: str) -> None:
    """A strict guess ranks below a phone number in its own grouping: it is kept whole, not half masked."""
    assert redact(text, STRICT) == text
    assert [f.kind for f in find_identifiers(text, strict=CONTEXT_DEPENDENT)] == [T.PHONE]


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_whatever_the_default_policy_masks_a_strict_policy_masks_too(text: str) -> None:
    strict = find_identifiers(text, strict=CONTEXT_DEPENDENT)
    for finding in find_identifiers(text):
        if finding.kind is T.PHONE:
            continue  # kept by default; a strict guess may mask it instead (see the test above)
        assert any(s.start <= finding.start and finding.end <= s.end for s in strict), (text, finding)
