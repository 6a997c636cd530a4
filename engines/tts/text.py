"""Text helpers shared by the TTS adapters: sentence splitting (one audio chunk per sentence)."""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "no", "approx", "inc", "ltd"}
)
# end punctuation (with closing quotes/brackets), then whitespace
_BOUNDARY = re.compile(r"([.!?…]+[\"'”’)\]]*)\s+")


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences, keeping their punctuation; whitespace-only text gives ``[]``.

    A full stop after a common abbreviation ("Dr.", "e.g.") or between digits ("3.5") does not end a
    sentence. Line breaks inside a sentence are folded into spaces.
    """
    text = " ".join(text.split())
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end(1)
        candidate = text[start:end]
        last_word = candidate.rsplit(" ", 1)[-1].rstrip(".!?…\"'”’)]").lower()
        if match.group(1).startswith(".") and last_word in _ABBREVIATIONS:
            continue
        sentences.append(candidate.strip())
        start = match.end()
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return [s for s in sentences if s]
