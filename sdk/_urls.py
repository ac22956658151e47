"""Vendor base URLs: https only, plain http only to loopback or by an explicit opt-in (S3).

A base URL is where the SDK sends a tenant's API key, so it is checked before a
client is built for it. Besides the scheme, the check refuses anything that lets
a value spliced into a URL template (a ``subdomain`` setting such as
``evil.com/x#`` or ``x@evil.com``) move the request somewhere else: userinfo, a
query, a fragment, a backslash, a host outside the DNS/IP alphabet, ``.`` or
``..`` path segments, and any character that is not printable ASCII (write an
internationalised host in its ``xn--`` form).

Error messages name the configuration key and how to opt in, never the URL
itself: a URL pasted into a config file can carry a password or a token.
"""

from __future__ import annotations

import ipaddress
import re
import string
from urllib.parse import SplitResult, urlsplit

from sdk._errors import ConfigurationError

__all__ = ["insecure_url_problem", "is_loopback_host", "require_secure_url"]

_MAX_URL_CHARS = 2048
_LOOPBACK_NAMES = frozenset({"localhost", "localhost."})

# One DNS label: letters, digits and inner hyphens (RFC 1123), at most 63 characters.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_PORT = re.compile(r"[0-9]{1,5}")
# RFC 3986 path characters: unreserved, sub-delims, ':' '@' '/', and percent-escapes.
_PATH = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*")
_DOT_SEGMENTS = frozenset({".", "..", "%2e", "%2e%2e", ".%2e", "%2e."})
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
_PLAIN_HTTP = (
    "uses plain http to a host that is not loopback (127.0.0.0/8, ::1, localhost); "
    "the API key would cross the network unencrypted: use https"
)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1`` (brackets optional); no name is resolved."""
    host = host.lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def _host_problem(host: str) -> str | None:
    if not host:
        return "has no host"
    if host.startswith("["):
        try:
            if not host.endswith("]") or "%" in host:  # a zone id ("%25eth0") names a local interface
                raise ValueError(host)
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return "has a host in brackets that is not an IPv6 address"
        return None
    if len(host) > 253 or not _DNS_NAME.fullmatch(host):
        return "has a host that is not a DNS name or an IP address (letters, digits, '-' and '.' only)"
    return None


def _split(url: str) -> tuple[SplitResult | None, str | None]:
    """Split ``url`` or say what makes it unusable as a base URL."""
    if not url:
        return None, "is empty"
    if len(url) > _MAX_URL_CHARS:
        return None, f"is longer than {_MAX_URL_CHARS} characters"
    if not _PRINTABLE_ASCII.fullmatch(url):
        return None, "must be printable ASCII without spaces (write an international host as xn--...)"
    if "\\" in url:
        return None, "must not contain a backslash"
    if "?" in url:
        return None, "must not have a query string"
    if "#" in url:
        return None, "must not have a fragment ('#')"
    try:
        parts = urlsplit(url)
    except ValueError:
        return None, "is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not url[len(scheme) :].startswith("://"):
        return None, "must start with https:// (or http:// to loopback)"
    if "@" in parts.netloc:
        return None, "must not carry a user name or password ('user@host'); keys belong in Vault"
    return parts, None


def _normalise(parts: SplitResult) -> tuple[str | None, str]:
    """The URL rebuilt from checked parts, or what is wrong with it."""
    scheme = parts.scheme.lower()
    netloc = parts.netloc.lower()
    host, port = netloc, ""
    if netloc.startswith("["):
        end = netloc.find("]")
        if end != -1 and netloc[end + 1 :].startswith(":"):
            host, port = netloc[: end + 1], netloc[end + 2 :]
    elif ":" in netloc:
        host, _, port = netloc.partition(":")
    problem = _host_problem(host)
    if problem is not None:
        return problem, ""
    if port and not (_PORT.fullmatch(port) and 0 < int(port) < 65536):
        return "has a port that is not a number from 1 to 65535", ""
    if port and int(port) == {"http": 80, "https": 443}[scheme]:
        port = ""
    path = parts.path
    if not _PATH.fullmatch(path):
        return "has a path with characters a URL path cannot hold", ""
    if any(segment.lower() in _DOT_SEGMENTS for segment in path.split("/")):
        return "has a '.' or '..' segment in its path", ""
    authority = f"{host}:{int(port)}" if port else host
    return None, f"{scheme}://{authority}{path.rstrip('/')}"


def insecure_url_problem(url: str, *, allow_plain_http: bool, opt_in: str) -> tuple[str | None, str]:
    """``(problem, normalised)``: ``problem`` is None when ``url`` may be used as a base URL.

    ``problem`` completes the sentence "the URL ..." and, for plain http, names ``opt_in``.
    For callers that phrase the error themselves (configuration validators); everyone
    else calls :func:`require_secure_url`.
    """
    parts, problem = _split(url)
    if parts is None:
        return problem, ""
    problem, normalised = _normalise(parts)
    if problem is not None:
        return problem, ""
    if parts.scheme.lower() == "http" and not allow_plain_http and not is_loopback_host(parts.hostname or ""):
        return f"{_PLAIN_HTTP}, or set {opt_in} = true to send over plain http anyway (doctor reports it)", ""
    return None, normalised


# What one placeholder of a URL template may stand for: dot-separated DNS labels, nothing else.
_TEMPLATE_VALUE = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"


def _template_pattern(template: str) -> re.Pattern[str]:
    """A pattern the filled ``template`` must match: each placeholder stands for DNS labels only.

    A placeholder that opens the template (Salesforce's ``{login_url}``) is a whole URL
    of its own and is checked as one.
    """
    pattern: list[str] = []
    for literal, field, _spec, _conversion in string.Formatter().parse(template):
        pattern.append(re.escape(literal))
        if field is not None:
            pattern.append(".*" if not "".join(pattern) else _TEMPLATE_VALUE)
    return re.compile("".join(pattern), re.IGNORECASE | re.DOTALL)


def require_secure_url(
    url: str, *, key: str, allow_plain_http: bool, template: str | None = None, opt_in: str | None = None
) -> str:
    """Return ``url`` normalised, or raise :class:`~sdk.ConfigurationError` naming ``key``.

    ``key`` is the configuration key the user set (``tenants.acme.integrations.crm.base_url``).
    ``template``, when ``url`` was filled from a connector's ``base_url`` template, makes
    sure every placeholder was filled with DNS labels only: a ``subdomain`` of
    ``evil.com/`` would otherwise turn ``https://{subdomain}.zendesk.com`` into a
    well-formed URL to another host. ``opt_in`` is the key that allows plain http; by
    default the sibling ``allow_plain_http`` of ``key``. The normalised URL has a
    lower-case scheme and host, no default port and no trailing slash.
    """
    parent, dot, _ = key.rpartition(".")
    problem, normalised = insecure_url_problem(
        url, allow_plain_http=allow_plain_http, opt_in=opt_in or f"{parent}{dot}allow_plain_http"
    )
    if problem is None and template is not None and not _template_pattern(template).fullmatch(url):
        problem = "does not fit the connector's URL template: a setting holds characters a host name cannot"
    if problem is not None:
        raise ConfigurationError(f"{key}: the URL {problem}")
    return normalised
