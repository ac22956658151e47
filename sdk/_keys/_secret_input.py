"""Reading a secret for ``keys put``/``rotate``: at a hidden prompt or from a pipe, never from argv.

Secrets never come from command-line arguments, which every user of the
machine can read (``ps``) and shells keep in their history. The input is
checked for the mistakes that make a vendor answer with a baffling 401
(blank input, surrounding whitespace, control or invisible characters), and
no error message ever repeats it.
"""

from __future__ import annotations

import sys
from typing import TextIO

from pydantic import SecretStr

from sdk._errors import InvalidArgumentsError

__all__ = ["MAX_SECRET_CHARS", "read_secret_from"]

MAX_SECRET_CHARS = 16 * 1024
"""The longest secret accepted (room for a PEM private key)."""
_READ_LIMIT = MAX_SECRET_CHARS + 3  # the secret, a line ending, and one more to tell "too long"


def read_secret_from(
    stream: TextIO,
    *,
    prompt: str = "Secret (input hidden): ",
    prompt_to: TextIO | None = None,
    multiline: bool = False,
) -> SecretStr:
    """Read one secret from ``stream``: typed at a hidden prompt if it is a terminal, else piped in.

    Secrets never come from command-line arguments, which every user of the
    machine can read (``ps``) and shells keep in their history. At a terminal,
    echo is turned off while the line is typed (the prompt goes to
    ``prompt_to``, standard error by default, so standard output stays clean
    for ``--json``). From a pipe or file, all of the input is the secret, less
    one trailing line ending. Raises :class:`~sdk.InvalidArgumentsError` for
    empty or blank input, surrounding whitespace and control or invisible
    characters (a pasted key with a stray newline fails at the vendor with a
    baffling 401); ``multiline`` allows inner line breaks, for PEM keys.
    Error messages never repeat the input.
    """
    if _is_terminal(stream):
        text = _read_hidden(stream, prompt, prompt_to if prompt_to is not None else sys.stderr, multiline)
    else:
        text = stream.read(_READ_LIMIT)
    return _checked_secret(text, multiline=multiline)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or fileno-less stream is not a terminal
        return False


def _read_hidden(stream: TextIO, prompt: str, prompt_to: TextIO, multiline: bool) -> str:
    if sys.platform == "win32":  # pragma: no cover - termios is POSIX; getpass uses msvcrt there
        import getpass

        return getpass.getpass(prompt, stream=prompt_to)
    import termios

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    hidden = list(saved)
    hidden[3] &= ~(termios.ECHO | termios.ECHONL)
    prompt_to.write(prompt)
    prompt_to.flush()
    # TCSAFLUSH, as getpass does: anything typed before the prompt appeared is
    # discarded rather than taken (and shown) as part of the secret.
    termios.tcsetattr(fd, termios.TCSAFLUSH, hidden)
    try:
        text = stream.read(_READ_LIMIT) if multiline else stream.readline(_READ_LIMIT)
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, saved)
        prompt_to.write("\n")  # the Enter the user typed was not echoed either
        prompt_to.flush()
    return text


def _checked_secret(text: str, *, multiline: bool) -> SecretStr:
    too_long = InvalidArgumentsError(
        f"the secret is longer than {MAX_SECRET_CHARS} characters; is it the right input?"
    )
    if len(text) >= _READ_LIMIT:
        raise too_long
    if multiline:
        text = text.replace("\r\n", "\n").rstrip("\n")
    elif text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if len(text) > MAX_SECRET_CHARS:
        raise too_long
    if not text or text.isspace():
        raise InvalidArgumentsError(
            "no secret was given: the input was empty or blank; pipe the secret to standard input "
            "or type it at the prompt (never pass it as an argument)"
        )
    if text != text.strip():
        raise InvalidArgumentsError(
            "the secret starts or ends with whitespace, which the vendor would reject; give it without "
            "surrounding spaces or blank lines"
        )
    allowed = "\n" if multiline else ""
    if any(char not in allowed and not char.isprintable() for char in text):
        what = (
            "a control or invisible character"
            if multiline
            else "a line break, control or invisible character"
        )
        raise InvalidArgumentsError(
            f"the secret contains {what} (such as a tab, an escape or a zero-width space); "
            "give it exactly as the vendor issued it"
        )
    return SecretStr(text)
