"""The frameworks are optional: importing the SDK and its adapter modules imports neither."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_sdk_and_the_adapter_modules_imports_no_framework() -> None:
    code = (
        "import sys, sdk, sdk.adapters, sdk.adapters.pipecat, sdk.adapters.livekit; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pipecat', 'livekit'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
