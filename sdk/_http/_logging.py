"""Keep ids and queries out of httpx's request log lines.

httpx logs every request URL at INFO. Vendor search APIs carry the caller's
phone number or email in the query (Stripe ``query=phone:'+64...'``) and
record ids sit in paths, so a service that turns on INFO logging would write
customer data to its logs. The filter is installed on httpx's logger when the
HTTP layer is imported.
"""

from __future__ import annotations

import logging

import httpx

from sdk._http._running import running_call

__all__ = ["install_log_filter"]


class _StripQueryFilter(logging.Filter):
    """Log a URL as its origin and the running operation's declared path template; method and status stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            method = record.args[0] if isinstance(record.args[0], str) else ""
            record.args = tuple(
                _loggable_url(method, arg) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


def _loggable_url(method: str, url: httpx.URL) -> str:
    ctx = running_call()
    raw = url.raw_path.decode("ascii", "replace").partition("?")[0]
    shown = "/(path not shown)"
    if ctx is not None:
        relative = raw[len(ctx.base_path) :] if raw.startswith(ctx.base_path) else raw
        found = ctx.operation.matching_endpoint(method.upper(), relative)
        if found is not None:
            shown = ctx.base_path + found.template
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}{shown}"


def install_log_filter() -> None:
    """Put the filter on httpx's logger, once however often this is called."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _StripQueryFilter) for f in logger.filters):
        logger.addFilter(_StripQueryFilter())
