"""Reading a secret for ``keys put``/``rotate``: hidden at a terminal, checked, never repeated back.

The terminal tests use a real pseudo-terminal: whatever the line discipline would
echo to the user's screen comes back on the pty's master side, where we look for it.
"""

from __future__ import annotations

import io
import os
import select
import sys
import threading

import pytest
from pydantic import SecretStr

from sdk import InvalidArgumentsError
from sdk._keys import MAX_SECRET_CHARS, build_credential, credential_from_json, read_secret_from
from sdk.testing import make_canary
from vault import ApiKeyCredential, BasicCredential, OAuth2RefreshCredential

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


def test_piped_secret_loses_one_line_ending_and_nothing_else() -> None:
    key = make_canary("key")
    assert read_secret_from(io.StringIO(key + "\n")).get_secret_value() == key
    assert read_secret_from(io.StringIO(key + "\r\n")).get_secret_value() == key
    assert read_secret_from(io.StringIO(key)).get_secret_value() == key


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("", "empty or blank"),
        ("\n", "empty or blank"),
        ("   \t \n", "empty or blank"),
        ("{key} ", "whitespace"),
        (" {key}", "whitespace"),
        ("{key}\n\n", "whitespace"),
        ("{key}\nsecond-line", "line break"),
        ("{key}\tmore", "control or invisible"),
        ("{key}\x1b[2J", "control or invisible"),
        ("{key}\u200bmore", "control or invisible"),
    ],
)
def test_bad_input_is_refused_without_being_repeated(given: str, complaint: str) -> None:
    key = make_canary("key")
    with pytest.raises(InvalidArgumentsError, match=complaint) as caught:
        read_secret_from(io.StringIO(given.format(key=key)))
    assert key not in str(caught.value)


def test_an_oversized_input_is_refused() -> None:
    with pytest.raises(InvalidArgumentsError, match="longer than"):
        read_secret_from(io.StringIO("k" * (MAX_SECRET_CHARS + 1)))
    assert (
        len(read_secret_from(io.StringIO("k" * MAX_SECRET_CHARS + "\n")).get_secret_value())
        == MAX_SECRET_CHARS
    )


def test_multiline_secrets_keep_their_inner_lines() -> None:
    body = make_canary("pem")
    pem = f"-----BEGIN PRIVATE KEY-----\r\n{body}\r\n-----END PRIVATE KEY-----\r\n"
    secret = read_secret_from(io.StringIO(pem), multiline=True).get_secret_value()
    assert secret == f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----"
    with pytest.raises(InvalidArgumentsError, match="control"):
        read_secret_from(io.StringIO(f"a\n{body}\tb"), multiline=True)


def test_the_secret_object_does_not_show_its_value() -> None:
    key = make_canary("key")
    secret = read_secret_from(io.StringIO(key))
    assert key not in repr(secret)
    assert key not in str(secret)


class _Terminal:
    """A pseudo-terminal: the CLI reads ``slave``; the ``master`` side shows what the user would see."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        self.slave = open(slave, encoding="utf-8", closefd=True)  # noqa: SIM115 - closed in close()

    def echo_enabled(self) -> bool:
        import termios

        return bool(termios.tcgetattr(self.slave.fileno())[3] & termios.ECHO)

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def screen(self) -> str:
        """Everything the terminal has output (echoed) so far."""
        chunks = b""
        while select.select([self.master], [], [], 0.2)[0]:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks += chunk
        return chunks.decode(errors="replace")

    def close(self) -> None:
        self.slave.close()
        os.close(self.master)


@posix_only
def test_control_a_terminal_with_echo_shows_what_is_typed() -> None:
    """The check below can fail: with echo on, the typed key does appear on the screen."""
    terminal = _Terminal()
    try:
        key = make_canary("key")
        assert terminal.echo_enabled()
        terminal.type(key + "\n")
        assert terminal.slave.readline().rstrip("\n") == key
        assert key in terminal.screen()
    finally:
        terminal.close()


@posix_only
def test_at_a_terminal_the_secret_is_typed_without_echo() -> None:
    terminal = _Terminal()
    prompt = io.StringIO()
    result: list[SecretStr | BaseException] = []

    def read() -> None:
        try:
            result.append(read_secret_from(terminal.slave, prompt="Key: ", prompt_to=prompt))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            result.append(exc)

    reader = threading.Thread(target=read)
    try:
        key = make_canary("key")
        reader.start()
        for _ in range(200):  # wait (up to ~2 s) until the reader has turned echo off
            if not terminal.echo_enabled():
                break
            threading.Event().wait(0.01)
        assert not terminal.echo_enabled()
        terminal.type(key + "\n")
        reader.join(timeout=5)
        [secret] = result
        assert isinstance(secret, SecretStr)
        assert secret.get_secret_value() == key
        assert key not in terminal.screen()  # nothing echoed, not even partly
        assert prompt.getvalue() == "Key: \n"  # the prompt, and the newline the user did not see echoed
        assert terminal.echo_enabled()  # the terminal is left as it was found
    finally:
        reader.join(timeout=5)
        terminal.close()


# --- building the credential ---------------------------------------------------------------------


def test_build_credential_puts_the_secret_in_the_secret_field() -> None:
    key, password = make_canary("key"), make_canary("pw")
    api = build_credential("api_key", SecretStr(key))
    assert isinstance(api, ApiKeyCredential)
    assert api.api_key.get_secret_value() == key
    basic = build_credential("basic", SecretStr(password), username="ops")
    assert isinstance(basic, BasicCredential)
    assert basic.password.get_secret_value() == password
    with pytest.raises(InvalidArgumentsError, match="username") as caught:
        build_credential("basic", SecretStr(password))
    assert password not in str(caught.value)
    with pytest.raises(InvalidArgumentsError, match="JSON"):
        build_credential("oauth2_refresh", SecretStr(key))
    with pytest.raises(InvalidArgumentsError, match="read from the input"):
        build_credential("api_key", SecretStr(key), api_key="from-an-option")


def test_credential_from_json_reads_a_whole_credential_and_never_repeats_it() -> None:
    refresh, client_secret = make_canary("rt"), make_canary("cs")
    document = (
        f'{{"type": "oauth2_refresh", "client_id": "app", "client_secret": "{client_secret}", '
        f'"refresh_token": "{refresh}"}}'
    )
    credential = credential_from_json(SecretStr(document))
    assert isinstance(credential, OAuth2RefreshCredential)
    assert credential.refresh_token.get_secret_value() == refresh
    for broken in (
        document[:-5],
        f'{{"type": "oauth2_refresh", "refresh_token": "{refresh}"}}',
        f'["{refresh}"]',
    ):
        with pytest.raises(InvalidArgumentsError) as caught:
            credential_from_json(SecretStr(broken))
        assert refresh not in str(caught.value)
        assert client_secret not in str(caught.value)
