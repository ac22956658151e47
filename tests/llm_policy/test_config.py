"""The policy as tenant configuration: documented defaults, frozen, and every mistake named by its key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from sdk import ConfigurationError, NexoraConfig
from sdk._call import LLMPolicy
from sdk._models import Contact, Money, Ticket
from tests.llm_policy.conftest import FIELD_RULES, policy_config


def _parse(redaction: dict[str, Any]) -> NexoraConfig:
    return NexoraConfig.parse(
        {"vault": {"address": "http://127.0.0.1:9"}, "tenants": {"acme": {"redaction": redaction}}}
    )


def test_defaults_drop_internal_notes_and_override_no_field() -> None:
    policy = LLMPolicy()
    assert policy.internal_notes == "drop"
    assert policy.fields == {}
    assert (policy.pii, policy.pci, policy.health) == ("keep", "last4", "mask")
    tenant = _parse({}).tenants["acme"].redaction
    assert tenant == policy


def test_a_configured_policy_reads_back_as_written() -> None:
    config = policy_config()
    policy = config.tenants["tenant-fields-9"].redaction
    assert policy.fields == FIELD_RULES
    assert policy.internal_notes == "drop"
    assert config.tenants["tenant-keep-9"].redaction.internal_notes == "keep"


def test_the_policy_is_frozen() -> None:
    policy = LLMPolicy(internal_notes="drop")
    with pytest.raises(ValidationError):
        policy.internal_notes = "keep"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        policy.fields = {"Contact.email": "keep"}  # type: ignore[misc]


@pytest.mark.parametrize(
    ("key", "names"),
    [
        pytest.param("Contakt.email", ["Contakt.email", "Contact", "Ticket"], id="unknown-model"),
        pytest.param("Contact.emial", ["Contact.emial", "email", "phone"], id="unknown-field"),
        pytest.param("email", ["'email'", "Model.field"], id="no-model"),
        pytest.param("Contact.", ["'Contact.'"], id="empty-field"),
        pytest.param("Money.amount_minor", ["Money.amount_minor"], id="money-is-a-value-not-a-record"),
        pytest.param("CustomerContext.sources", ["CustomerContext.sources"], id="not-a-shared-model"),
        pytest.param("Contact.email.x", ["Contact.email.x"], id="too-deep"),
        pytest.param("TicketComment.public", ["TicketComment.public", "internal_notes"], id="fixed-field"),
    ],
)
def test_an_unknown_or_fixed_field_is_a_configuration_error_naming_the_key(
    key: str, names: list[str]
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        _parse({"fields": {key: "mask", "Contact.name": "keep"}})
    message = str(caught.value)
    assert "tenants.acme.redaction.fields" in message
    for name in names:
        assert name in message
    assert "Contact.name" not in message  # only the wrong key is named


@pytest.mark.parametrize(
    "redaction",
    [
        pytest.param({"internal_notes": "show"}, id="internal-notes-value"),
        pytest.param({"internal_notes": True}, id="internal-notes-bool"),
        pytest.param({"fields": {"Contact.email": "hide"}}, id="field-action"),
        pytest.param({"fields": {"Contact.email": None}}, id="field-action-null"),
        pytest.param({"fields": ["Contact.email"]}, id="fields-not-a-table"),
        pytest.param({"internal_note": "keep"}, id="misspelt-key"),
    ],
)
def test_a_wrong_value_is_a_configuration_error_naming_where(redaction: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        _parse(redaction)
    message = str(caught.value)
    assert "tenants.acme.redaction" in message
    assert "hide" not in message
    assert "show" not in message


def test_every_field_of_every_record_model_is_configurable() -> None:
    """The keys the docs promise exist: each shared record model's fields, public flag excepted."""
    for model in (Contact, Ticket):
        for name in model.model_fields:
            policy = LLMPolicy(fields={f"{model.__name__}.{name}": "drop"})
            assert policy.fields == {f"{model.__name__}.{name}": "drop"}
    assert "amount_minor" in Money.model_fields  # the refused Money key above names a real field
