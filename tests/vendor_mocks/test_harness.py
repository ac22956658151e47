"""The Prism harness itself: a mock starts, serves, and leaves no process or port behind."""

from __future__ import annotations

import os
import socket

import httpx
import pytest

from tests.vendor_mocks._documents import BUNDLED, jsm_with_basic, stripe_with_send
from tests.vendor_mocks._prism import PrismUnavailable, ensure_prism, start_all, stop_all


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_stopped_mock_leaves_no_process_and_no_listener(tmp_path: pytest.TempPathFactory) -> None:
    try:
        binary, _ = ensure_prism()
    except PrismUnavailable as exc:
        pytest.skip(str(exc))
    running = start_all(
        binary, {"stripe": BUNDLED / "stripe" / "stripe-voice-subset.json"}, tmp_path / "logs"
    )  # type: ignore[operator]
    proc = running["stripe"]
    try:
        answer = httpx.get(f"{proc.origin}/v1/customers", timeout=10)  # no credential
        assert answer.status_code == 401  # Prism enforces the document's security
    finally:
        survivors = stop_all(running.values())
    assert survivors == []
    assert proc.process.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.process.pid, 0)
    assert not _listening(proc.port)


def test_the_stripe_document_gains_only_the_resend_path() -> None:
    import json

    subset = json.loads((BUNDLED / "stripe" / "stripe-voice-subset.json").read_text())
    extended = stripe_with_send()
    added = set(extended["paths"]) - set(subset["paths"])
    assert added == {"/v1/invoices/{invoice}/send"}
    operation = extended["paths"]["/v1/invoices/{invoice}/send"]["post"]
    assert operation["operationId"] == "PostInvoicesInvoiceSend"
    assert extended["components"] == subset["components"]  # its references were already there


def test_the_jsm_document_adds_basic_beside_oauth_and_nothing_else() -> None:
    document = jsm_with_basic()
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "security" in operation:
                schemes = [name for entry in operation["security"] for name in entry]
                assert schemes[-1] == "basicAuth"
                assert "OAuth2" in schemes
