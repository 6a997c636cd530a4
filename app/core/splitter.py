"""Turns a stream of LLM tokens into speakable pieces.

Sentences end at . ! ? (and newlines); the FIRST piece of a reply is released early at a clause
boundary (comma, semicolon, colon, dash) once it has a few words, so speech starts before the LLM has
finished its first sentence. Abbreviations and decimal numbers do not end sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_ABBREVIATIONS = {
    "a.m", "p.m", "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "approx", "no",
    "fig", "inc", "ltd",
}
_SENTENCE_END = re.compile(r"([.!?…]+)([\"')\]]*)(\s+|$)")
_CLAUSE_END = re.compile(r"([,;:]|\s[-–—])(\s+)")
_MARKUP = re.compile(r"[*_`#]+")


def clean_for_speech(text: str) -> str:
    """Drop Markdown markers and collapse whitespace; what is left is what TTS should read."""
    return " ".join(_MARKUP.sub("", text).split())


class SentenceSplitter:
    def __init__(self, *, first_clause_min_words: int = 4, min_sentence_chars: int = 2) -> None:
        self.first_clause_min_words = first_clause_min_words
        self.min_sentence_chars = min_sentence_chars
        self._buffer = ""
        self._emitted = 0
        self._fed = 0

    @property
    def consumed(self) -> int:
        """Characters of the fed text that are in pieces already released."""
        return self._fed - len(self._buffer)

    def feed(self, token: str) -> Iterator[str]:
        """Add a token; yield every piece that is now complete."""
        self._buffer += token
        self._fed += len(token)
        while True:
            piece = self._take_piece()
            if piece is None:
                return
            yield piece

    def flush(self) -> Iterator[str]:
        """End of the reply: whatever is left is the last piece."""
        rest = clean_for_speech(self._buffer)
        self._buffer = ""
        if len(rest) >= self.min_sentence_chars or (rest and any(c.isalnum() for c in rest)):
            self._emitted += 1
            yield rest

    def _take_piece(self) -> str | None:
        # Paragraph breaks always end a piece.
        newline = self._buffer.find("\n")
        cut = self._sentence_cut()
        if newline != -1 and (cut is None or newline < cut):
            cut = newline + 1
        if cut is None and self._emitted == 0:
            cut = self._clause_cut()
        if cut is None:
            return None
        piece, self._buffer = self._buffer[:cut], self._buffer[cut:]
        piece = clean_for_speech(piece)
        if not piece or not any(c.isalnum() for c in piece):
            return self._take_piece() if self._buffer else None
        self._emitted += 1
        return piece

    def _sentence_cut(self) -> int | None:
        for match in _SENTENCE_END.finditer(self._buffer):
            if match.end() == len(self._buffer) and not match.group(3):
                return None  # might be "3." of "3.5" or "e." of "e.g." still streaming
            before = self._buffer[: match.start()]
            word = before.split()[-1].lower() if before.split() else ""
            if match.group(1) == "." and (word.rstrip(".") in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())):
                continue
            if match.group(1) == "." and word[-1:].isdigit() and self._buffer[match.end() :][:1].isdigit():
                continue
            return match.end()
        return None

    def _clause_cut(self) -> int | None:
        for match in _CLAUSE_END.finditer(self._buffer):
            head = self._buffer[: match.end()]
            if len(head.split()) >= self.first_clause_min_words:
                return match.end()
        return None


def split_text(text: str, **kwargs: int) -> list[str]:
    """Split a whole text the way a streamed reply would be split."""
    splitter = SentenceSplitter(**kwargs)
    pieces = list(splitter.feed(text))
    pieces.extend(splitter.flush())
    return pieces
