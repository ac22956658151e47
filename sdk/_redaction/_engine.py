"""Find identifiers, settle overlaps, and write the policy's replacement text.

Overlaps are settled greedily: the surest candidate (see the score table in
``_scoring``) takes its span, then the longest, then the earliest; anything
overlapping a taken span is dropped. So a span is reported once, as one type:
an ``800360...`` number that is both an IHI and Luhn-valid is an IHI, an IBAN
swallows the digit groups inside it (and an IBAN-shaped string with wrong
check digits swallows them too, then is dropped itself), and an email address
keeps the digits in its local part.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Final

from sdk._redaction._detectors import scan
from sdk._redaction._fold import fold
from sdk._redaction._phones import DEFAULT_NATIONAL_REGIONS
from sdk._redaction._scoring import Candidate
from sdk._redaction._types import (
    DEFAULT_ACTIONS,
    Finding,
    IdentifierType,
    RedactionAction,
    RedactionPolicy,
)

__all__ = ["find_identifiers", "mask", "redact", "redact_many"]

_ORDER: Final = {kind: index for index, kind in enumerate(IdentifierType)}
_MASKED: Final = {kind: f"[redacted {kind.label}]" for kind in IdentifierType}
_ASCII_NOT_ALNUM: Final = str.maketrans(
    dict.fromkeys(chr(code) for code in range(128) if not chr(code).isalnum())
)
_DEFAULT_POLICY: Final = RedactionPolicy()
_MIN_LAST4_SOURCE: Final = 8
# Between the texts of a batch: a line break ends a sentence unless a colon stands before
# it, and the second one always does; neither joins a digit chain, an email address or
# a lettered identifier to its neighbour. So each text reads as if it stood alone.
_BATCH_SEPARATOR: Final = "\n\n"


def find_identifiers(
    text: str,
    *,
    phone_regions: tuple[str, ...] = DEFAULT_NATIONAL_REGIONS,
    strict: frozenset[IdentifierType] = frozenset(),
) -> list[Finding]:
    """Return the identifiers in ``text``, in order, without overlaps.

    ``phone_regions`` are the countries whose national (trunk-0) phone format
    is recognised; international ``+CC`` numbers are recognised for every
    country regardless. ``strict`` lists the types taken without context
    words, as if every sentence named them (:attr:`RedactionPolicy.strict`).
    Offsets are into ``text`` as given, whatever Unicode it is written in.
    """
    return [Finding(kept.kind, kept.start, kept.end) for kept in _find(fold(text), phone_regions, strict)]


def _find(view: str, regions: tuple[str, ...], strict: frozenset[IdentifierType]) -> list[Candidate]:
    """The findings in ``view``, a text already folded to what the detectors read, in order.

    As candidates: :func:`redact` needs only their kinds and spans, and a
    :class:`Finding` apiece would cost as much again as settling them.
    """
    return _settle(scan(view, regions, strict)[0])


def _settle(candidates: list[Candidate]) -> list[Candidate]:
    """The candidates that keep their spans, in order (see the module's docstring)."""
    if not candidates:
        return []
    candidates.sort(key=_rank)
    # A run that needs its neighbours claimed by other findings competes at its own
    # rank once they are. Claims are read from a settlement without such runs, then
    # again with the runs admitted so far, since one may claim another's neighbour
    # ("098-743-545-772 104 318 021 123 4567"); each round admits at least one more.
    admitted: set[Candidate] = set()
    waiting = [candidate for candidate in candidates if candidate.neighbours]
    while True:
        claims = _Claims()
        claim = claims.claim
        for candidate in candidates:
            if not candidate.neighbours or candidate in admitted:
                claim(candidate)
        if not waiting:
            break
        newly = {c for c in waiting if c not in admitted and claims.neighbours_claimed(c)}
        if not newly:
            break
        admitted |= newly
    return [kept for kept in claims.taken if not kept.void]


class _Claims:
    """Spans taken so far, kept sorted so that an overlap test is a binary search.

    (A linear scan made a 100 KB text of 14,000 email addresses take seconds.)
    """

    __slots__ = ("_starts", "taken")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self.taken: list[Candidate] = []

    def overlapping(self, start: int, end: int) -> list[Candidate]:
        index = bisect_left(self._starts, end)
        found = []
        while index > 0 and self.taken[index - 1].end > start:
            index -= 1
            found.append(self.taken[index])
        return found

    def claim(self, candidate: Candidate) -> None:
        start = candidate.start
        starts, taken = self._starts, self.taken
        # Taken spans do not overlap, so their ends are in order too: the one starting
        # last before ``candidate`` ends is the only one that can reach into it.
        index = bisect_left(starts, candidate.end)
        if index and taken[index - 1].end > start:
            return
        index = bisect_left(starts, start, 0, index)
        starts.insert(index, start)
        taken.insert(index, candidate)

    def neighbours_claimed(self, candidate: Candidate) -> bool:
        """Each neighbour group lies in a finding that leaves ``candidate`` itself alone."""
        return all(
            any(
                kept.end <= candidate.start or kept.start >= candidate.end
                for kept in self.overlapping(start, end)
            )
            for start, end in candidate.neighbours
        )


def _rank(candidate: Candidate) -> tuple[int, int, int, int]:
    return (-candidate.score, candidate.start - candidate.end, candidate.start, _ORDER[candidate.kind])


def redact(text: str, policy: RedactionPolicy | None = None) -> str:
    """Return ``text`` with every identifier replaced as ``policy`` says (the defaults if None).

    The text around each identifier is kept as it was. The result is stable:
    redacting it again changes nothing.
    """
    policy = policy or _DEFAULT_POLICY
    view = fold(text)
    actions = policy.identifiers
    kept = _kept(actions)
    if _SHORTCUTS and (kept[0] or "@" not in view) and _MAY_HOLD.search(view) is None:
        return text  # nothing but email addresses, and those kept
    candidates, put_off = scan(view, policy.phone_regions, policy.strict, *kept)
    if put_off is not None:
        if not _masks_any(candidates, actions):
            return text
        candidates = put_off.finish(candidates, _kept_kinds(actions))
    findings = _settle(candidates)
    if not findings:
        return text
    return _replace(text, view, findings, policy)


# A switch for tests: off, every text is scanned in full (``tests/redaction/test_shortcuts.py``
# holds the output the same either way).
_SHORTCUTS: bool = True
_KEEP: Final = RedactionAction.KEEP
_EMAIL: Final = IdentifierType.EMAIL
_PHONE: Final = IdentifierType.PHONE
# What any identifier but an email address needs (so a field without it and without an "@", or
# whose email addresses are kept, is written as it was). Digits of one chain (``_digits``) have
# at most ")", a separator and "(" between two, so: eight characters of a chain from a digit
# (every digit identifier has eight digits or more); seven from a "0", "+" or "(" (a phone number
# of seven to nine digits is dialed only after a trunk 0, "+" or an area code in brackets:
# ``_phones``); or a digit after two or three letters standing as a word, with one space or dash
# between at most (``_lettered``: the lookbehind of a letter pair, cheap, rules most digits out).
_LETTERS_BEFORE: Final = "|".join(
    f"(?<={letters}{gap}\\d)(?<![A-Za-z0-9_]{letters}{gap}\\d)"
    for letters in ("[A-Za-z]{2}", "[A-Za-z]{3}")
    for gap in ("", "[ -]")
)
# Each branch starts at a digit, so that the regex engine skips ahead to digits ("+" and "("
# are looked behind: a "+" or "(" before a digit starts seven characters with it).
_MAY_HOLD: Final = re.compile(
    r"\d(?:[\d .()-]{7}|(?<=0)[\d .()-]{6}|(?<=[+(]\d)[\d .()-]{5}"
    rf"|(?<=[A-Za-z][A-Za-z -]\d)(?:{_LETTERS_BEFORE}))",
    re.ASCII,
)


def _kept(actions: dict[IdentifierType, RedactionAction]) -> tuple[bool, bool]:
    """Whether a scan under a policy with ``actions`` may put off email addresses, phone numbers.

    A kept email address or phone number changes the output only by shielding
    its characters from another candidate (or by being the neighbour a weakly
    grouped run needs claimed): with no candidate of a type the policy writes
    over, the text is written as it was, whatever those two would have found.
    So when the policy keeps them they are looked for only in a text holding
    such a candidate, and then exactly as before.
    """
    if not _SHORTCUTS:
        return False, False
    return (
        (actions.get(_EMAIL) or DEFAULT_ACTIONS[_EMAIL]) is _KEEP,
        (actions.get(_PHONE) or DEFAULT_ACTIONS[_PHONE]) is _KEEP,
    )


def _kept_kinds(actions: dict[IdentifierType, RedactionAction]) -> frozenset[IdentifierType]:
    """The types the policy keeps: only groups of candidates with another type are settled."""
    return frozenset(kind for kind in IdentifierType if (actions.get(kind) or DEFAULT_ACTIONS[kind]) is _KEEP)


def _masks_any(candidates: list[Candidate], actions: dict[IdentifierType, RedactionAction]) -> bool:
    """Whether any of ``candidates`` is of a type the policy does not keep."""
    return any((actions.get(found.kind) or DEFAULT_ACTIONS[found.kind]) is not _KEEP for found in candidates)


RedactionObserver = Callable[[IdentifierType], None]
_observers: list[RedactionObserver] = []


def observe_redactions(observer: RedactionObserver) -> None:
    """Call ``observer`` with the type of every identifier masked from now on (for metrics).

    The foundation cannot import the telemetry above it, so telemetry registers
    itself here; an observer sees a type, never a value or a position.
    """
    if observer not in _observers:
        _observers.append(observer)


def _replace(text: str, view: str, findings: list[Candidate], policy: RedactionPolicy) -> str:
    """``text`` with each of ``findings`` (offsets into it and into ``view``, its folded self) replaced."""
    pieces: list[str] = []
    cursor = 0
    actions = policy.identifiers
    for finding in findings:
        kind = finding.kind
        action = actions.get(kind) or DEFAULT_ACTIONS[kind]
        if action is RedactionAction.KEEP:
            continue
        for observer in _observers:
            observer(kind)
        pieces.append(text[cursor : finding.start])
        if action is RedactionAction.MASK:
            pieces.append(_MASKED[kind])
        else:  # The folded value, so that "last4" shows ASCII digits for full-width ones.
            pieces.append(mask(view[finding.start : finding.end], kind, action))
        cursor = finding.end
    if cursor == 0:
        return text
    pieces.append(text[cursor:])
    return "".join(pieces)


def redact_many(texts: Iterable[str], policy: RedactionPolicy | None = None) -> list[str]:
    """Return each of ``texts`` redacted as :func:`redact` would, in one pass over all of them.

    For a renderer with many short strings (names, ids, subjects, note bodies):
    one scan of the texts joined by a separator no identifier, sentence or
    context word crosses costs a fraction of one scan per string, and a value
    repeated across records (a caller's phone number) is validated once. Equal
    texts are redacted once. The result is exactly ``[redact(t, policy) for t in texts]``.
    """
    policy = policy or _DEFAULT_POLICY
    originals = list(texts)
    actions = policy.identifiers
    kept = _kept(actions)
    done: dict[str, str] = {}
    unique: list[str] = []  # the texts that may hold an identifier, and their folded selves
    views: list[str] = []
    for text in dict.fromkeys(originals):
        view = fold(text)
        if _SHORTCUTS and (kept[0] or "@" not in view) and _MAY_HOLD.search(view) is None:
            done[text] = text  # as in ``redact``
        else:
            unique.append(text)
            views.append(view)
    if not views:
        return originals
    candidates, put_off = scan(_BATCH_SEPARATOR.join(views), policy.phone_regions, policy.strict, *kept)
    if put_off is not None:  # as in ``redact``; nothing crosses from one text to the next
        masks = _masks_any(candidates, actions)
        candidates = put_off.finish(candidates, _kept_kinds(actions)) if masks else []
    findings = _settle(candidates)
    at = 0  # where the current text starts in the joined view
    index = 0  # the first finding not yet given to a text
    for text, view in zip(unique, views, strict=True):
        end = at + len(view)
        mine: list[Candidate] = []
        while index < len(findings) and findings[index].start < end:
            found = findings[index]
            mine.append(Candidate(found.kind, found.start - at, found.end - at, found.score))
            index += 1
        done[text] = _replace(text, view, mine, policy) if mine else text
        at = end + len(_BATCH_SEPARATOR)
    return [done[text] for text in originals]


def mask(value: str, kind: IdentifierType, action: RedactionAction | None = None) -> str:
    """Return the text a language model sees for ``value``, an identifier of type ``kind``.

    For structured fields that hold one identifier. ``action`` defaults to the
    default policy's action for ``kind``. ``LAST4`` keeps the last four letters
    or digits only when the value has at least eight, so it never reveals
    half of a short identifier; a card always has twelve or more.
    """
    action = action or DEFAULT_ACTIONS[kind]
    if action is RedactionAction.KEEP:
        return value
    if action is RedactionAction.LAST4:
        # An ASCII value (nearly all) loses what is not a letter or digit in one translation.
        tail = value.translate(_ASCII_NOT_ALNUM) if value.isascii() else "".join(filter(str.isalnum, value))
        if len(tail) >= _MIN_LAST4_SOURCE:
            return f"[{kind.label} ending {tail[-4:]}]"
    return _MASKED[kind]
