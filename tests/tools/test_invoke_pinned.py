"""What the model is told back by ``invoke`` stays byte-identical while invoke is made faster (issue 13).

The expected messages (``invoke_expected.json``) were captured before ``invoke`` and its renderer
were optimised; any difference, in any provider's format, under any policy, fails here. The
hostile values planted in the vendor answers are also checked directly, so a regenerated file
cannot pin a leak.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from sdk._call._tool_formats import FORMATS
from tests.tools.invoke_cases import (
    AS_JSON,
    BAD_CALLS,
    CARD,
    EXPECTED,
    IRD,
    JSON_TEXT,
    POLICIES,
    STAFF_MARK,
    invoke_all,
)


@pytest.fixture(scope="module")
def invoked() -> dict[str, dict[str, Any]]:
    return invoke_all()


@pytest.fixture(scope="module")
def expected() -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = json.loads(EXPECTED.read_text())
    return loaded


def _text(cases: dict[str, Any]) -> str:
    return json.dumps(cases, ensure_ascii=False)


def test_the_cases_cover_every_policy_tool_and_format(expected: dict[str, dict[str, Any]]) -> None:
    assert set(expected) == set(POLICIES)
    for cases in expected.values():
        assert len(cases) >= 25
        tools = {label.split("_by_")[0] for label in cases if "__" in label}
        assert {"crm__get_contact", "desk__get_ticket", "billing__get_balance", "crm__create_note"} <= tools
        for got in cases.values():
            assert set(got) == {"as_json", *FORMATS}


@pytest.mark.parametrize("policy", list(POLICIES))
def test_every_answer_is_byte_identical(
    policy: str, invoked: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]]
) -> None:
    got = {label: value for label, value in invoked[policy].items() if not label.endswith(JSON_TEXT)}
    want = expected[policy]
    assert list(got) == list(want)
    for case in want:
        # Compared as serialised text: key order and types (str vs number) count, not only equality.
        assert json.dumps(got[case], ensure_ascii=False) == json.dumps(want[case], ensure_ascii=False), case


@pytest.mark.parametrize("policy", list(POLICIES))
def test_arguments_as_json_text_answer_as_the_mapping_does(
    policy: str, invoked: dict[str, dict[str, Any]]
) -> None:
    cases = invoked[policy]
    texts = [label for label in cases if label.endswith(JSON_TEXT)]
    assert len(texts) >= 10
    for label in texts:
        assert cases[label] == cases[label.removesuffix(JSON_TEXT)], label


def test_every_message_carries_the_pinned_text(expected: dict[str, dict[str, Any]]) -> None:
    """Each format but Gemini's hands over exactly ``as_json`` (the marker stands for it)."""
    for cases in expected.values():
        for got in cases.values():
            for format in FORMATS:
                if format != "gemini":
                    assert AS_JSON in _text(got[format]), format


@pytest.mark.parametrize("policy", list(POLICIES))
def test_staff_text_reaches_the_model_only_when_opted_in(
    policy: str, invoked: dict[str, dict[str, Any]]
) -> None:
    everything = _text(invoked[policy])
    assert (STAFF_MARK in everything) is (policy == "internal-keep")


@pytest.mark.parametrize("policy", list(POLICIES))
def test_card_and_ird_numbers_stay_masked_unless_kept(
    policy: str, invoked: dict[str, dict[str, Any]]
) -> None:
    everything = _text(invoked[policy])
    kept = (POLICIES[policy] or {}).get("identifiers", {})
    for value, kind in ((CARD, "card"), (IRD, "nz_ird")):
        if kept.get(kind) == "keep":
            assert value in everything  # the opt-in works: the check below is not vacuous
        else:
            assert value not in everything, kind
            assert re.sub(r"\D", "", value) not in re.sub(r"\D", "", everything.replace("call_1", "")), kind


@pytest.mark.parametrize("policy", list(POLICIES))
def test_errors_echo_no_argument_value_and_no_unknown_name(
    policy: str, invoked: dict[str, dict[str, Any]]
) -> None:
    for label in BAD_CALLS:
        got = invoked[policy][label]
        error = json.loads(got["as_json"])
        if not isinstance(error, dict) or "error" not in error:
            continue  # null for the default: a good call
        text = got["as_json"]  # Gemini's message repeats the name the caller passes, by design
        for leaked in (CARD, "4111", "no_such_tool", "nowhere"):
            assert leaked not in text, label
        if label.startswith("unknown") or label.startswith("ungranted"):
            assert error["kind"] == "unknown_tool", label
    # The cases that must fail do fail: the checks above are not vacuous.
    answers = [json.loads(invoked[policy][label]["as_json"]) for label in BAD_CALLS]
    kinds = {answer.get("kind") for answer in answers if isinstance(answer, dict)}
    assert {"unknown_tool", "invalid_arguments"} <= kinds
