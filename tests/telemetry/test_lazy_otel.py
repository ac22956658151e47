"""OpenTelemetry loads on first use: importing the SDK costs none of it, and nothing is lost for it.

The metric instruments and the tracer on the global providers used to be made
when their modules were imported. Now the runtime makes them at start-up (or
the first hook that records does); these tests check that importing loads none
of the API, that the first use makes them once, and that None still means
"off" (what the modules hold without the API), as tests that set it rely on.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import sdk._metrics
import sdk._telemetry

_ROOT = Path(__file__).resolve().parents[2]


def _fresh(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        cwd=_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_the_api_loads_with_the_first_use_not_with_the_modules() -> None:
    found = _fresh(
        """
        import json, sys
        import sdk._metrics, sdk._telemetry
        def otel():
            return sorted(name for name in sys.modules if name.startswith("opentelemetry."))
        before = otel()
        metrics, tracer = sdk._metrics.default_metrics(), sdk._telemetry.default_tracer()
        print(json.dumps({
            "before": before, "after": otel(), "made": metrics is not None and tracer is not None,
            "kept": sdk._metrics.default_metrics() is metrics and sdk._telemetry.default_tracer() is tracer,
            "available": sdk._telemetry.OTEL_AVAILABLE,
        }))
        """
    )
    assert found["before"] == []
    after = found["after"]
    assert isinstance(after, list)
    assert "opentelemetry.metrics" in after
    assert "opentelemetry.trace" in after
    assert not any(name.startswith("opentelemetry.sdk") for name in after)
    assert found["made"] is True
    assert found["kept"] is True  # made once: later calls are a global read
    assert found["available"] is True


def test_a_hook_before_anything_made_the_instruments_makes_them_and_records() -> None:
    found = _fresh(
        """
        import json
        from opentelemetry import metrics
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        reader = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        import sdk._metrics
        assert sdk._metrics._default is sdk._metrics._Unmade.UNMADE  # nothing made at import
        sdk._metrics.record_retry("crm", "429")
        text = reader.get_metrics_data().to_json()
        print(json.dumps({"counted": "nexora.http.retries" in text and '"429"' in text}))
        """
    )
    assert found["counted"] is True


def test_unmade_instruments_are_made_once_and_none_still_turns_the_hooks_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # None keeps its old meaning (what the modules hold without the API: off), so a test or an
    # application that sets it silences the hooks; only the "not made yet" marker makes them.
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    fields = {
        "tenant": "acme",
        "integration": "crm",
        "connector": "hubspot",
        "operation": "get_contact",
        "scope": "contacts:read",
        "region": "nz",
    }
    with monkeypatch.context() as patch:
        patch.setattr(sdk._metrics, "_default", sdk._metrics._Unmade.UNMADE)
        patch.setattr(sdk._telemetry, "_default", sdk._telemetry._Unmade.UNMADE)
        made = sdk._metrics.default_metrics()
        tracer = sdk._telemetry.default_tracer()
        assert made is not None
        assert tracer is not None
        assert sdk._metrics.default_metrics() is made  # made once
        assert sdk._telemetry.default_tracer() is tracer
        patch.setattr(sdk._metrics, "_default", sdk._metrics.Metrics(provider))
        sdk._metrics.record_redaction("card")
        patch.setattr(sdk._metrics, "_default", None)
        patch.setattr(sdk._telemetry, "_default", None)
        sdk._metrics.record_redaction("phone")  # off: recorded nowhere
        assert sdk._metrics.default_metrics() is None
        assert sdk._telemetry.default_tracer() is None
        assert sdk._telemetry.start_operation_span(**fields) is None
    text = reader.get_metrics_data().to_json()
    provider.shutdown()
    assert '"card"' in text
    assert '"phone"' not in text


def test_a_missing_opentelemetry_package_reads_as_not_installed() -> None:
    """Without the otel extra there is no ``opentelemetry`` package; looking up a submodule must not raise."""
    from sdk import _telemetry

    assert _telemetry._installed("nexora_no_such_package.trace") is False
    assert _telemetry._installed("json.decoder") is True
