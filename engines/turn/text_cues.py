"""A transcript that ends on a word nobody ends a sentence with ("the", "of", "and", "to"…) is unfinished.

Smart Turn judges the sound; on synthetic voices it also says "complete" for cuts like "What is the capital
of" (0.96 on Piper's joe, 0.99 on espeak-ng). The transcript catches those for free: combine the two, wait
longer when either says "not finished".
"""

from __future__ import annotations

import re

#: words a spoken English sentence practically never ends on: articles, possessives, conjunctions, "of", "to",
#: fillers. Kept short on purpose: "what is it for", "I can", "turn it on" do end sentences.
DANGLING = frozenset({
    "a", "an", "the", "my", "your", "our", "their", "and", "or", "but", "nor", "because", "if", "than",
    "whether", "of", "to", "into", "onto", "um", "uh", "erm",
})


def sounds_unfinished(transcript: str) -> bool:
    """True when ``transcript`` ends on a dangling word or a comma (then wait longer for the rest)."""
    text = transcript.strip().lower()
    if not text:
        return False
    if text.endswith((",", ";", ":", "-", "…", "...")):
        return True
    if text[-1] in ".?!":
        return False
    words = re.findall(r"[a-z']+", text)
    return bool(words) and words[-1] in DANGLING
