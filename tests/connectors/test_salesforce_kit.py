"""The connector test kit's conformance battery, run against the Salesforce connector.

The kit's integration holds a JWT bearer credential (the flow Salesforce recommends for servers), so
every scenario also goes through the login server: a token request with a signed assertion, an
``instance_url`` the requests are sent to, and after a 401 a new assertion and token.

The kit plants a secret string in the credential and searches for it everywhere; a PEM key cannot be
made of a given string, so the key material of each credential the kit made is searched for too.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import respx

from connectors.crm.salesforce import SalesforceConnector
from sdk import MemoryAuditSink
from sdk.testing import MemoryCredentialSource, connector_test_class, make_canary
from sdk.testing._harness import ScenarioRun as _Run
from tests.connectors import salesforce_cases as sf


@pytest.fixture(autouse=True)
def login_server() -> Iterator[respx.Route]:
    with sf.kit_login() as route:
        yield route


_Battery: Any = connector_test_class(
    SalesforceConnector, cases=sf.KIT_CASES, pagination=sf.KIT_PAGINATION, credential=sf.kit_credential
)


class TestSalesforceConformance(_Battery):  # type: ignore[misc]
    key_scans: ClassVar[int] = 0

    def _assert_no_leak(self, run: _Run, caplog: pytest.LogCaptureFixture) -> None:
        super()._assert_no_leak(run, caplog)
        pem = sf.KIT_KEYS[run.secret]
        texts = [r.getMessage() for r in caplog.records]
        texts += [r.model_dump_json() for r in run.audit.records]
        for exc in run.errors:
            texts += ["".join(traceback.format_exception(exc)), repr(exc)]
        for text in texts:
            for material in sf.key_material(pem):
                assert material not in text, "the private key leaked"
        type(self).key_scans += 1

    async def test_the_kit_runs_the_key_scan(self, caplog: pytest.LogCaptureFixture) -> None:
        before = type(self).key_scans
        await self.test_persistent_401_gives_vendor_auth_error_without_the_secret(caplog)
        assert type(self).key_scans == before + 1

    def test_the_key_scan_finds_a_key_in_a_log_line(self, caplog: pytest.LogCaptureFixture) -> None:
        secret = make_canary("secret")
        sf.kit_credential(secret)
        run = _Run(
            router=respx.MockRouter(),
            credentials=MemoryCredentialSource(),
            audit=MemoryAuditSink(),
            secret=secret,
            canary=make_canary("customer"),
        )
        line = sf.key_material(sf.KIT_KEYS[secret])[3]
        caplog.set_level(logging.DEBUG)
        logging.getLogger("tests.salesforce").debug("planted %s", line)
        with pytest.raises(AssertionError, match="private key"):
            self._assert_no_leak(run, caplog)
        caplog.clear()  # the planted line must not fail the session-wide scan; it is no canary
