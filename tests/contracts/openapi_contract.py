"""The repository's vendor documents by name, on top of :mod:`sdk.testing`'s contract helper.

The helper itself (openapi-core with the adjustments a connector needs, error reports, fixtures
from examples) ships in ``sdk.testing`` as :class:`sdk.testing.VendorContract`; this module only
knows where each vendor's document lives here and skips the calling test when it is absent::

    from tests.contracts.openapi_contract import VendorSpec, assert_calls_valid

    async def test_find_contact(respx_mock):
        ...  # drive the connector
        assert_calls_valid(VendorSpec.load("hubspot-contacts"), respx_mock.calls)

Which file each name loads, and why (see ``shared/vendor-specs/README.md``):

* ``hubspot-<object>``: ``shared/…/hubspot/prism-ready/<object>.v3.json``. The originals declare
  the error response with media type ``*/*``; openapi-core matches that range but then deserialises
  the body with the ``*/*`` (binary) loader, so every JSON error body fails as "not of type object".
  The prism-ready copies only rename that media type to ``application/json`` (what HubSpot sends)
  and drop ``"example": null``; schemas, parameters and security are identical.
* ``zendesk``: the original ``zendesk/oas.yaml`` (the only copy; unquoted ``=`` scalars handled).
* ``stripe``: the bundled copy of the prism-ready 9-path subset (``tests/fixtures/specs/stripe``);
  the 4 MB original is not redistributed here. Its expandable fields are reduced to string ids, so a
  response fetched with ``expand[]`` will not validate against it.
* ``stripe-full``: the original ``stripe/spec3.yaml`` (API 2023-08-16) from the shared folder, for
  paths outside the subset such as ``POST /v1/invoices/{invoice}/send``.
* ``jira-service-management``, ``chargebee``: bundled prism-ready copies. Their only changes are
  to examples (JSON-in-string examples parsed; ``example: null`` dropped; Chargebee YAML → JSON,
  which also loads 50x faster), so validation is identical and examples are usable as fixtures.
* ``intercom``: the original YAML from the shared folder; ``intercom-subset`` the bundled subset.

Specs whose licence forbids redistribution (HubSpot: proprietary; Zendesk: none) are read only
from ``../shared/vendor-specs`` beside the repository, or ``$NEXORA_VENDOR_SPECS``; when absent the
calling test is skipped. Both Stripe documents get ``loose_nullable`` (see
:func:`sdk.testing._contract.strict_nullable`).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdk.testing import ContractRecorder, VendorContract, assert_calls_valid, only_path
from sdk.testing._contract import spec_loader

__all__ = [
    "SPEC_NAMES",
    "VendorSpec",
    "vendor_specs_dir",
    "find_operation",
    "request_errors",
    "response_errors",
    "assert_request_valid",
    "assert_response_valid",
    "assert_calls_valid",
    "ContractRecorder",
    "only_path",
    "spec_from_document",
]

ENV_VAR = "NEXORA_VENDOR_SPECS"
_REPO_ROOT = Path(__file__).resolve().parents[2]
_BUNDLED_DIR = _REPO_ROOT / "tests" / "fixtures" / "specs"
_SpecLoader = spec_loader()


@dataclass(frozen=True)
class _Source:
    relpath: str
    bundled: bool  # True: redistributable copy under tests/fixtures/specs; False: shared folder only.
    loose_nullable: bool = False


_SOURCES: dict[str, _Source] = {
    "hubspot-contacts": _Source("hubspot/prism-ready/contacts.v3.json", bundled=False),
    "hubspot-companies": _Source("hubspot/prism-ready/companies.v3.json", bundled=False),
    "hubspot-notes": _Source("hubspot/prism-ready/notes.v3.json", bundled=False),
    "hubspot-tickets": _Source("hubspot/prism-ready/tickets.v3.json", bundled=False),
    "hubspot-calls": _Source("hubspot/prism-ready/calls.v3.json", bundled=False),
    "zendesk": _Source("zendesk/oas.yaml", bundled=False),
    "stripe": _Source("stripe/stripe-voice-subset.json", bundled=True, loose_nullable=True),
    "stripe-full": _Source("stripe/spec3.yaml", bundled=False, loose_nullable=True),
    "jira-service-management": _Source("jira-service-management/openapi.json", bundled=True),
    "chargebee": _Source("chargebee/chargebee_api_v1_spec.json", bundled=True),
    "intercom": _Source("intercom/api.intercom.io.2.14.yaml", bundled=False),
    "intercom-subset": _Source("intercom/intercom-voice-subset.json", bundled=True),
}

SPEC_NAMES: tuple[str, ...] = tuple(_SOURCES)


def vendor_specs_dir() -> Path:
    """Return where the non-redistributable vendor documents are read from."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured)
    return _REPO_ROOT.parent / "shared" / "vendor-specs"


class VendorSpec(VendorContract):
    """A :class:`~sdk.testing.VendorContract` loaded by the repository's name for its document."""

    @classmethod
    def load(cls, name: str) -> VendorSpec:
        """Return the named spec, skipping the calling test when its document is not available."""
        try:
            source = _SOURCES[name]
        except KeyError:
            raise ValueError(f"unknown vendor spec {name!r}; known: {', '.join(SPEC_NAMES)}") from None
        root = _BUNDLED_DIR if source.bundled else vendor_specs_dir()
        path = root / source.relpath
        if not path.is_file():
            if not root.is_dir():
                pytest.skip(f"vendor specs not found at {root}; set {ENV_VAR}", allow_module_level=True)
            pytest.skip(
                f"vendor specs not found at {path} (for {name!r}); set {ENV_VAR}", allow_module_level=True
            )
        return _load_named(name, path, source.loose_nullable)


@functools.cache
def _load_named(name: str, path: Path, loose_nullable: bool) -> VendorSpec:
    loaded = VendorContract.from_document(path, name=name, loose_nullable=loose_nullable)
    return VendorSpec(name=name, path=loaded.path, document=loaded.document, openapi=loaded.openapi)


def spec_from_document(name: str, path: Path, document: dict[str, Any]) -> VendorContract:
    """A contract over a document a test prepared itself (e.g. with :func:`only_path`)."""
    return VendorContract.from_dict(document, name=name, path=path)


# The function forms the connector contract tests were written against.


def find_operation(spec: VendorContract, method: str, path: str) -> str:
    return spec.find_operation(method, path)


def request_errors(spec: VendorContract, request: httpx.Request) -> list[str]:
    return spec.validate_request(request)


def response_errors(
    spec: VendorContract,
    request: httpx.Request,
    response: httpx.Response,
    *,
    allow_undeclared_status: bool = False,
) -> list[str]:
    return spec.validate_response(request, response, allow_undeclared_status=allow_undeclared_status)


def assert_request_valid(spec: VendorContract, request: httpx.Request) -> None:
    spec.assert_request_valid(request)


def assert_response_valid(
    spec: VendorContract,
    request: httpx.Request,
    response: httpx.Response,
    *,
    allow_undeclared_status: bool = False,
) -> None:
    spec.assert_response_valid(request, response, allow_undeclared_status=allow_undeclared_status)
