"""A new author's whole path, outside this repository's environment (issue 16, "CI does exactly
that in a fresh venv: build, install the wheel, scaffold, install the connector, run its tests").

1. ``python3 dev.py build`` with ``NEXORA_VENV`` pointing at a new folder: the sdist, then the
   wheel from the unpacked sdist, exactly as on a machine that has never seen the project.
2. ``python -m venv`` + ``pip install 'nexora_connect-*.whl[scaffold]'``: nothing of this checkout
   is importable there (the test checks the installed ``sdk`` lives in the new venv).
3. ``nexora-connect new-connector`` from that venv's own script: the template the *wheel* ships,
   whatever ``connector_templates/`` holds when the test runs.
4. ``pip install -e 'DEST[test]'``, then the rendered tests with that venv's pytest, from the
   connector's folder, as the tutorial (docs/writing-a-connector.md, "Scaffold") says.

Everything comes from PyPI (pip's cache makes repeated runs fast); the test skips, saying so,
only when the package index cannot be reached. Marked ``fresh_venv`` (runs by default).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.fresh_venv

REPO = Path(__file__).resolve().parents[2]
STEP_TIMEOUT = 300.0
NAME = "acme_crm"


def _index_url() -> str:
    configured = os.environ.get("PIP_INDEX_URL")
    if configured:
        return configured
    found = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
        capture_output=True,
        text=True,
        check=False,
    )
    value = found.stdout.strip()
    return value if found.returncode == 0 and value else "https://pypi.org/simple"


def _index_reachable(url: str) -> str | None:
    """None when the index answers; otherwise why not (without the URL's credentials, if any)."""
    if not url.startswith(("https://", "http://")):
        return None  # a local index is reachable by definition
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/pip/", timeout=10) as response:  # noqa: S310
            response.read(1)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"{type(exc).__name__}: {reason}"
    return None


def _env(home: Path) -> dict[str, str]:
    """This process's environment minus everything tying a subprocess to this checkout's venv."""
    dropped = ("PYTEST_", "PYTHONPATH", "VIRTUAL_ENV", "NEXORA_", "PYTHONHOME", "COV_CORE")
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != bin_dir)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["HOME"] = str(home)
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    return env


def _run(
    args: list[str | Path], *, cwd: Path, env: dict[str, str], timings: dict[str, float], step: str
) -> str:
    started = time.perf_counter()
    done = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    timings[step] = time.perf_counter() - started
    assert done.returncode == 0, (
        f"{step}: {' '.join(str(a) for a in args)} exited {done.returncode}\n"
        f"--- stdout (tail)\n{done.stdout[-6000:]}\n--- stderr (tail)\n{done.stderr[-6000:]}"
    )
    return done.stdout


def test_build_install_scaffold_and_test_a_connector_in_a_fresh_venv(tmp_path: Path) -> None:
    reason = _index_reachable(_index_url())
    if reason is not None:
        pytest.skip(f"the package index is unreachable ({reason}): a fresh venv cannot be installed")
    env = _env(tmp_path)
    timings: dict[str, float] = {}
    dist, build_venv, user_venv = tmp_path / "dist", tmp_path / "build-venv", tmp_path / "venv"

    # 1. dev.py build, on a venv of its own (as on a new machine: the task installs only `build`).
    _run(
        [sys.executable, REPO / "dev.py", "build", "--outdir", dist],
        cwd=REPO,
        env={**env, "NEXORA_VENV": str(build_venv)},
        timings=timings,
        step="dev.py build",
    )
    wheels = sorted(dist.glob("nexora_connect-*-py3-none-any.whl"))
    sdists = sorted(dist.glob("nexora_connect-*.tar.gz"))
    assert len(wheels) == 1, f"dev.py build left {[p.name for p in dist.iterdir()]} in its outdir"
    assert len(sdists) == 1, f"dev.py build left {[p.name for p in dist.iterdir()]} in its outdir"

    # 2. A fresh venv with the wheel (and the scaffold extra) from PyPI, nothing from this checkout.
    _run([sys.executable, "-m", "venv", user_venv], cwd=tmp_path, env=env, timings=timings, step="venv")
    py, scripts = user_venv / "bin" / "python", user_venv / "bin"
    pip: list[str | Path] = [py, "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    _run([*pip, f"{wheels[0]}[scaffold]"], cwd=tmp_path, env=env, timings=timings, step="install wheel")
    where = _run(
        [py, "-c", "import sdk, sys; print(sdk.__file__)"],
        cwd=tmp_path,
        env=env,
        timings=timings,
        step="where",
    ).strip()
    assert Path(where).is_relative_to(user_venv), f"the fresh venv imported sdk from {where}, not the wheel"
    assert not Path(where).is_relative_to(REPO), "the fresh venv reached into the checkout"

    # 3. Scaffold with the installed command: the template inside the wheel.
    dest = tmp_path / "acme-crm"
    _run(
        [scripts / "nexora-connect", "new-connector", NAME, "--category", "crm", "--dest", dest],
        cwd=tmp_path,
        env=env,
        timings=timings,
        step="new-connector",
    )
    assert (dest / "pyproject.toml").is_file(), f"new-connector wrote no package in {dest}"

    # 4. Install the connector against the installed SDK (pip must not fetch another nexora-connect).
    _run([*pip, "-e", f"{dest}[test]"], cwd=dest, env=env, timings=timings, step="install connector")
    listed = _run(
        [py, "-m", "pip", "list", "--format=freeze"], cwd=dest, env=env, timings=timings, step="pip list"
    )
    assert "nexora-connect==" + wheels[0].name.split("-")[1] in listed.splitlines(), listed
    connectors = _run(
        [scripts / "nexora-connect", "connectors", "list"],
        cwd=dest,
        env=env,
        timings=timings,
        step="connectors list",
    )
    assert NAME in connectors, f"`nexora-connect connectors list` does not show {NAME}:\n{connectors}"

    report = _run(
        [py, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=dest,
        env=env,
        timings=timings,
        step="connector tests",
    )
    summary = report.strip().splitlines()[-1]
    assert " passed" in summary, f"the rendered connector's tests: {summary}"
    assert "skipped" not in summary, f"the rendered connector's tests skipped some: {summary}"
    print(
        "fresh venv authoring run: "
        + ", ".join(f"{step} {seconds:.1f}s" for step, seconds in timings.items())
        + f"; {summary}"
    )
