"""Which vendor document each Prism serves, and the few derivatives built at session start.

Every mock serves a vendor's own document (see ``shared/vendor-specs/README.md``); five are
derived here, in a temporary folder, rather than committed:

* ``stripe``: the bundled 9-path voice subset plus ``POST /v1/invoices/{invoice}/send``, copied
  unchanged from the full spec into ``tests/fixtures/specs/stripe/invoices-send.path.json`` (its
  only references, ``invoice`` and ``error``, are already in the subset). The full 4 MB spec does
  not start under Prism, so ``resend_invoice`` is covered this way.
* ``jsm``: the bundled Service Management document with ``basicAuth`` (which it defines but no
  operation lists) added beside ``OAuth2`` to every operation. Atlassian Cloud accepts both on
  every one of these endpoints; the document's OAuth-only declarations would make Prism answer
  401 to the email + API token scheme most JSM customers use.
* ``xero``: the bundled voice subset of Xero's ``xero_accounting.yaml``
  (``tests/fixtures/specs/xero/README.md``; the whole 926 KB document takes about 35 s to start on
  two cores) with its ten schema reference cycles cut, and an invoice's ``Payments``,
  ``CreditNotes``, ``Prepayments`` and ``Overpayments`` items (which the connector does not read)
  made plain objects (``XERO_CUTS``). With the cycles Prism's generator fails every dynamic
  ``/Invoices`` body (500, "Prop not found"); with the nested settlement lists it takes 4-8 s per
  ``/Invoices`` answer, more than the SDK's 5 s read timeout. Cut, it answers in under 1 s.
* ``xero-identity``: Xero's identity document (bundled, MIT) with the 200 example of
  ``GET /Connections`` parsed from the JSON *string* it is written as into the array it describes;
  Prism would otherwise serve a string.
* ``jira-search``: ``/rest/api/3/search/jql`` alone (with the schemas it references) from Jira's
  platform document, which the JSM connector's list_tickets also calls. The whole 3.3 MB document
  takes four times as long to start.

HubSpot's documents are proprietary and Zendesk's carries no licence: they are read where they
are, from ``../shared/vendor-specs`` or ``$NEXORA_VENDOR_SPECS``, and never copied into the repo.
A vendor whose document is missing is left out (its tests skip and say why).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from tests.contracts.openapi_contract import only_path, vendor_specs_dir

__all__ = ["BUNDLED", "build_documents"]

BUNDLED = Path(__file__).resolve().parents[1] / "fixtures" / "specs"

_SHARED = {
    "hubspot-contacts": "hubspot/prism-ready/contacts.v3.json",
    "hubspot-companies": "hubspot/prism-ready/companies.v3.json",
    "hubspot-notes": "hubspot/prism-ready/notes.v3.json",
    "zendesk": "zendesk/oas.yaml",
}
JIRA_PLATFORM = "jira-cloud/prism-ready/swagger-v3.v3.json"
JIRA_SEARCH_PATH = "/rest/api/3/search/jql"


def stripe_with_send() -> dict[str, Any]:
    """The bundled Stripe subset with the resend path added (see the module docstring)."""
    document: dict[str, Any] = json.loads((BUNDLED / "stripe" / "stripe-voice-subset.json").read_text())
    fragment = json.loads((BUNDLED / "stripe" / "invoices-send.path.json").read_text())
    document["paths"][fragment["path"]] = fragment["item"]
    return document


def jsm_with_basic() -> dict[str, Any]:
    """The bundled JSM document where every operation also accepts HTTP Basic."""
    document: dict[str, Any] = json.loads((BUNDLED / "jira-service-management" / "openapi.json").read_text())
    document = copy.deepcopy(document)
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "security" in operation:
                operation["security"] = [*operation["security"], {"basicAuth": []}]
    return document


XERO_CUTS = (
    ("Allocation", "CreditNote"),
    ("Allocation", "Invoice"),
    ("BatchPayment", "Payment"),
    ("ContactGroup", "Contact"),
    ("Overpayment", "Allocation"),
    ("Payment", "CreditNote"),
    ("Payment", "Invoice"),
    ("Payment", "Overpayment"),
    ("Prepayment", "Allocation"),
    ("Prepayment", "Payment"),
    ("Invoice", "Payment"),
    ("Invoice", "CreditNote"),
    ("Invoice", "Prepayment"),
    ("Invoice", "Overpayment"),
)
"""(schema, referenced schema) pairs whose references become plain objects for Prism: the ten
references that close a cycle, then the invoice's settlement lists."""


def _cut(node: Any, target: str) -> Any:
    if isinstance(node, dict):
        if node.get("$ref") == f"#/components/schemas/{target}":
            return {"type": "object"}
        return {key: _cut(value, target) for key, value in node.items()}
    if isinstance(node, list):
        return [_cut(value, target) for value in node]
    return node


def xero_for_prism() -> dict[str, Any]:
    """The bundled Xero Accounting subset with ``XERO_CUTS`` applied (see the module docstring)."""
    document: dict[str, Any] = json.loads((BUNDLED / "xero" / "xero-voice-subset.json").read_text())
    schemas = document["components"]["schemas"]
    for source, target in XERO_CUTS:
        cut = _cut(schemas[source], target)
        if cut == schemas[source]:
            raise ValueError(f"the Xero subset no longer refers from {source} to {target}")
        schemas[source] = cut
    return document


def xero_identity() -> dict[str, Any]:
    """The bundled Xero identity document, its /Connections example an array (see the module docstring)."""
    document: dict[str, Any] = yaml.safe_load((BUNDLED / "xero" / "xero-identity.yaml").read_text())
    content = document["paths"]["/Connections"]["get"]["responses"]["200"]["content"]["application/json"]
    if isinstance(content.get("example"), str):
        content["example"] = json.loads(content["example"])
    return document


def build_documents(work: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """Return the document to serve per mock name, and why any mock is missing."""
    work.mkdir(parents=True, exist_ok=True)
    shared = vendor_specs_dir()
    documents: dict[str, Path] = {}
    missing: dict[str, str] = {}
    for name, relpath in _SHARED.items():
        path = shared / relpath
        if path.is_file():
            documents[name] = path
        else:
            missing[name] = f"{path} not found (set $NEXORA_VENDOR_SPECS)"
    derived = {"stripe": stripe_with_send(), "jsm": jsm_with_basic(), "xero-identity": xero_identity()}
    derived["xero"] = xero_for_prism()
    platform = shared / JIRA_PLATFORM
    if platform.is_file():
        derived["jira-search"] = only_path(json.loads(platform.read_text()), JIRA_SEARCH_PATH)
    else:
        missing["jira-search"] = f"{platform} not found (set $NEXORA_VENDOR_SPECS)"
    for name, document in derived.items():
        target = work / f"{name}.json"
        target.write_text(json.dumps(document))
        documents[name] = target
    documents["chargebee"] = BUNDLED / "chargebee" / "chargebee_api_v1_spec.json"
    documents["intercom"] = BUNDLED / "intercom" / "intercom-voice-subset.json"
    return documents, missing
