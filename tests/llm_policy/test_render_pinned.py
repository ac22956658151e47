"""Every rendering stays byte-identical across policies while the renderer is made faster (issue 13).

The expected outputs (``render_expected.json``) were produced by the renderer before its
optimisation; any difference, in either format, under any policy, fails here. The hostile
values in the cases are also checked directly, so a regenerated file cannot pin a leak.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from sdk import ConversationClosedError
from sdk._call import LLMPolicy, LLMRenderer, llm_text
from sdk._call import _context_text as context_text
from tests.llm_policy.render_cases import CARD, EXPECTED, IRD, POLICIES, STAFF_MARK, contexts, render_all


@pytest.fixture(scope="module", params=[False, True], ids=["one-by-one", "batched"])
def rendered(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Every case rendered, with a context's strings redacted one by one and in one batch."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(context_text, "BATCHED_REDACTION", request.param)
        return render_all()


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(EXPECTED.read_text())
    return loaded


def test_the_cases_cover_every_policy(expected: dict[str, Any]) -> None:
    assert set(expected) == {*POLICIES, "for_llm"}
    assert len(expected["default"]) >= 25


@pytest.mark.parametrize("policy", [*POLICIES, "for_llm"])
def test_every_rendering_is_byte_identical(
    policy: str, rendered: dict[str, Any], expected: dict[str, Any]
) -> None:
    got, want = rendered[policy], expected[policy]
    assert list(got) == list(want)
    for case in want:
        # Compared as serialised text: key order and types (str vs number) count, not only equality.
        assert json.dumps(got[case], ensure_ascii=False) == json.dumps(want[case], ensure_ascii=False), case


@pytest.mark.parametrize("policy", list(POLICIES))
def test_staff_text_reaches_the_model_only_when_opted_in(policy: str, rendered: dict[str, Any]) -> None:
    everything = json.dumps(rendered[policy], ensure_ascii=False)
    if POLICIES[policy].get("internal_notes", "drop") == "keep":
        assert STAFF_MARK in everything
    else:
        assert STAFF_MARK not in everything


@pytest.mark.parametrize("policy", list(POLICIES))
def test_card_and_ird_numbers_stay_masked(policy: str, rendered: dict[str, Any]) -> None:
    everything = json.dumps(rendered[policy], ensure_ascii=False)
    identifiers = POLICIES[policy].get("identifiers", {})
    for value, kind in ((CARD, "card"), (IRD, "nz_ird")):
        for form in (value, re.sub(r"[\s-]", "", value)):
            if identifiers.get(kind) == "keep" and form == value:
                assert form in everything  # the tenant asked for it as written: the opt-in works
            else:
                assert form not in everything, (policy, kind)


def test_nothing_decrypted_stays_on_the_context_after_rendering() -> None:
    """S5: a rendering leaves no plaintext behind on the context; the wipe still reaches the records."""
    context = contexts()["full"]
    before = dict(vars(context))
    text = context.for_llm()
    view = context.for_llm("json")
    assert "Aroha Ngata" in text
    assert vars(context) == before
    private = repr(context.__pydantic_private__)
    assert "Aroha" not in private
    assert "Aroha" not in repr(context)
    sealed = context._sealed
    assert sealed is not None
    sealed._cache.wipe()
    with pytest.raises(ConversationClosedError):
        context.for_llm()
    with pytest.raises(ConversationClosedError):
        context.for_llm("json")
    assert view["sources"]


def test_a_policy_changed_in_place_renders_by_its_new_rules() -> None:
    """Rules are precomputed per policy; editing a policy's ``fields`` must not serve stale rules."""
    context = contexts()["full"]
    policy = LLMPolicy()
    assert "aroha.ngata@example.co.nz" in llm_text(context, policy)
    policy.fields["Contact.email"] = "mask"
    assert "aroha.ngata@example.co.nz" not in llm_text(context, policy)


def test_a_batched_rendering_holds_no_raw_text_before_it_is_resolved() -> None:
    """Until ``resolve()``, a batched view holds a placeholder where text goes, never the text."""
    context = contexts()["full"]
    records = context._records()
    ticket = records["desk"].tickets[0]
    renderer = LLMRenderer(LLMPolicy(), batched=True)
    view = renderer.record(ticket)
    assert view is not None
    assert CARD not in repr(view)
    assert "Charge on card" not in repr(view)
    with pytest.raises(TypeError):
        json.dumps(view)  # read too early, it fails loudly instead of carrying unredacted text
    renderer.resolve()
    assert view["subject"] == "Charge on card [card ending 1111] twice"
    assert CARD not in json.dumps(view)
