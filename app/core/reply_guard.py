"""Keeps a reply worth hearing: stops a reply that loops, caps spoken replies, drops "As an AI…" filler.

Small language models at low temperature fall into loops ("The world. The world. The world. …") until the
token cap, which as speech becomes half a minute of the same sentence. The guard looks at each speakable
sentence as the splitter releases it and says whether to keep it, skip it, or end the reply there:

- a sentence that repeats one already said in this reply (after normalising case, punctuation and
  spaces) ends the reply; so does a sentence whose words repeat the same 4-word sequence 3 times (a loop
  inside one endless sentence);
- a spoken reply ends after ``max_sentences`` sentences (voice answers are spoken-length);
- filler sentences ("As an AI language model, I …", "I'm just an AI") are skipped, not spoken.

Pure logic, no engine: the pipeline asks it and stops the LLM itself.
"""

from __future__ import annotations

import re
from collections import Counter
from enum import Enum

_WORD = re.compile(r"[\w']+")
_FILLER = re.compile(
    r"^\s*(as an ai\b|as a language model\b|as an artificial intelligence\b|i'?m (just )?an ai\b|"
    r"i am (just )?an ai\b|i'?m (just )?a language model\b|i am (just )?a language model\b)",
    re.IGNORECASE,
)
#: a reply whose words contain the same n-gram this many times is looping
_NGRAM = 4
_NGRAM_REPEATS = 3


class Verdict(Enum):
    KEEP = "keep"
    SKIP = "skip"  # filler: not spoken, not stored
    STOP = "stop"  # end the reply before this sentence


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class ReplyGuard:
    """One per reply. ``check(sentence)`` for each sentence in order; ``reason`` says why it stopped."""

    def __init__(self, *, max_sentences: int | None = None) -> None:
        self.max_sentences = max_sentences
        self.kept = 0
        self.reason = ""
        self._seen: set[str] = set()

    def check(self, sentence: str) -> Verdict:
        words = _words(sentence)
        if not words:
            return Verdict.KEEP
        if _FILLER.match(sentence):
            return Verdict.SKIP
        key = " ".join(words)
        if key in self._seen:
            self.reason = f"the reply repeated itself: {sentence.strip()!r}"
            return Verdict.STOP
        grams = Counter(tuple(words[i:i + _NGRAM]) for i in range(len(words) - _NGRAM + 1))
        if grams and max(grams.values()) >= _NGRAM_REPEATS:
            self.reason = f"the reply went round in circles at {sentence.strip()!r}"
            return Verdict.STOP
        if self.max_sentences is not None and self.kept >= self.max_sentences:
            self.reason = f"a spoken reply stops after {self.max_sentences} sentences"
            return Verdict.STOP
        self._seen.add(key)
        self.kept += 1
        return Verdict.KEEP
