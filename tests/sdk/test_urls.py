"""Base URLs (S3): https or loopback, and no setting spliced into a template can move the request."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdk import ConfigurationError
from sdk._urls import is_loopback_host, require_secure_url

KEY = "tenants.acme.integrations.crm.base_url"
ZENDESK = "https://{subdomain}.zendesk.com"


def secure(url: str, *, allow_plain_http: bool = False, template: str | None = None) -> str:
    return require_secure_url(url, key=KEY, allow_plain_http=allow_plain_http, template=template)


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://api.hubapi.com", "https://api.hubapi.com"),
        ("HTTPS://Acme.Zendesk.COM/", "https://acme.zendesk.com"),
        ("https://api.example.test:443/v2/", "https://api.example.test/v2"),
        ("https://api.example.test:8443/v2", "https://api.example.test:8443/v2"),
        ("https://[2001:db8::1]/api", "https://[2001:db8::1]/api"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.42.0.9:80/x", "http://127.42.0.9/x"),
        ("http://[::1]:9/api/", "http://[::1]:9/api"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://LOCALHOST./", "http://localhost."),
    ],
)
def test_https_and_loopback_http_are_accepted_and_normalised(url: str, normalised: str) -> None:
    assert secure(url) == normalised
    # Normalising is idempotent and keeps what httpx sends to.
    assert secure(normalised) == normalised
    assert httpx.URL(normalised).host == httpx.URL(url).host


@pytest.mark.parametrize(
    "url",
    [
        "http://api.example.test",
        "http://10.0.0.5:8080",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped: not loopback to every stack
        "http://localhost.evil.test",
        "http://127.0.0.1.evil.test",
        "http://0.0.0.0:80",
    ],
)
def test_plain_http_off_loopback_is_refused_naming_the_key_and_the_opt_in(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        secure(url)
    message = str(caught.value)
    assert message.startswith(KEY + ": ")
    assert "tenants.acme.integrations.crm.allow_plain_http = true" in message
    assert "doctor" in message
    # The opt-in lets it through, unchanged apart from normalisation.
    assert secure(url, allow_plain_http=True).startswith("http://")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://user:hunter2-canary@api.example.test", "user name or password"),
        ("https://token-canary@api.example.test", "user name or password"),
        ("https://api.example.test/v2?api_key=canary", "query"),
        ("https://api.example.test/v2?", "query"),
        ("https://api.example.test/#canary", "fragment"),
        ("ftp://api.example.test", "https://"),
        ("file:///etc/passwd", "https://"),
        ("javascript:alert(1)", "https://"),
        ("//api.example.test", "https://"),
        ("https:api.example.test", "https://"),
        ("api.example.test", "https://"),
        ("", "empty"),
        ("https://", "no host"),
        ("https:///v2", "no host"),
        ("https://:443/v2", "no host"),
        ("https://api_example.test", "not a DNS name"),
        ("https://api.example.test%2f@evil", "user name"),
        ("https://evil.test%2fapi.example.test", "not a DNS name"),
        ("https://-bad.example.test", "not a DNS name"),
        ("https://a..b.example.test", "not a DNS name"),
        ("https://[fe80::1%25eth0]/", "IPv6"),
        ("https://[not-ipv6]/", "not a valid URL"),
        ("https://api.example.test:0", "port"),
        ("https://api.example.test:65536", "port"),
        ("https://api.example.test:https", "port"),
        ("https://api.example.test/../admin", "'..'"),
        ("https://api.example.test/v2/%2e%2e/admin", "'..'"),
        ("https://api.example.test/./v2", "'.'"),
        ("https://api.example.test/v2 x", "printable ASCII"),
        ("https://api.example.test\r\nX-Injected: 1", "printable ASCII"),
        ("https://api.example.test\x00", "printable ASCII"),
        ("https://\u0430pi.example.test", "printable ASCII"),  # a Cyrillic a: a confusable host
        ("https://api.example.test\\@evil.test", "backslash"),
        ("https://api.example.test/" + "a" * 3000, "longer than"),
        ("https://api.example.test/v2/%zz", "path"),
        ("https://api.example.test/v2/<script>", "path"),
    ],
)
def test_urls_that_could_carry_or_move_a_key_are_refused(url: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^" + KEY.replace(".", r"\.") + ": ") as caught:
        secure(url, allow_plain_http=True)
    message = str(caught.value)
    assert problem in message
    assert "canary" not in message, "the URL itself is never echoed"
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "subdomain",
    [
        "evil.com/x#",
        "evil.com/",
        "evil.com?",
        "x@evil.com",
        "evil.com:443/",
        "evil.com\\",
        "evil.com%2f",
        "evil.com#",
        "..",
        "",
        " acme",
        "acme\n",
    ],
)
def test_a_hostile_subdomain_setting_cannot_retarget_a_template(subdomain: str) -> None:
    url = ZENDESK.format(subdomain=subdomain)
    with pytest.raises(ConfigurationError):
        secure(url, template=ZENDESK)


def test_template_values_may_be_dns_labels() -> None:
    assert secure("https://acme-eu.zendesk.com", template=ZENDESK) == "https://acme-eu.zendesk.com"
    assert secure("https://acme.eu.zendesk.com", template=ZENDESK) == "https://acme.eu.zendesk.com"
    # A placeholder that is the whole URL (Salesforce's {login_url}) is checked as a URL.
    assert secure("https://test.salesforce.com", template="{login_url}") == "https://test.salesforce.com"
    with pytest.raises(ConfigurationError):
        secure("http://login.example.test", template="{login_url}")


@given(st.text(max_size=40))
def test_no_subdomain_value_reaches_another_host(subdomain: str) -> None:
    """Whatever a tenant types as a subdomain, the request goes to *.zendesk.com or nowhere."""
    url = ZENDESK.format(subdomain=subdomain)
    try:
        checked = secure(url, template=ZENDESK)
    except ConfigurationError:
        return
    parsed = httpx.URL(checked)
    assert parsed.host.endswith(".zendesk.com")
    assert parsed.scheme == "https"
    assert (parsed.userinfo, parsed.query, parsed.fragment) == (b"", b"", "")


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=60))
def test_whatever_is_accepted_has_no_userinfo_query_or_fragment(tail: str) -> None:
    for url in ("https://" + tail, "http://127.0.0.1" + tail):
        try:
            checked = secure(url)
        except ConfigurationError:
            continue
        parsed = httpx.URL(checked)
        assert (parsed.userinfo, parsed.query, parsed.fragment) == (b"", b"", "")
        assert parsed.scheme == "https" or is_loopback_host(parsed.host)
        assert secure(checked) == checked


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.255.255.254", True),
        ("::1", True),
        ("[::1]", True),
        ("128.0.0.1", False),
        ("localhost.localdomain", False),
        ("::2", False),
        ("", False),
    ],
)
def test_loopback_is_127_8_ipv6_one_and_localhost(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_the_opt_in_key_can_be_named() -> None:
    with pytest.raises(ConfigurationError, match=r"set vault\.allow_plain_http = true"):
        require_secure_url("http://vault.internal:8200", key="vault.address", allow_plain_http=False)
    with pytest.raises(ConfigurationError, match=r"set --insecure = true"):
        require_secure_url("http://x.test", key="url", allow_plain_http=False, opt_in="--insecure")
