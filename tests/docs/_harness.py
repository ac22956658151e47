"""What a runnable documentation example runs inside (see ``tests/docs/README.md``).

* ``plain``: a fresh temporary working directory and nothing else.
* ``openbao``: the session's real OpenBao dev server, seen through a fresh namespace of its own,
  so a page can enable engines and auth methods exactly as on a new Vault. The shell gets
  ``BAO_ADDR``, ``BAO_TOKEN`` (root, in the namespace), ``BAO_NAMESPACE`` and a canary
  ``HUBSPOT_TOKEN``; ``bao`` and ``nexora-connect`` are on ``PATH``.
* ``sandboxes``: the above, plus HubSpot-, Zendesk- and Stripe-shaped sandbox APIs on loopback
  (``sdk.demo``), seeded with the demo caller (Aroha Parata, ``+64 21 555 0100``). The page's
  first ``docs: config`` block is written to ``nexora.toml`` with three things changed: the
  Vault address and namespace, the token source (``NEXORA_VAULT_TOKEN``), and each
  integration's ``base_url`` (its connector's sandbox). Every integration's key is in Vault,
  accepted by its sandbox; ``NEXORA_VAULT_TOKEN`` holds a token with the tenant's write policy
  from ``vault.tenant_policy_hcl``; ``new-key.txt`` holds a second CRM key the CRM sandbox
  accepts and ``bad-key.txt`` one it rejects.
"""

from __future__ import annotations

import ast
import asyncio
import code
import concurrent.futures
import contextlib
import inspect
import os
import secrets
import subprocess
import sys
import threading
import tomllib
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hvac
from pydantic import SecretStr

from sdk.demo import HubSpotSandbox, SandboxServer, StripeSandbox, ZendeskSandbox
from sdk.testing import make_canary
from tests.docs._blocks import Block, Page
from vault import (
    ApiKeyCredential,
    BasicCredential,
    Credential,
    OpenBaoDevServer,
    VaultSettings,
    credential_path,
    credential_to_secret_data,
    find_bao_binary,
    tenant_policy_hcl,
)

HARNESSES = ("plain", "openbao", "sandboxes")
ZENDESK_AGENT = "voice-agent@acme.example"
SHELL_TIMEOUT = 60.0


@dataclass
class Workspace:
    """The directory and environment one page's examples run in."""

    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    """Variables set for Python blocks (in this process) and shell blocks (in theirs)."""
    namespace: dict[str, Any] = field(default_factory=lambda: {"__name__": "__docs__"})
    """Python blocks of one page share it, in page order."""


def tool_path() -> str:
    """``PATH`` with this interpreter's scripts (``nexora-connect``) and ``bao`` first."""
    dirs = [str(Path(sys.executable).parent), str(Path(find_bao_binary()).parent)]
    return os.pathsep.join([*dict.fromkeys(dirs), os.environ.get("PATH", "")])


# --- running blocks -----------------------------------------------------------------------------


async def run_python(block: Block, workspace: Workspace) -> None:
    """Run a Python block as the asyncio REPL would: top-level ``await`` and ``async with`` allowed.

    The code is padded so that a traceback names the block's own line in the Markdown page.
    """
    source = "\n" * (block.line - 1) + block.code
    code = compile(source, block.where.split(":")[0], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, workspace.namespace)  # noqa: S307 - the repository's own documentation
    if inspect.iscoroutine(result):
        await result


class PastedRepl(code.InteractiveConsole):
    """``python -m asyncio`` with the page's Python blocks pasted into it, line by line.

    What the asyncio REPL does (``asyncio/__main__.py``): an event loop of its own runs in the
    main thread while the console reads lines in another; each complete statement is compiled
    in ``single`` mode with ``PyCF_ALLOW_TOP_LEVEL_AWAIT`` and, when it is a coroutine, run as a
    task on that loop. Pasting feeds the lines one at a time, so a blank line ends an indented
    block and a statement right after one is a syntax error, as in the real REPL of Python
    3.11 and 3.12. The first error stops the paste and is kept for the test to report.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__({"__name__": "__main__", "asyncio": asyncio}, filename="<stdin>")
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self.loop = loop
        self.error: BaseException | None = None

    def runcode(self, code: types.CodeType) -> None:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def callback() -> None:
            try:
                result = types.FunctionType(code, self.locals)()
            except BaseException as exc:  # noqa: BLE001 - handed to the console thread, as the REPL does
                future.set_exception(exc)
                return
            if not inspect.iscoroutine(result):
                future.set_result(result)
                return
            task = self.loop.create_task(result)

            def settle(done: asyncio.Task[Any]) -> None:
                error = done.exception()
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(done.result())

            task.add_done_callback(settle)

        self.loop.call_soon_threadsafe(callback)
        try:
            future.result()
        except BaseException as exc:  # noqa: BLE001 - the REPL prints it; the test reports it
            self.error = exc

    def showsyntaxerror(self, filename: str | None = None, **kwargs: Any) -> None:
        self.error = sys.exc_info()[1]

    def showtraceback(self) -> None:
        self.error = sys.exc_info()[1]

    def paste(self, block: Block) -> None:
        """Type the block in as a paste would; raise AssertionError naming the failing line."""
        more = False
        for number, line in enumerate([*block.code.splitlines(), ""], start=block.line):
            more = self.push(line)
            if self.error is not None:
                error, self.error = self.error, None
                raise AssertionError(
                    f"docs/{block.page}:{number}: pasted into `python -m asyncio`, this line fails: "
                    f"{type(error).__name__}: {error}"
                ) from error
        assert not more, f"{block.where}: the block ends inside an unfinished statement"


def in_asyncio_repl(session: Callable[[PastedRepl], None]) -> None:
    """Run ``session`` (pastes and shell steps) as the asyncio REPL would: a fresh loop, a console thread."""
    loop = asyncio.new_event_loop()
    console = PastedRepl(loop)
    failure: list[BaseException] = []

    def interact() -> None:
        try:
            session(console)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failure.append(exc)
        finally:
            loop.call_soon_threadsafe(loop.stop)

    thread = threading.Thread(target=interact, name="docs-asyncio-repl", daemon=True)
    thread.start()
    try:
        loop.run_forever()
        thread.join()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
    if failure:
        raise failure[0]


def run_shell(block: Block, workspace: Workspace) -> subprocess.CompletedProcess[str]:
    """Run a shell block with ``bash -euo pipefail`` in the workspace; fail with its output."""
    env = {**os.environ, "HOME": str(workspace.cwd), "PATH": tool_path(), **workspace.env}
    env.pop("VAULT_TOKEN", None)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.code],
        cwd=workspace.cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=SHELL_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"{block.where}: the shell block exited {done.returncode}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done


# --- openbao ------------------------------------------------------------------------------------


def _root(server: OpenBaoDevServer, namespace: str | None = None) -> Any:
    client = hvac.Client(url=server.address, token=server.root_token, namespace=namespace, timeout=10)
    client.session.trust_env = False
    return client


@contextlib.contextmanager
def openbao(server: OpenBaoDevServer, workspace: Workspace) -> Iterator[str]:
    """A fresh namespace on the session's server; yields its name."""
    namespace = f"docs-{secrets.token_hex(4)}"
    root = _root(server)
    try:
        root.sys.create_namespace(path=namespace)
    finally:
        root.adapter.close()
    workspace.env.update(
        BAO_ADDR=server.address,
        BAO_TOKEN=server.root_token,
        BAO_NAMESPACE=namespace,
        HUBSPOT_TOKEN=make_canary("hubspot-token"),
    )
    yield namespace


# --- sandboxes ----------------------------------------------------------------------------------


def _sandbox_for(connector: str) -> SandboxServer:
    if connector == "hubspot":
        return HubSpotSandbox()
    if connector == "zendesk":
        return ZendeskSandbox(agent_email=ZENDESK_AGENT)
    if connector == "stripe":
        return StripeSandbox()
    raise AssertionError(f"the sandboxes harness has no sandbox for connector {connector!r}")


def _credential(connector: str, key: str) -> Credential:
    if connector == "zendesk":
        return BasicCredential(username=f"{ZENDESK_AGENT}/token", password=SecretStr(key))
    return ApiKeyCredential(api_key=SecretStr(key))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


_INLINE_TABLES = frozenset({"settings", "auth"})


def dump_toml(data: dict[str, Any], prefix: str = "") -> str:
    """Enough of a TOML writer for configurations: tables, scalars, arrays and inline tables."""

    def inline(key: str, value: Any) -> bool:
        return not isinstance(value, dict) or key in _INLINE_TABLES or not value

    scalars = [(key, value) for key, value in data.items() if inline(key, value)]
    tables = [(key, value) for key, value in data.items() if not inline(key, value)]
    text = f"\n[{prefix}]\n" if prefix and (scalars or not tables) else ""
    text += "".join(f"{key} = {_toml_value(value)}\n" for key, value in scalars)
    for key, value in tables:
        text += dump_toml(value, f"{prefix}.{key}" if prefix else key)
    return text


def page_config(page: Page) -> dict[str, Any]:
    found = [block for block in page.blocks if block.marker == "config"]
    if not found:
        raise AssertionError(f"docs/{page.path} uses the sandboxes harness but has no `docs: config` block")
    return tomllib.loads(found[0].code)


@contextlib.contextmanager
def sandboxes(server: OpenBaoDevServer, workspace: Workspace, page: Page) -> Iterator[None]:
    config = page_config(page)
    with contextlib.ExitStack() as stack:
        namespace = stack.enter_context(openbao(server, workspace))
        vault = config.setdefault("vault", {})
        mount = vault.get("mount", "secret")
        vault.update(
            address=server.address,
            namespace=namespace,
            auth={"method": "token", "token_env": "NEXORA_VAULT_TOKEN"},
        )
        settings = VaultSettings.model_validate(vault)
        audit = config.get("audit")
        if audit is not None and audit.get("sink") == "jsonl":
            audit.pop("path", None)
            audit["locations"] = {
                region: str(workspace.cwd / "audit" / region) for region in audit["locations"]
            }
        root = _root(server, namespace)
        stack.callback(root.adapter.close)
        root.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
        tenants = config.get("tenants", {})
        crm_keys: list[tuple[SandboxServer, str]] = []
        for tenant, tenant_config in tenants.items():
            tenant_config.pop("vault", None)
            for integration, integration_config in tenant_config.get("integrations", {}).items():
                connector = integration_config["connector"]
                sandbox = stack.enter_context(_sandbox_for(connector))
                integration_config["base_url"] = sandbox.base_url
                key = secrets.token_urlsafe(24)
                sandbox.accept_keys(key)
                data = _credential(connector, key)
                root.secrets.kv.v2.create_or_update_secret(
                    path=credential_path(settings, tenant, integration),
                    secret=credential_to_secret_data(data),
                    mount_point=mount,
                )
                if connector == "hubspot":
                    crm_keys.append((sandbox, key))
            policy = f"nexora-{tenant}"
            root.sys.create_or_update_policy(
                name=policy, policy=tenant_policy_hcl(tenant, settings, write=True)
            )
        first_tenant = next(iter(tenants))
        token = root.auth.token.create(policies=[f"nexora-{first_tenant}"], ttl="15m")["auth"]["client_token"]
        workspace.env["NEXORA_VAULT_TOKEN"] = token
        if crm_keys:
            sandbox, _ = crm_keys[0]
            new_key = secrets.token_urlsafe(24)
            sandbox.accept_keys(new_key)
            (workspace.cwd / "new-key.txt").write_text(new_key + "\n")
            (workspace.cwd / "bad-key.txt").write_text(secrets.token_urlsafe(24) + "\n")
        text = dump_toml(config)
        assert tomllib.loads(text) == config, "dump_toml lost something of the configuration"
        (workspace.cwd / "nexora.toml").write_text(text)
        yield


async def drain_loop() -> None:
    """Let callbacks scheduled by the examples (timers of closed conversations) run."""
    await asyncio.sleep(0)
