"""The voice inputs that really arrive (issue 12): caller ID as telephony hands it over.

``conv.customer_context(phone=...)`` takes ``tel:`` and ``sip:`` URIs (RFC 3966, RFC 3261, with
display names, parameters and percent-encoding), national and E.164 numbers, and withheld caller
IDs (RFC 3323's ``sip:anonymous@anonymous.invalid``, ``anonymous``, ``unknown``, ``restricted``,
``private``, empty). A withheld caller is an unidentified context, never an error, and nothing is
sent to any vendor. A source that cannot search by the identifier given (Jira Service Management
by phone) is ``unsupported``, and ``complete`` counts only the sources that could answer.
"""

from __future__ import annotations

import secrets

import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from connectors.ticketing.jsm import JSMConnector
from sdk import InvalidArgumentsError, MemoryAuditSink
from sdk._call import SourceStatus
from sdk._call._caller_id import WITHHELD, read_caller_id
from sdk._connector import normalise_phone
from tests.connectors import jsm_cases as jsm
from tests.mock_nexora import one_connector_config, registry_of, runtime_on, stored, vendor_router
from tests.runtime.support import CALLER_E164, CRM, TENANT, Vendors, runtime

NZ_MOBILE = "+64215550100"

SPELLINGS = [
    "+64 21 555 0100",
    "021 555 0100",
    "(021) 555-0100",
    "0064 21 555 0100",
    "tel:+64-21-555-0100",
    "TEL:+64.21.555.0100",
    "tel:021-555-0100;phone-context=+64",
    "tel:+64-21-555-0100;ext=1234",
    "sip:+64215550100@carrier.example;user=phone",
    "sips:0215550100@pbx.local:5061;transport=tls",
    "sip:%2B64215550100@carrier.example",
    '"Aroha Ngata" <sip:+64215550100@carrier.example;user=phone>;tag=a48s',
    "<tel:+64215550100>",
]

WITHHELD_IDS = [
    "",
    "   ",
    "anonymous",
    "Anonymous",
    "UNKNOWN",
    "restricted",
    "Private",
    "unavailable",
    "sip:anonymous@anonymous.invalid",
    '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1928301774',
    "sips:Restricted@203.0.113.5",
    "tel:anonymous",
    "sip:@carrier.example",
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_one_number_reads_as_that_number(spelling: str) -> None:
    caller = read_caller_id(spelling)
    assert caller is not None
    assert caller.number is not None
    assert normalise_phone(caller.number, caller.region or "NZ") == NZ_MOBILE


def test_a_tel_uris_phone_context_names_the_region_of_a_local_number() -> None:
    caller = read_caller_id("tel:(02) 9876 5432;phone-context=+61")
    assert caller is not None
    assert caller.region == "AU"
    assert caller.number is not None
    assert normalise_phone(caller.number, caller.region or "NZ") == "+61298765432"
    # A domain context names no region: the tenant's applies.
    domain = read_caller_id("tel:5550100;phone-context=example.com")
    assert domain is not None
    assert domain.region is None


@pytest.mark.parametrize("withheld", WITHHELD_IDS)
def test_withheld_caller_ids_read_as_withheld(withheld: str) -> None:
    caller = read_caller_id(withheld)
    assert caller is not None
    assert caller.withheld


@pytest.mark.parametrize(
    "garbage", ["not a number", "sip:alice@example.com", "1" * 40, "x" * 300, "+64 21 555 0100 ext", "tel:"]
)
def test_what_is_neither_a_number_nor_withheld_is_not_read(garbage: str) -> None:
    caller = read_caller_id(garbage)
    assert caller is None or (caller.number is None) is (garbage == "tel:")


@given(
    word=st.sampled_from(sorted(WITHHELD)),
    flips=st.lists(st.booleans(), min_size=20, max_size=20),
    pad=st.sampled_from(["", " ", "\t", "  \n"]),
)
def test_withheld_words_in_any_case_and_padding_are_withheld(word: str, flips: list[bool], pad: str) -> None:
    cased = "".join(c.upper() if flip else c for c, flip in zip(word, flips, strict=False))
    for text in (pad + cased + pad, f"sip:{cased}@anonymous.invalid", f'"x" <sips:{cased}@h>'):
        caller = read_caller_id(text)
        assert caller is not None
        assert caller.withheld


_SUBSCRIBER = st.from_regex(r"2[1-9][0-9]{6,7}", fullmatch=True)


@given(
    subscriber=_SUBSCRIBER,
    form=st.sampled_from(
        [
            "+64{n}",
            "0{n}",
            "tel:+64{n}",
            "tel:0{n};phone-context=+64",
            "sip:+64{n}@trunk.example;user=phone",
            "sips:0{n}@pbx.example",
            '"Caller" <sip:+64{n}@trunk.example>',
            "sip:%2B64{n}@trunk.example",
        ]
    ),
)
def test_any_rendering_of_a_number_reads_as_the_same_e164(subscriber: str, form: str) -> None:
    expected = normalise_phone("+64" + subscriber, "NZ")
    caller = read_caller_id(form.format(n=subscriber))
    assert caller is not None
    assert caller.number is not None
    assert normalise_phone(caller.number, caller.region or "NZ") == expected


@given(st.text(max_size=400))
def test_any_text_reads_as_withheld_a_dialable_string_or_nothing(text: str) -> None:
    caller = read_caller_id(text)
    if caller is not None and caller.number is not None:
        digits = caller.number.removeprefix("+")
        assert digits.isascii()
        assert digits.isdigit()
        assert len(digits) <= 20


# --- through the conversation -------------------------------------------------------------------


@pytest.mark.parametrize("withheld", ["anonymous", "", "sip:anonymous@anonymous.invalid", "Restricted"])
async def test_a_withheld_caller_is_an_unidentified_context_and_nothing_is_sent(
    router: respx.MockRouter, key: str, withheld: str
) -> None:
    audit = MemoryAuditSink()
    async with (
        runtime(router, key=key, audit=audit) as nc,
        nc.conversation(tenant=TENANT, conversation_id="call-w") as conv,
    ):
        context = await conv.customer_context(phone=withheld)
        assert not context.identified
        assert context.sources == {}
        assert not context.complete
        assert context.contact is None
        assert "not identified" in context.for_llm()
        assert context.for_llm("json")["caller"] == "unidentified"
    assert not router.calls
    assert audit.records == []


async def test_a_withheld_number_beside_an_email_looks_the_caller_up_by_email(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c") as conv:
        context = await conv.customer_context(phone="anonymous", email="aroha@example.test")
    assert context.identified
    assert context.sources[CRM].steps[0].operation == "find_contacts"
    search = next(call.request for call in router.calls if call.request.url.path.endswith("/search"))
    assert b"aroha@example.test" in search.content
    assert b"555" not in search.content  # no phone was searched: none was given


async def test_a_sip_uri_finds_the_caller_a_national_number_finds(
    vendors: Vendors, router: respx.MockRouter, key: str
) -> None:
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c") as conv:
        by_uri = await conv.customer_context(phone=f"<sip:{CALLER_E164}@trunk.example;user=phone>")
        assert by_uri.sources[CRM].status is SourceStatus.OK
        assert by_uri.contact is not None
    sent = router.calls[0].request
    assert b"trunk.example" not in sent.content
    assert "trunk.example" not in str(sent.url)


@pytest.mark.parametrize("hostile", ["sip:alice@example.com", "tel:+64-21-555-0100-9999-9999-9999-999"])
async def test_a_caller_id_that_is_no_number_is_refused_without_echoing_it(
    router: respx.MockRouter, key: str, hostile: str
) -> None:
    async with runtime(router, key=key) as nc, nc.conversation(tenant=TENANT, conversation_id="c") as conv:
        with pytest.raises(InvalidArgumentsError, match="phone is not a phone number") as caught:
            await conv.customer_context(phone=hostile)
    assert hostile not in str(caught.value)
    assert not router.calls


async def test_jsm_by_phone_is_unsupported_not_failed_and_complete_ignores_it() -> None:
    router = vendor_router(jsm.BASE)
    audit = MemoryAuditSink()
    credentials = stored(jsm.credential("token-" + secrets.token_hex(8)), "jsm", tenant="acme")
    config = one_connector_config("jsm", {"jsm": ()}, tenant="acme", settings=jsm.SETTINGS)
    async with (
        runtime_on(router, config, registry_of(JSMConnector), credentials, audit=audit) as nc,
        nc.conversation(tenant="acme", conversation_id="call-jsm") as conv,
    ):
        context = await conv.customer_context(phone="021 555 0100")
        assert "failed" not in context.for_llm()
    source = context.sources["jsm"]
    assert source.status is SourceStatus.UNSUPPORTED
    assert source.error is None
    assert source.steps == ()
    assert context.complete
    assert not router.calls
    assert audit.records == []
