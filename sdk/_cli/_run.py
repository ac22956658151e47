"""Running a command to the end, or stopping it cleanly on Ctrl-C and SIGTERM.

A process manager stops a command with SIGTERM; a person with Ctrl-C. Either
way, any conversation the command opened is wiped *first*, synchronously in
the signal handler, before anything else gets a chance to run or fail (S5),
and then the command's task is cancelled so that every ``async with`` closes
what it opened (HTTP clients, Vault clients, the audit sink). The command
then exits with 130.

Key writes are the exception: stopping a rotation between "written" and
"verified" would leave an unverified key current. Those commands defer the
signal until their Vault writes are done (a second signal aborts anyway).

``mcp`` and ``audit tail`` only need :func:`sigterm_interrupts`, and ``mcp``
is declared together with its command: so asyncio and the runtime are
imported when a command first needs them, never for ``--help``.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from sdk._cli._base import EXIT_INTERRUPTED, print_note

if TYPE_CHECKING:
    import asyncio

    from sdk._runtime import NexoraConnect

__all__ = ["Interrupts", "run_async", "runtime_options", "sigterm_interrupts"]


def runtime_options() -> dict[str, Any]:
    """Extra keyword arguments for every :class:`~sdk.NexoraConnect` the CLI builds.

    A private test hook: tests replace this function to give the runtime a
    respx transport (``{"transport": httpx.MockTransport(router.async_handler)}``)
    because ``NexoraConnect.from_config`` otherwise opens real connections. The
    CLI itself adds nothing: operators always get the network, Vault and audit
    sink their configuration names.
    """
    return {}


class Interrupts:
    """What a running command registers so that a signal can clean up after it."""

    def __init__(self, task: asyncio.Task[Any], *, defer: bool) -> None:
        self._task = task
        self._defer = defer
        self.runtimes: list[NexoraConnect] = []
        self.received: str | None = None
        self.aborted = False

    def watch(self, runtime: NexoraConnect) -> NexoraConnect:
        """Wipe ``runtime``'s conversations the moment a signal arrives."""
        self.runtimes.append(runtime)
        return runtime

    def signal(self, name: str) -> None:
        first = self.received is None
        self.received = self.received or name
        for runtime in self.runtimes:
            runtime.wipe_all(f"{name} received")
        if self._defer and first:
            print_note(
                f"{name} received: finishing the Vault writes in progress so that the key is left in a known "
                "state; send it again to abort at once"
            )
            return
        if self._defer:
            self.aborted = True
        self._task.cancel()


def run_async(body: Callable[[Interrupts], Awaitable[int]], *, defer: bool = False) -> int:
    """Run ``body`` in a new event loop; return its exit code, or 130 if a signal stopped it.

    With ``defer``, the first Ctrl-C or SIGTERM only takes note (``body`` runs
    to its end and its exit code stands); the second cancels it.
    """
    import asyncio

    async def main() -> int:
        task = asyncio.current_task()
        assert task is not None
        interrupts = Interrupts(task, defer=defer)
        restore = _handle_signals(asyncio.get_running_loop(), interrupts, defer=defer)
        try:
            return await body(interrupts)
        except asyncio.CancelledError:
            if interrupts.received is None:
                raise
            if interrupts.aborted:
                print_note(
                    "aborted during a key operation: check the state with 'keys versions' and 'keys verify'"
                )
            return EXIT_INTERRUPTED
        finally:
            restore()

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:  # Ctrl-C where the loop could not take the signal itself
        return EXIT_INTERRUPTED


def _handle_signals(
    loop: asyncio.AbstractEventLoop, interrupts: Interrupts, *, defer: bool
) -> Callable[[], None]:
    """Route SIGTERM (and, with ``defer``, SIGINT) to ``interrupts``; return what undoes that.

    Without ``defer``, Ctrl-C keeps asyncio's own handling (it cancels the
    main task); it is routed here too so that conversations are wiped first.
    Signal handlers can only be set from the main thread of a Unix process;
    elsewhere (tests calling ``main`` from a thread) signals keep their meaning.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    installed: list[tuple[signal.Signals, Any]] = []
    for signum, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
        previous = signal.getsignal(signum)
        try:
            loop.add_signal_handler(signum, interrupts.signal, name)
        except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover - not Unix
            continue
        installed.append((signum, previous))

    def restore() -> None:
        for signum, previous in installed:
            loop.remove_signal_handler(signum)
            # Put back exactly what was there (asyncio.run's own Ctrl-C handler, a host's SIGTERM handler).
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)

    return restore


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Make SIGTERM behave like Ctrl-C (``KeyboardInterrupt``) while the block runs.

    For commands that run no event loop of their own (``audit tail --follow``)
    or that run one we cannot reach (``mcp``: asyncio then cancels the server's
    task, whose ``finally`` hangs the conversation up).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.asynccontextmanager
async def open_runtime(config: str, interrupts: Interrupts) -> AsyncIterator[NexoraConnect]:
    """``NexoraConnect.from_config(config)``, watched so that a signal wipes its conversations."""
    from sdk._runtime import NexoraConnect

    async with NexoraConnect.from_config(config, **runtime_options()) as runtime:
        yield interrupts.watch(runtime)
