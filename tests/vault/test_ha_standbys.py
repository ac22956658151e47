"""A three-node Raft cluster with a degraded standby, and OAuth refreshes across a failover.

Two promises of issue 14 that the read-load failover test
(test_ha_failover.py) does not cover, against one cluster (tests/vault/ha_cluster.py):

* A sealed or frozen (SIGSTOP: partitioned, or stuck) standby is handled as
  clearly as a single node: through the load balancer reads succeed on another
  node within the deadline (``failover_wait``); aimed at that node alone they
  fail with the typed error a single node gives (VaultSealedError,
  VaultTimeoutError), never untyped and never past the call's deadline.
* An OAuth refresh spends no refresh token twice, across replicas and across
  the active node being killed. Standbys serve reads from a copy that trails
  the active node by a heartbeat (55-110 ms here), so the read under the
  refresh lock must be consistent (vault/_consistency.py); the first test shows
  the trailing copy is real, so that the refresh test is not passing by luck.

The tests run in file order: the degraded-standby tests restore the node, and
the refresh test kills the active node last. Figures are printed for
docs/scaling.md and docs/vault-production.md.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import hvac
import pytest

from sdk import (
    CredentialNotFoundError,
    NexoraError,
    VaultSealedError,
    VaultTimeoutError,
    VaultUnavailableError,
)
from sdk._deadline import deadline_set
from tests.oauth.support import TOKEN_PATH, TokenVendor, refresh_credential
from tests.vault.ha_cluster import RaftCluster, TcpBalancer
from tests.vault.support import make_secret, new_id
from vault import (
    ApiKeyCredential,
    CredentialStore,
    OAuth2RefreshCredential,
    VaultClient,
    VaultSettings,
    credential_path,
    tenant_policy_hcl,
)
from vault._lease import VaultRefreshLocks
from vault._oauth import OAuthTokenSource
from vault._token_endpoint import TokenEndpoint

pytestmark = [pytest.mark.vault, pytest.mark.vault_ha]

DEADLINE = 15.0  # a call's whole budget, as in test_ha_failover.py
NODE_TIMEOUT = 1.0  # the tenant's Vault timeout: how long one read may wait for a silent node
SLACK = 0.5  # scheduling on a loaded 2-core machine
ENDPOINT = TokenEndpoint(url="https://vendor.test" + TOKEN_PATH, auth_method="client_secret_post")


@dataclass
class Cluster:
    nodes: RaftCluster
    balancer: TcpBalancer
    token: str
    tenant: str
    root_settings: VaultSettings
    figures: dict[str, Any] = field(default_factory=dict)

    def standby(self) -> int:
        active = self.nodes.active_port()
        return next(port for port in self.nodes.ports if port != active and self.nodes.alive(port))

    def settings(self, port: int | None = None, **extra: Any) -> VaultSettings:
        address = self.balancer.address if port is None else f"http://127.0.0.1:{port}"
        return VaultSettings(address=address, timeout=NODE_TIMEOUT, **extra)


def _root(port: int, token: str) -> Any:
    client = hvac.Client(url=f"http://127.0.0.1:{port}", token=token, timeout=5)
    client.session.trust_env = False
    return client


def _retry(call: Any) -> Any:
    """Standbys refuse KV reads for a few seconds after the mount is enabled: wait that out."""
    for _ in range(150):
        try:
            return call()
        except (hvac.exceptions.InvalidRequest, hvac.exceptions.InternalServerError):
            time.sleep(0.1)
    return call()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    nodes = RaftCluster(tmp_path_factory.mktemp("raft-standbys"))
    try:
        nodes.start()
        active = nodes.active_port()
        assert active is not None
        root = _root(active, nodes.root_token)
        root.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
        settings = VaultSettings(address=f"http://127.0.0.1:{active}")
        tenant = new_id()
        name = f"nexora-{tenant}"
        root.sys.create_or_update_policy(name=name, policy=tenant_policy_hcl(tenant, settings, write=True))
        token = root.auth.token.create(policies=[name], ttl="30m")["auth"]["client_token"]
        path = credential_path(settings, tenant, "crm")
        _retry(
            lambda: root.secrets.kv.v2.create_or_update_secret(
                path=path, secret={"type": "api_key", "api_key": make_secret()}, mount_point="secret"
            )
        )
        for port in nodes.ports:  # every node serves reads before a test starts
            reader = _root(port, token)
            _retry(
                lambda reader=reader: reader.secrets.kv.v2.read_secret_version(
                    path=path, mount_point="secret", raise_on_deleted_version=True
                )
            )
            reader.adapter.close()
        root.adapter.close()
        with TcpBalancer(nodes.ports) as balancer:
            state = Cluster(
                nodes=nodes, balancer=balancer, token=token, tenant=tenant, root_settings=settings
            )
            yield state
            print(f"\nHA standby figures: {json.dumps(state.figures)}")
    finally:
        nodes.close()


@pytest.fixture
async def opened() -> AsyncIterator[list[CredentialStore]]:
    """Stores a test opens, closed at its end whatever happened."""
    stores: list[CredentialStore] = []
    yield stores
    for store in stores:
        await store.aclose()


def _store(cluster: Cluster, opened: list[CredentialStore], port: int | None, wait: float) -> CredentialStore:
    store = CredentialStore(failover_wait=wait)
    store.register_tenant(cluster.tenant, settings=cluster.settings(port), region="nz", token=cluster.token)
    opened.append(store)
    return store


# --- the trailing copy is real, and a consistent read does not see it ------------------------------


async def test_a_standby_trails_the_active_node_and_a_consistent_read_does_not(cluster: Cluster) -> None:
    standby = cluster.standby()
    settings = cluster.settings(standby)
    client = VaultClient(settings, token=cluster.token, renew_tokens=False)
    path = credential_path(settings, cluster.tenant, new_id("lag"))
    plain_stale = consistent_stale = 0
    try:
        version = 0
        for round_ in range(12):
            value = make_secret()
            # Written through the standby (it forwards writes), which then answers the reads.
            version = await client.write_secret(path, {"v": value}, cas=version)
            assert client.replication_index is not None
            if round_ % 2 == 0:
                try:
                    data, number = await client.read_secret(path)
                except CredentialNotFoundError:  # the standby has not applied the first write yet
                    plain_stale += 1
                else:
                    plain_stale += data["v"] != value
            else:
                data, number = await client.read_secret(path, consistent=True)
                consistent_stale += data["v"] != value or number != version
    finally:
        await client.close()
    cluster.figures["standby_reads_right_after_a_write"] = {
        "plain_stale": f"{plain_stale}/6",
        "consistent_stale": f"{consistent_stale}/6",
    }
    assert consistent_stale == 0
    # Without the index a standby answers from its own copy: this is what would spend a refresh
    # token twice. If it never showed, the refresh test below would prove nothing.
    assert plain_stale >= 1, "the standby never served a stale read; the cluster no longer shows the hazard"


# --- a sealed standby -------------------------------------------------------------------------------


async def _reads_through_balancer(store: CredentialStore, tenant: str, count: int) -> list[float]:
    async def one() -> float:
        started = time.monotonic()
        with deadline_set(started + DEADLINE):
            lease = await store.get(tenant, "crm")
        assert isinstance(lease.credential, ApiKeyCredential)
        return time.monotonic() - started

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def _typed_failure(
    store: CredentialStore, tenant: str, deadline: float | None, *, fresh: bool = False
) -> tuple[BaseException, float]:
    started = time.monotonic()
    with deadline_set(None if deadline is None else started + deadline):
        try:
            await store.get(tenant, "crm", fresh=fresh)
        except Exception as exc:  # noqa: BLE001 - the type is the point, checked by the caller
            return exc, time.monotonic() - started
    raise AssertionError("a read from an unavailable node succeeded")


async def test_a_sealed_standby_is_skipped_through_the_balancer_and_typed_when_read_alone(
    cluster: Cluster, opened: list[CredentialStore]
) -> None:
    sealed = cluster.standby()
    cluster.nodes.seal(sealed)
    try:
        # Through the load balancer: a third of new connections land on the sealed node.
        store = _store(cluster, opened, None, DEADLINE)
        latencies = []
        for _ in range(3):
            latencies += await _reads_through_balancer(store, cluster.tenant, 60)
        retried = store.failover_retries
        # The node alone, as a single-node Vault: sealed, typed, at once or within failover_wait.
        alone = _store(cluster, opened, sealed, 0.0)
        at_once, at_once_took = await _typed_failure(alone, cluster.tenant, DEADLINE)
        fresh, _ = await _typed_failure(alone, cluster.tenant, DEADLINE, fresh=True)
        waiting = _store(cluster, opened, sealed, 1.0)
        waited, waited_took = await _typed_failure(waiting, cluster.tenant, DEADLINE)
        bounded, bounded_took = await _typed_failure(waiting, cluster.tenant, 0.4)
    finally:
        cluster.nodes.unseal_standby(sealed)
    cluster.figures["sealed_standby"] = {
        "reads_through_balancer": len(latencies),
        "worst_s": round(max(latencies), 3),
        "reads_retried": retried,
        "alone_error": type(at_once).__name__,
        "alone_took_s": round(at_once_took, 3),
        "alone_failover_wait_1s_took_s": round(waited_took, 3),
        "alone_deadline_0.4s_took_s": round(bounded_took, 3),
    }
    assert max(latencies) < DEADLINE
    assert retried >= 1, "no read reached the sealed node: the test did not test it"
    for error in (at_once, fresh, waited, bounded):
        assert type(error) is VaultSealedError, repr(error)
        assert cluster.token not in str(error)
    assert at_once_took < NODE_TIMEOUT
    assert 0.5 <= waited_took < 1.0 + SLACK  # retried for failover_wait, no longer
    assert bounded_took < 0.4 + SLACK


# --- a frozen (partitioned) standby -----------------------------------------------------------------


async def test_a_frozen_standby_is_skipped_through_the_balancer_and_times_out_typed_alone(
    cluster: Cluster, opened: list[CredentialStore]
) -> None:
    frozen = cluster.standby()
    cluster.nodes.pause(frozen)
    try:
        store = _store(cluster, opened, None, DEADLINE)
        latencies = []
        for _ in range(2):
            latencies += await _reads_through_balancer(store, cluster.tenant, 60)
        retried = store.failover_retries
        alone = _store(cluster, opened, frozen, 0.0)
        # No deadline: the tenant's own Vault timeout ends it, as for a hung single node.
        timed_out, timed_out_took = await _typed_failure(alone, cluster.tenant, None)
        # A call deadline shorter than that timeout ends it first.
        cut, cut_took = await _typed_failure(alone, cluster.tenant, 0.4, fresh=True)
        waiting = _store(cluster, opened, frozen, 5.0)
        waited, waited_took = await _typed_failure(waiting, cluster.tenant, 1.5)
    finally:
        cluster.nodes.resume(frozen)
    cluster.figures["frozen_standby"] = {
        "reads_through_balancer": len(latencies),
        "worst_s": round(max(latencies), 3),
        "reads_retried": retried,
        "alone_no_deadline_took_s": round(timed_out_took, 3),
        "alone_deadline_0.4s_took_s": round(cut_took, 3),
        "alone_failover_wait_5s_deadline_1.5s_took_s": round(waited_took, 3),
    }
    assert max(latencies) < DEADLINE
    assert retried >= 1, "no read reached the frozen node: the test did not test it"
    for error in (timed_out, cut, waited):
        assert type(error) is VaultTimeoutError, repr(error)
        assert cluster.token not in str(error)
    assert NODE_TIMEOUT - 0.1 <= timed_out_took < NODE_TIMEOUT + SLACK
    assert cut_took < 0.4 + SLACK
    assert waited_took < 1.5 + SLACK
    # The node comes back and serves again.
    settings = cluster.settings(frozen)
    client = VaultClient(settings, token=cluster.token, renew_tokens=False)
    try:
        for _ in range(50):
            try:
                await client.read_secret(credential_path(settings, cluster.tenant, "crm"))
                break
            except VaultUnavailableError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("the resumed node did not serve reads again")
    finally:
        await client.close()


# --- OAuth refreshes across replicas and a failover -------------------------------------------------

REPLICAS = 4
FAMILIES = 3
READERS = 20


@dataclass
class Replica:
    store: CredentialStore
    tokens: OAuthTokenSource
    locks: VaultRefreshLocks


async def test_oauth_refreshes_across_a_failover_spend_no_refresh_token_twice(
    cluster: Cluster, opened: list[CredentialStore]
) -> None:
    vendor = TokenVendor(delay=0.005)
    integrations = [new_id("oauth") for _ in range(FAMILIES)]
    replicas = []
    for _ in range(REPLICAS):
        store = _store(cluster, opened, None, DEADLINE)
        locks = VaultRefreshLocks(store, ttl=10.0, max_clock_skew=1.0, wait=DEADLINE)
        tokens = OAuthTokenSource(store, locks=locks, transport=vendor.transport())
        replicas.append(Replica(store, tokens, locks))
    first: dict[str, str] = {}
    for integration in integrations:
        first[integration] = vendor.new_family()
        await replicas[0].store.put(
            cluster.tenant, integration, refresh_credential(vendor, first[integration]), cas=0
        )
    # Plain reads may come from a standby that has not applied the seeding yet (404): a tenant's
    # consent happens long before its first call, so wait until every node has it.
    for integration in integrations:
        for replica in replicas:
            for _ in range(100):
                try:
                    await replica.store.get(cluster.tenant, integration)
                    break
                except CredentialNotFoundError:
                    await asyncio.sleep(0.05)

    outcomes: list[tuple[float, float, str]] = []  # started, ended, "ok" or the error's type
    stop = asyncio.Event()
    messages: dict[str, str] = {}

    async def refresher(replica: Replica, integration: str) -> None:
        while not stop.is_set():
            started = time.monotonic()
            replica.tokens.forget()  # every call needs a new access token: a refresh each time
            try:
                with deadline_set(started + DEADLINE):
                    lease = await replica.store.get(cluster.tenant, integration)
                    await asyncio.wait_for(replica.tokens.token(lease, ENDPOINT), DEADLINE)
            except NexoraError as exc:
                outcomes.append((started, time.monotonic(), type(exc).__name__))
                messages.setdefault(type(exc).__name__, str(exc)[:300])
                await asyncio.sleep(0.1)
            else:
                outcomes.append((started, time.monotonic(), "ok"))
            await asyncio.sleep(0.01)

    async def reader(replica: Replica, integration: str) -> None:
        while not stop.is_set():
            with deadline_set(time.monotonic() + DEADLINE):
                await replica.store.get(cluster.tenant, integration)
            await asyncio.sleep(0.1)

    tasks = [
        asyncio.create_task(refresher(replica, integration))
        for replica in replicas
        for integration in integrations
    ]
    tasks += [
        asyncio.create_task(reader(replicas[i % REPLICAS], integrations[i % FAMILIES]))
        for i in range(READERS)
    ]
    await asyncio.sleep(3.0)
    active = cluster.nodes.active_port()
    assert active is not None
    reuses_before_kill = vendor.reuses
    killed_at = time.monotonic()
    cluster.nodes.kill(active)
    elected_at: float | None = None
    while time.monotonic() - killed_at < 30:
        await asyncio.sleep(0.25)
        if elected_at is None:
            if await asyncio.to_thread(cluster.nodes.active_port) is not None:
                elected_at = time.monotonic()
        elif time.monotonic() > elected_at + 4.0:
            break
    stop.set()
    await asyncio.gather(*tasks)
    # Every replica refreshes once more: a rotated token a write-back could not save during the
    # election is saved now, and a replica that could not refresh would fail here.
    for replica in replicas:
        for integration in integrations:
            replica.tokens.forget()
            lease = await replica.store.get(cluster.tenant, integration)
            await replica.tokens.token(lease, ENDPOINT)

    assert elected_at is not None, "no new active node was elected"
    kinds = Counter(kind for _, _, kind in outcomes)
    after_kill = [o for o in outcomes if o[1] > killed_at]
    first_ok_after = min((o[1] for o in after_kill if o[2] == "ok" and o[0] > killed_at), default=None)
    stats = [r.tokens.stats for r in replicas]
    figures = {
        "refresh_calls": len(outcomes),
        "outcomes": dict(kinds),
        "vendor_refreshes": vendor.refreshes,
        "refresh_tokens_reused": vendor.reuses,
        "reused_before_kill": reuses_before_kill,
        "refresh_calls_completing_after_kill": len(after_kill),
        "first_refresh_started_after_kill_ok_after_s": (
            round(first_ok_after - killed_at, 2) if first_ok_after else None
        ),
        "election_seen_after_s": round(elected_at - killed_at, 2),
        "write_back_conflicts": sum(s.write_back_conflicts for s in stats),
        "lock_takeovers": sum(r.locks.stats.takeovers for r in replicas),
        "messages": messages,
    }
    cluster.figures["oauth_refresh_across_failover"] = figures
    print(f"\nHA OAuth refresh figures: {json.dumps(figures)}")

    assert vendor.reuses == 0, figures
    assert vendor.refreshes >= 3 * FAMILIES, figures
    failures = {kind for kind in kinds if kind != "ok"}
    # During the election a refresh may fail, typed and retryable; nothing else.
    retryable = {cls.__name__ for cls in (VaultUnavailableError, VaultSealedError, VaultTimeoutError)}
    assert failures <= retryable | {"VaultConflictError"}, figures
    assert first_ok_after is not None, figures
    # Vault holds each family's current refresh token: nothing was lost or forked.
    checker = _store(cluster, opened, None, DEADLINE)
    for integration in integrations:
        assert not vendor.revoked(first[integration])
        credential = (await checker.get(cluster.tenant, integration, fresh=True)).credential
        assert isinstance(credential, OAuth2RefreshCredential)
        assert credential.refresh_token.get_secret_value() == vendor.current(first[integration])
