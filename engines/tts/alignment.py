"""Piper phoneme alignments -> :class:`PhonemeTiming` lists the avatar can use.

Piper reports ``(phoneme, n_samples)`` for every phoneme it spoke, including the begin/end markers
(``^``/``$``), word spaces, punctuation, and stress/length marks, which get their own (short)
durations. Here:

- pauses (``^``, ``$``, spaces, punctuation) become :data:`PAUSE` (a single space), with neighbouring
  pauses merged into one;
- a stress mark (``ˈ`` ``ˌ``) is merged into the phoneme that FOLLOWS it (it starts earlier);
- a length mark (``ː`` ``ˑ``), tie bar or other modifier letter/diacritic is merged into the phoneme
  BEFORE it (it lasts longer);
- marks disappear from the symbols, so the avatar looks up plain IPA letters;
- entries of zero duration are dropped.

The timings are contiguous and cover the chunk from 0 to the sum of the sample counts.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from engines.base import PhonemeTiming

#: the symbol used for silence / pauses between words and sentences
PAUSE = " "
STRESS_MARKS = frozenset({"ˈ", "ˌ"})
_PAUSE_SYMBOLS = frozenset({"^", "$", "_", " "})


def _is_pause(symbol: str) -> bool:
    return symbol in _PAUSE_SYMBOLS or all(unicodedata.category(ch).startswith(("P", "Z")) for ch in symbol)


def _is_trailing_mark(symbol: str) -> bool:
    """Length marks, tie bars, diacritics: they belong to the phoneme before them."""
    return symbol not in STRESS_MARKS and all(unicodedata.category(ch) in ("Lm", "Mn", "Sk") for ch in symbol)


@dataclass(slots=True)
class _Span:
    symbol: str
    start: int  # samples
    end: int


def alignments_to_timings(
    alignments: Iterable[tuple[str, int]], sample_rate: int
) -> tuple[PhonemeTiming, ...]:
    """Merge Piper ``(phoneme, n_samples)`` pairs into contiguous PhonemeTimings (seconds)."""
    spans: list[_Span] = []
    pending: int | None = None  # start of marks waiting for the next phoneme
    cursor = 0
    for symbol, n_samples in alignments:
        start, end = cursor, cursor + int(n_samples)
        cursor = end
        last = spans[-1] if spans else None
        if symbol in STRESS_MARKS:
            pending = start if pending is None else pending
        elif _is_pause(symbol):
            if pending is not None and last is not None:  # marks before a pause go back to the previous span
                last.end = start
                pending = None
            if last is not None and last.symbol == PAUSE:
                last.end = end
            else:
                spans.append(_Span(PAUSE, start if pending is None else pending, end))
                pending = None
        elif _is_trailing_mark(symbol):
            if last is not None and last.symbol != PAUSE and pending is None:
                last.end = end
            else:  # nothing to attach to before it: it goes to the next phoneme
                pending = start if pending is None else pending
        else:
            spans.append(_Span(symbol, start if pending is None else pending, end))
            pending = None
    if pending is not None:
        if spans:
            spans[-1].end = cursor
        else:
            spans.append(_Span(PAUSE, pending, cursor))
    rate = float(sample_rate)
    return tuple(
        PhonemeTiming(phoneme=span.symbol, start=span.start / rate, duration=(span.end - span.start) / rate)
        for span in spans
        if span.end > span.start
    )
