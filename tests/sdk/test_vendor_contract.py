"""sdk.testing's OpenAPI contract helper, used as a connector author would: any document path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import respx

from sdk.testing import VendorContract, assert_calls_valid

DOCUMENT = """
openapi: 3.0.3
info: {title: Acme, version: "1"}
servers: [{url: "https://api.acme.test/v2"}]
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
security: [{bearer: []}]
paths:
  /contacts/search:
    post:
      operationId: searchContacts
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [email]
              properties:
                email: {type: string, format: email}
                cursor: {type: string}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [results]
                properties:
                  results:
                    type: array
                    items: {type: object, required: [id], properties: {id: {type: string}}}
                  next: {type: string, nullable: true}
              example: {results: [{id: "c-1"}], next: null}
"""


@pytest.fixture
def contract(tmp_path: Path) -> VendorContract:
    path = tmp_path / "acme.yaml"
    path.write_text(DOCUMENT, encoding="utf-8")
    return VendorContract.from_document(path)


def _search(body: object, *, auth: str = "Bearer t0k3n", query: str = "") -> httpx.Request:
    return httpx.Request(
        "POST",
        "https://eu.api.acme.test/v2/contacts/search" + query,
        json=body,
        headers={"Authorization": auth},
    )


def test_a_document_outside_any_registry_loads_and_accepts_a_valid_request(contract: VendorContract) -> None:
    assert contract.name == "acme"
    assert contract.operations == {"searchContacts": ("POST", "/contacts/search")}
    request = _search({"email": "aroha@example.test", "cursor": "abc"})
    assert contract.validate_request(request) == []
    assert contract.find_operation("POST", str(request.url)) == "searchContacts"
    example = contract.response_examples("searchContacts")["example"]
    assert contract.validate_response(request, httpx.Response(200, json=example)) == []


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (_search({"email": "a@example.test", "cursr": "x"}), "request body"),
        (_search({"cursor": "x"}), "request body"),
        (_search({"email": "a@example.test"}, auth="Token x"), "security"),
        (_search({"email": "a@example.test"}, query="?emial=a"), "query parameter 'emial'"),
        (httpx.Request("GET", "https://api.acme.test/v2/contacts/search"), "no operation"),
    ],
)
def test_requests_that_break_the_contract_are_named(
    contract: VendorContract, request_: httpx.Request, expected: str
) -> None:
    problems = contract.validate_request(request_)
    assert problems, "an invalid request passed"
    assert any(expected in line for line in problems), problems
    with pytest.raises(AssertionError, match="breaks"):
        contract.assert_request_valid(request_)


def test_a_fixture_the_vendor_would_never_send_is_refused(contract: VendorContract) -> None:
    request = _search({"email": "a@example.test"})
    problems = contract.validate_response(request, httpx.Response(200, json={"results": [{"name": "x"}]}))
    assert any("response body" in line and "id" in line for line in problems), problems
    assert contract.validate_response(request, httpx.Response(503, json={}))
    assert (
        contract.validate_response(request, httpx.Response(503, json={}), allow_undeclared_status=True) == []
    )


def test_recorded_calls_are_checked_through_a_router(contract: VendorContract) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.post("https://api.acme.test/v2/contacts/search").respond(json={"results": [], "next": None})
        httpx.post(
            "https://api.acme.test/v2/contacts/search",
            json={"email": "a@example.test"},
            headers={"Authorization": "Bearer x"},
        )
        assert assert_calls_valid(contract, router.calls) == ["searchContacts"]
        httpx.post(
            "https://api.acme.test/v2/contacts/search",
            json={"email": 5},
            headers={"Authorization": "Bearer x"},
        )
        with pytest.raises(AssertionError, match="call 2"):
            assert_calls_valid(contract, router)


def test_a_missing_document_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no OpenAPI document"):
        VendorContract.from_document(tmp_path / "nope.yaml")


def test_importing_the_kit_does_not_import_openapi_core() -> None:
    script = "import json, sys, sdk.testing; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stdout)
    assert "sdk.testing" in loaded
    assert not [name for name in loaded if name.split(".")[0] in ("openapi_core", "jsonschema")]


def test_without_openapi_core_the_error_says_what_to_install(tmp_path: Path) -> None:
    path = tmp_path / "acme.json"
    path.write_text(json.dumps({"openapi": "3.0.3", "info": {"title": "x", "version": "1"}, "paths": {}}))
    script = (
        "import sys; sys.modules['openapi_core'] = None\n"
        "from sdk.testing import VendorContract\n"
        f"VendorContract.from_document({str(path)!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "ImportError" in done.stderr
    assert "pip install 'nexora-connect[testing]'" in done.stderr
