"""Checking every call a respx router recorded against the vendor's contract, and counting coverage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import httpx
import respx

from sdk.testing._contract import VendorContract, label

__all__ = ["ContractRecorder", "assert_calls_valid"]


class ContractRecorder:
    """Validate recorded respx calls against one or more contracts and count the operations exercised.

    A connector that talks to several documents of one vendor passes them all; each call is checked
    against the first contract that has an operation for it. Validation happens after the fact, on
    ``router.calls``, rather than inside a respx side effect, because a connector may catch and
    translate exceptions raised by its transport.
    """

    def __init__(self, *contracts: VendorContract, allow_undeclared_status: bool = False) -> None:
        if not contracts:
            raise ValueError("ContractRecorder needs at least one VendorContract")
        self.specs = contracts
        self.allow_undeclared_status = allow_undeclared_status
        self.exercised: Counter[str] = Counter()

    def _contract_for(self, request: httpx.Request) -> tuple[VendorContract, str] | None:
        for contract in self.specs:
            try:
                return contract, contract.find_operation(request.method, str(request.url))
            except AssertionError:
                continue
        return None

    def check(self, calls: Any) -> list[str]:
        """Validate every call (a respx router, route, or their ``calls``); return the operationIds in order.

        All failures are gathered into one AssertionError, grouped by call. An empty call list
        fails too: it usually means the check ran after ``respx.mock()`` exited and cleared it.
        """
        if isinstance(calls, respx.Router | respx.Route):
            calls = calls.calls
        if not calls:
            raise AssertionError(
                "no calls to check; call this before the respx.mock() block exits (it clears router.calls)"
            )
        operation_ids: list[str] = []
        failures: list[str] = []
        for index, call in enumerate(calls, start=1):
            request, response = call.request, call.optional_response
            found = self._contract_for(request)
            if found is None:
                names = ", ".join(contract.name for contract in self.specs)
                failures.append(f"call {index}: {label(request)}: no operation in {names}")
                continue
            contract, operation_id = found
            operation_ids.append(operation_id)
            self.exercised[operation_id] += 1
            lines = [f"request: {line}" for line in contract.validate_request(request)]
            if response is not None:
                status = response.status_code
                lines += [
                    f"response {status}: {line}"
                    for line in contract.validate_response(
                        request, response, allow_undeclared_status=self.allow_undeclared_status
                    )
                ]
            if lines:
                detail = "\n".join(f"    - {line}" for line in lines)
                failures.append(f"call {index}: {label(request)} ({contract.name} {operation_id}):\n{detail}")
        if failures:
            raise AssertionError("calls break the vendor contract:\n" + "\n".join(failures))
        return operation_ids

    def assert_exercised(self, *operation_ids: str) -> None:
        """Fail if any of the operationIds was not among the checked calls."""
        missing = [operation_id for operation_id in operation_ids if operation_id not in self.exercised]
        if missing:
            raise AssertionError(f"operations never called: {', '.join(missing)}")


def assert_calls_valid(
    contract: VendorContract | Sequence[VendorContract], calls: Any, *, allow_undeclared_status: bool = False
) -> list[str]:
    """Validate every request and response of a respx router (or ``router.calls``).

    Returns the operationIds exercised, in call order, for coverage reports.
    """
    contracts = (contract,) if isinstance(contract, VendorContract) else tuple(contract)
    return ContractRecorder(*contracts, allow_undeclared_status=allow_undeclared_status).check(calls)
