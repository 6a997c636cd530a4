"""Turn whatever a user typed into a safe FTS5 query.

FTS5 has its own query language (quotes, ``AND``/``OR``/``NOT``, ``-``, ``*``, ``:`` and parentheses
mean something), so raw user text can be a syntax error. Each whitespace-separated word becomes a
quoted phrase (quotes inside doubled), words with no letter or digit are dropped, and the last word
matches as a prefix so results appear while the user is still typing.
"""

from __future__ import annotations

import re

_HAS_WORD_CHAR = re.compile(r"[^\W_]")


def fts_words(text: str) -> list[str]:
    """The words of ``text`` that can match anything (those with a letter or a digit), in order."""
    return [w for w in text.split() if _HAS_WORD_CHAR.search(w)]


def fts_phrases(text: str) -> list[str]:
    """One quoted FTS5 phrase per word of ``text`` (the last one a prefix); empty when nothing is searchable."""
    phrases = ['"' + w.replace('"', '""') + '"' for w in fts_words(text)]
    if phrases:
        phrases[-1] += "*"
    return phrases


def fts_query(text: str) -> str | None:
    """The FTS5 MATCH expression for ``text``, or ``None`` when it holds nothing searchable."""
    phrases = fts_phrases(text)
    return " ".join(phrases) if phrases else None
