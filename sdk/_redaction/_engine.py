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
    candidates = scan(view, regions, strict)
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
    findings = _find(view, policy.phone_regions, policy.strict)
    if not findings:
        return text
    return _replace(text, view, findings, policy)


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
    unique = list(dict.fromkeys(originals))
    views = [fold(text) for text in unique]
    findings = _find(_BATCH_SEPARATOR.join(views), policy.phone_regions, policy.strict)
    done: dict[str, str] = {}
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
