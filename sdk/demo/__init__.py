"""The Nexora Connect demo: one whole phone call on this machine, and the sandboxes it runs against.

``nexora-connect demo`` calls :func:`run_demo`. The sandbox vendor APIs are
public too, for tests that want HubSpot-, Zendesk- or Stripe-shaped servers on
real loopback HTTP.
"""

from sdk.demo._hubspot import HubSpotSandbox
from sdk.demo._sandbox import RecordedRequest, SandboxServer
from sdk.demo._scenario import DemoError, run_demo
from sdk.demo._stripe import StripeSandbox
from sdk.demo._zendesk import ZendeskSandbox

__all__ = [
    "run_demo",
    "DemoError",
    "SandboxServer",
    "RecordedRequest",
    "HubSpotSandbox",
    "ZendeskSandbox",
    "StripeSandbox",
]
