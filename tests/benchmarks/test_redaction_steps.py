"""Benchmark: redaction now against the engine of a git revision, in the same run.

Run with ``pytest -m benchmark tests/benchmarks/test_redaction_steps.py -s``
(``REDACTION_BASELINE_REV=<rev>`` to compare with another revision than ``HEAD``).
The baseline is ``sdk/_redaction`` as of that revision, read with ``git show``
into a temporary package, so both engines run on the same texts, interleaved,
on the same (shared, noisy) machine; the load average is printed with them.

Text classes, 2 KB each (50 texts per class, built from the corpus of
``test_redaction_vs_presidio``):

* prose: sentences without a digit;
* tickets: three sentences in five carry an order, ticket, invoice or tracking
  number, a date, a time or an amount; no identifier;
* mix: the Presidio comparison's corpus texts (identifiers among ordinary numbers);
* dense: every sentence carries an identifier, valid or of the same shape with
  its check failing;
* context: the 35 short strings a full customer context renders (names, ids,
  E.164 numbers, emails, subjects), redacted one by one and with ``redact_many``.

Per class and engine, a round is one pass over its texts timed in thread CPU
time (``time.thread_time_ns``: a process waiting for a core is not charged);
the table gives the median and the minimum over the rounds, per text. Before
timing, the test checks that both engines redact every text identically.
"""

from __future__ import annotations

import importlib
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sdk._redaction import IdentifierType, RedactionAction, RedactionPolicy, redact, redact_many
from tests.benchmarks import test_redaction_vs_presidio as corpus

pytestmark = pytest.mark.benchmark

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 15
PER_CLASS = 50
SEED = 20240516
MASK_ALL = RedactionPolicy(identifiers=dict.fromkeys(IdentifierType, RedactionAction.MASK))
# What a rendered customer context hands the engine: short fields, a few with numbers.
CONTEXT_STRINGS = [
    "35438", "35437", "35439", "35436", "9100001", "1274001", "Fibre 300", "Aroha Test", "Aroha Ngata",
    "+6495550123", "+6495550199", "CONSTRUCTION", "+64215550100", "A1B2C3D4-0004", "A1B2C3D4-0002",
    "A1B2C3D4-0001", "A1B2C3D4-0003", "in_T3stPaid000004", "in_T3stUncoll0005", "in_T3stOpen000002",
    "sub_T3stExpired03", "sub_T3stTrial0004", "in_T3stDraft00003", "Kiwi Plumbing Ltd", "Change of address",
    "sub_T3stCalls0002", "sub_T3stFibre0001", "aroha@example.test", "in_T3stOverdue0001",
    "Fibre 300, Static IP", "Invoice copy requested", "aroha.ngata@example.co.nz",
    "kiwi-plumbing.example.co.nz", "Router keeps dropping the connection",
    "Since Tuesday the router drops the connection every hour.",
]  # fmt: skip


def _fill(rng: random.Random, sentence: Callable[[], str | None]) -> str:
    pieces: list[str] = []
    while len(" ".join(pieces)) < corpus.TEXT_SIZE:
        made = sentence()
        if made is not None:
            pieces.append(made)
    return " ".join(pieces)[: corpus.TEXT_SIZE]


def _identifier_sentence(rng: random.Random) -> str | None:
    kind = rng.choice(list(IdentifierType))
    made = corpus.valid_identifier(kind, rng) if rng.random() < 0.7 else corpus.invalid_identifier(kind, rng)
    return None if made is None else " ".join(made)


def _ticket_sentence(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return rng.choice(corpus.PROSE)
    return f"About {corpus.ORDERS[rng.randrange(len(corpus.ORDERS))](rng)}, nothing has changed."


def text_classes() -> dict[str, list[str]]:
    rng = random.Random(SEED)
    return {
        "prose": [_fill(rng, lambda: rng.choice(corpus.PROSE)) for _ in range(PER_CLASS)],
        "tickets": [_fill(rng, lambda: _ticket_sentence(rng)) for _ in range(PER_CLASS)],
        "mix": [document.text for document in corpus.corpus()[:PER_CLASS]],
        "dense": [_fill(rng, lambda: _identifier_sentence(rng)) for _ in range(PER_CLASS)],
    }


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """``sdk/_redaction`` as of ``REDACTION_BASELINE_REV`` (default HEAD), importable on its own."""
    rev = os.environ.get("REDACTION_BASELINE_REV", "HEAD")
    folder = tmp_path_factory.mktemp("baseline") / "redaction_baseline"
    folder.mkdir()
    try:
        names = subprocess.run(
            ["git", "-C", str(ROOT), "ls-tree", "--name-only", rev, "sdk/_redaction/"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        for name in names:
            if not name.endswith(".py"):
                continue
            source = subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{rev}:{name}"], check=True, capture_output=True, text=True
            ).stdout
            (folder / Path(name).name).write_text(
                re.sub(r"\bsdk\._redaction\b", "redaction_baseline", source)
            )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot read sdk/_redaction at {rev} from git: {exc}")
    sys.path.insert(0, str(folder.parent))
    try:
        yield importlib.import_module("redaction_baseline")
    finally:
        sys.path.remove(str(folder.parent))
        for module in [name for name in sys.modules if name.startswith("redaction_baseline")]:
            del sys.modules[module]


def _per_text_us(run: Callable[[], Any], count: int) -> float:
    began = time.thread_time_ns()
    run()
    return (time.thread_time_ns() - began) / count / 1000


def test_redaction_steps_against_the_baseline(baseline: ModuleType) -> None:
    classes = text_classes()
    old: Callable[..., str] = baseline.redact
    for texts in classes.values():
        for text in texts:
            for policy in (None, MASK_ALL):
                assert redact(text, policy) == old(text, policy), "the engines disagree on a text"
    assert redact_many(CONTEXT_STRINGS) == [old(text) for text in CONTEXT_STRINGS]

    jobs: dict[str, tuple[int, Callable[[], Any], Callable[[], Any]]] = {}
    for name, texts in classes.items():
        jobs[name] = (
            len(texts),
            lambda texts=texts: [old(text) for text in texts],
            lambda texts=texts: [redact(text) for text in texts],
        )
    jobs["context, one by one"] = (
        1,
        lambda: [old(text) for text in CONTEXT_STRINGS],
        lambda: [redact(text) for text in CONTEXT_STRINGS],
    )
    jobs["context, redact_many"] = (
        1,
        lambda: [old(text) for text in CONTEXT_STRINGS],
        lambda: redact_many(CONTEXT_STRINGS),
    )
    load_before = os.getloadavg()
    samples: dict[tuple[str, str], list[float]] = {
        (name, which): [] for name in jobs for which in ("old", "new")
    }
    for _, run_old, run_new in jobs.values():  # warm both: phone metadata loads on first use
        run_old()
        run_new()
    for round_ in range(ROUNDS):
        for name, (count, run_old, run_new) in jobs.items():
            order = (
                (("old", run_old), ("new", run_new)) if round_ % 2 else (("new", run_new), ("old", run_old))
            )
            for which, run in order:
                samples[(name, which)].append(_per_text_us(run, count))
    load_after = os.getloadavg()

    lines = [
        f"\nredaction, baseline {os.environ.get('REDACTION_BASELINE_REV', 'HEAD')} against the working tree, "
        f"{ROUNDS} interleaved rounds, thread CPU time per 2 KB text (context: per rendering)",
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f}",
        f"{'class':22} {'old median':>11} {'new median':>11} {'old min':>9} {'new min':>9} {'speed-up':>9}",
    ]
    for name in jobs:
        old_samples, new_samples = samples[(name, "old")], samples[(name, "new")]
        old_median, new_median = statistics.median(old_samples), statistics.median(new_samples)
        lines.append(
            f"{name:22} {old_median:9.1f}us {new_median:9.1f}us {min(old_samples):7.1f}us "
            f"{min(new_samples):7.1f}us {old_median / new_median:8.2f}x"
        )
    print("\n".join(lines))
    assert all(values for values in samples.values())
