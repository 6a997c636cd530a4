"""Long-term memory in a turn: what the model is told about the user, and "remember that ..." requests.

The facts live in the store (``app.store.memory``); this module only decides how the model sees them and
which user messages ask to remember something. Qt-free, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

_REMEMBER = re.compile(
    r"^(?:(?:ok(?:ay)?|hey|hi|so|and|also|please)[\s,!]+)*"
    r"(?:please\s+)?(?:remember|don'?t forget|do not forget|keep in mind|note)"
    r"(?:\s+(?:this|that|for me|for later))*\s*[:,-]?\s+(?P<fact>.+?)[\s.!]*$",
    re.IGNORECASE | re.DOTALL,
)


class MemoryBook(Protocol):
    """What the pipeline needs from the memory store."""

    def texts(self) -> list[str]: ...

    def remember(self, text: str) -> str:
        """Keep a fact the user asked to remember; returns it as kept."""
        ...


def fact_to_remember(text: str) -> str | None:
    """The fact in "Remember that my name is Sam." (-> "my name is Sam"), or None if it asks nothing.

    Only a message that starts by asking is taken ("Do you remember ...?" and questions are not).
    """
    text = text.strip()
    if not text or text.endswith("?"):
        return None
    found = _REMEMBER.match(text)
    if found is None:
        return None
    fact = found.group("fact").strip()
    return fact if len(fact.split()) >= 2 else None


def system_prompt(persona: str, facts: Sequence[str]) -> str:
    """The persona, then what the user told the assistant before (one line per fact)."""
    if not facts:
        return persona
    lines = "\n".join(f"- {fact}" for fact in facts)
    return f"{persona}\n\nThe user told you earlier:\n{lines}"
