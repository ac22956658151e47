"""One "replica" for the multi-process refresh test: ``python -m tests.oauth._worker``.

It reads its settings as one JSON line on standard input (the Vault token included:
never on the command line, where other users can read it), builds its own
CredentialStore and OAuthTokenSource, prints ``ready``, waits for ``go``, then has
several coroutines each fetch an access token, use it at the vendor and drop it
(forcing the next fetch to refresh), and prints one JSON line of counters.
Nothing it prints holds a token.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from typing import Any

import httpx

from vault import CredentialStore, VaultSettings
from vault._lease import VaultRefreshLocks
from vault._locks import LocalRefreshLocks, RefreshLocks
from vault._oauth import OAuthTokenSource
from vault._token_endpoint import TokenEndpoint


async def run(config: dict[str, Any]) -> dict[str, Any]:
    tenant, integration = config["tenant"], config["integration"]
    settings = VaultSettings(address=config["address"])
    async with CredentialStore() as store:
        store.register_tenant(tenant, settings=settings, region=settings.region, token=config["vault_token"])
        locks: RefreshLocks
        if config["locking"]:
            locks = VaultRefreshLocks(store, ttl=config["ttl"], poll=0.005, max_poll=0.05, wait=30)
        else:
            locks = LocalRefreshLocks()  # the control: no cross-process lock at all
        tokens = OAuthTokenSource(store, locks=locks, margin=0)
        endpoint = TokenEndpoint(url=config["vendor"] + "/oauth/token", auth_method="client_secret_post")
        await store.get(tenant, integration)  # logged in and warmed up before the start line
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        failures: list[str] = []
        calls = 0

        async def replica_task(http: httpx.AsyncClient) -> None:
            nonlocal calls
            for _ in range(config["rounds"]):
                try:
                    lease = await store.get(tenant, integration)
                    token = await tokens.token(lease, endpoint)
                    answer = await http.get(
                        "/api/me", headers={"Authorization": "Bearer " + token.value.get_secret_value()}
                    )
                    calls += 1
                    if answer.status_code != 200:
                        failures.append(f"the vendor refused an access token ({answer.status_code})")
                    tokens.drop(tenant, integration, token)
                except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on any
                    failures.append(f"{type(exc).__name__}: {exc}")

        async with httpx.AsyncClient(base_url=config["vendor"], trust_env=False) as http:
            await asyncio.gather(*(replica_task(http) for _ in range(config["coroutines"])))
        return {
            "calls": calls,
            "token_requests": tokens.stats.requests,
            "refreshes": tokens.stats.refreshes,
            "write_backs": tokens.stats.write_backs,
            "lock": dataclasses.asdict(locks.stats),
            "failures": failures,
        }


def main() -> None:
    config = json.loads(sys.stdin.readline())
    result = asyncio.run(run(config))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
