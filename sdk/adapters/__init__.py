"""Adapters for voice-agent frameworks, each behind its own optional extra.

* :mod:`sdk.adapters.pipecat`: :class:`~sdk.adapters.pipecat.PipecatCall`
  (``pip install 'nexora-connect[pipecat]'``).
* :mod:`sdk.adapters.livekit`: :class:`~sdk.adapters.livekit.LiveKitCall`
  (``pip install 'nexora-connect[livekit]'``).

Importing this package imports neither framework; each submodule imports its
framework only when a call opens, and says which extra to install if it is missing.
"""

__all__: list[str] = []
