"""ctx.for_llm(): what reaches the language model is redacted by the tenant's policy (S6, S3).

The vendor answers carry what customers really type into tickets: a card
number and an NZ IRD number in a comment. Each test looks for those values in
every form (spaced, compact) in both renderings.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import respx

from sdk import ConfigurationError
from sdk._call import CustomerContext
from sdk._redaction import IdentifierType
from tests.connectors import hubspot_cases as hubspot
from tests.connectors import stripe_cases as stripe
from tests.runtime.support import (
    BILLING,
    CALLER_PHONE,
    CARD,
    CRM,
    IRD,
    TENANT,
    Vendors,
    config,
    hubspot_contact,
    runtime,
    zendesk_comments,
)

MASTERCARD_2 = "2223 0031 2200 3222"
"""A Luhn-valid Mastercard 2-series test number."""
COMMENT = f"Please charge my card {CARD} (or {MASTERCARD_2}); my IRD number is {IRD}."


def _forms(value: str) -> list[str]:
    """The ways a number can appear: as written and with separators removed."""
    return [value, re.sub(r"[\s-]", "", value)]


async def _rendered(
    router: respx.MockRouter, key: str, redaction: dict[str, Any] | None = None
) -> tuple[str, str, CustomerContext]:
    vendors = Vendors(router).mount(comments=zendesk_comments(COMMENT))
    assert vendors.routes
    async with (
        runtime(router, key=key, redaction=redaction) as nc,
        nc.conversation(tenant=TENANT, conversation_id="c1") as conv,
    ):
        ctx = await conv.customer_context(phone=CALLER_PHONE)
        return ctx.for_llm(), json.dumps(ctx.for_llm("json")), ctx


async def test_default_policy_keeps_card_last4_and_masks_the_ird(router: respx.MockRouter, key: str) -> None:
    text, as_json, _ = await _rendered(router, key)
    for rendering in (text, as_json):
        for secret in [*_forms(CARD), *_forms(MASTERCARD_2), *_forms(IRD)]:
            assert secret not in rendering
        assert "[card ending 1111]" in rendering
        assert "[card ending 3222]" in rendering
        assert "[redacted NZ IRD number]" in rendering
        # The caller's name is PII the default policy keeps: the agent greets them by it.
        assert "Aroha Ngata" in rendering
    assert "Please charge my card [card ending 1111]" in text


@pytest.mark.parametrize(
    ("card_action", "shown", "hidden"),
    [
        ("keep", [CARD, MASTERCARD_2], []),
        ("last4", ["[card ending 1111]", "[card ending 3222]"], [*_forms(CARD), *_forms(MASTERCARD_2)]),
        ("mask", ["[redacted card]"], [*_forms(CARD), *_forms(MASTERCARD_2), "ending 1111", "ending 3222"]),
    ],
)
async def test_the_tenant_chooses_the_action_per_identifier_type(
    router: respx.MockRouter, key: str, card_action: str, shown: list[str], hidden: list[str]
) -> None:
    text, as_json, _ = await _rendered(router, key, {"identifiers": {"card": card_action, "nz_ird": "keep"}})
    for rendering in (text, as_json):
        for value in shown:
            assert value in rendering
        for value in hidden:
            assert value not in rendering
        assert IRD in rendering  # nz_ird = "keep"


async def test_pii_masked_by_policy_hides_names_contacts_and_what_people_wrote(
    router: respx.MockRouter, key: str
) -> None:
    text, as_json, _ = await _rendered(router, key, {"pii": "mask"})
    for rendering in (text, as_json):
        names = ("Aroha Ngata", "Aroha Test", "aroha.ngata@example.co.nz", "+6495550123")
        for value in (*names, "Please charge", *_forms(CARD)):
            assert value not in rendering
        assert "[redacted personal data]" in rendering
    # Data that is not about a person stays: the agent can still talk about the account and tickets.
    assert "Kiwi Plumbing Ltd" in text
    assert "Router keeps dropping the connection" not in text  # a subject is what the customer wrote


async def test_pii_last4_keeps_only_the_tail_of_long_values(router: respx.MockRouter, key: str) -> None:
    text, _, _ = await _rendered(router, key, {"pii": "last4"})
    assert "Aroha Ngata" not in text
    assert "[personal data ending gata]" in text


async def test_ambiguous_candidates_are_rendered_under_the_policy(router: respx.MockRouter, key: str) -> None:
    vendors = Vendors(router).mount()
    vendors.routes["hubspot_search"].respond(
        200, json=hubspot.search_response(hubspot_contact("51", "Aroha"), hubspot_contact("52", "Hemi"))
    )
    async with (
        runtime(router, key=key, redaction={"pii": "mask"}) as nc,
        nc.conversation(tenant=TENANT, conversation_id="c1") as conv,
    ):
        ctx = await conv.customer_context(phone=CALLER_PHONE)
        text = ctx.for_llm()
    assert "ambiguous: 2 candidates" in text
    assert "Hemi" not in text
    assert "Aroha" not in text
    assert text.count("candidate: name [redacted personal data]") == 2


async def test_strings_without_a_sensitivity_mark_are_still_redacted(
    router: respx.MockRouter, key: str
) -> None:
    """Account.name carries no mark, but a CRM user can type a card number into it."""
    vendors = Vendors(router).mount()
    company = hubspot.fixture("company")
    company["properties"]["name"] = f"Card {CARD} Ltd"
    vendors.routes["hubspot_company"].respond(200, json=company)
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        ctx = await conv.customer_context(phone=CALLER_PHONE)
        assert ctx.account is not None
        assert CARD in (ctx.account.name or "")
        text, as_json = ctx.for_llm(), json.dumps(ctx.for_llm("json"))
    for rendering in (text, as_json):
        assert CARD not in rendering
        assert "Card [card ending 1111] Ltd" in rendering


async def test_no_secret_reaches_the_model(router: respx.MockRouter, key: str) -> None:
    vendors = Vendors(router).mount()
    vendors.routes["stripe_search"].respond(500, json=stripe.fixture("error_500"))
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        ctx = await conv.customer_context(phone=CALLER_PHONE, budget=5.0)
        renderings = [ctx.for_llm(), json.dumps(ctx.for_llm("json")), repr(ctx), ctx.model_dump_json()]
    assert "failed (VendorServerError)" in renderings[0]
    for rendering in renderings:
        assert key not in rendering
        # The failure is named by its kind only: no URL path, status or vendor request id.
        assert "/v1/customers/search" not in rendering
        assert "req_" not in rendering


async def test_every_status_is_said_plainly(router: respx.MockRouter, key: str) -> None:
    vendors = Vendors(router).mount()
    vendors.routes["hubspot_search"].respond(200, json=hubspot.search_response())
    vendors.routes["stripe_search"].respond(500, json=stripe.fixture("error_500"))
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c1") as conv:
        ctx = await conv.customer_context(phone=CALLER_PHONE, budget=5.0)
        text = ctx.for_llm()
        view = ctx.for_llm("json")["sources"]
    assert f"CRM {CRM}: not found (no contact matches the caller)" in text
    assert f"Billing {BILLING}: failed (VendorServerError)" in text
    assert view[CRM] == {"category": "crm", "connector": "hubspot", "status": "not_found"}
    assert view[BILLING]["error"] == "VendorServerError"


def test_for_llm_refuses_an_unknown_format() -> None:
    ctx = CustomerContext(sources={}, budget_ms=400.0, elapsed_ms=1.0)
    with pytest.raises(ValueError, match="format"):
        ctx.for_llm("yaml")  # type: ignore[call-overload]
    assert "no integrations are configured" in ctx.for_llm()


@pytest.mark.parametrize(
    ("redaction", "where"),
    [
        ({"pci": "shred"}, "tenants.acme.redaction.pci"),
        ({"identifiers": {"tax_code": "mask"}}, "tenants.acme.redaction.identifiers"),
        ({"everything": "mask"}, "tenants.acme.redaction.everything"),
        ({"phone_regions": ["XX"]}, "tenants.acme.redaction.phone_regions"),
    ],
)
def test_a_bad_policy_is_a_configuration_error_naming_the_key(redaction: dict[str, Any], where: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(where)):
        config(redaction)


def test_the_default_policy() -> None:
    policy = config().tenants[TENANT].redaction
    assert (policy.pii.value, policy.pci.value, policy.health.value) == ("keep", "last4", "mask")
    assert policy.action_for(IdentifierType.CARD).value == "last4"
    assert policy.action_for(IdentifierType.NZ_IRD).value == "mask"
    chosen = config({"pci": "mask", "identifiers": {"card": "keep"}}).tenants[TENANT].redaction
    assert chosen.pci.value == "mask"
    assert chosen.action_for(IdentifierType.CARD).value == "keep"
    assert chosen.action_for(IdentifierType.NZ_IRD).value == "mask"  # others keep their defaults
