"""When has the user finished speaking? The hang-over decision, from the end-of-turn model and the words.

A fixed silence rule cuts people off at their first pause to think ("And so my fellow Americans, …") or
makes everyone wait through a long one. Instead, when silence begins (``VADSettings.pause_ms``) the pipeline
asks the end-of-turn model (Smart Turn v3.2: how the audio of the sentence ends) for the probability that
the turn is complete, and, once the speculative transcript is there, looks at the last words:

- complete (probability ≥ 0.7) and the words do not dangle: a short wait (``complete_silence_ms``);
- unsure (0.3–0.7): halfway between the short and the long wait;
- incomplete (< 0.3), or the transcript ends on "and", "the", "of", a comma… (whatever full stop Whisper
  put after it): the long wait
  (``max_silence_ms``), so a 0.5–0.8 s pause mid-sentence is not taken for the end;
- the LLM, asked whether the words (without Whisper's punctuation) end a sentence, says they very
  likely do not (< ``UNFINISHED_WORDS``: "Who wrote", "What is the largest", "Which ocean"): the long wait,
  whatever the audio sounds like (``engines.llm.sentence_end``);
- no model loaded: the fixed ``min_silence_ms`` (the pipeline says so once with a notice).
"""

from __future__ import annotations

import re
from typing import Protocol

import numpy as np

from app.core.config import VADSettings

COMPLETE = 0.7
INCOMPLETE = 0.3
#: below this LLM probability of a sentence end, the words are unfinished. On Qwen2.5-Coder-1.5B no complete
#: question of 52 scored under 0.039, and 257 of 277 sentence prefixes scored under 0.03
UNFINISHED_WORDS = 0.03

#: words a finished English sentence practically never ends on
_DANGLING = frozenset({
    "a", "an", "the", "and", "or", "but", "so", "because", "if", "when", "while", "that", "which", "who",
    "whose", "whom", "of", "to", "for", "from", "with", "without", "in", "on", "at", "by", "as", "than", "then",
    "my", "your", "his", "her", "its", "our", "their", "this", "these", "those", "is", "are", "was", "were",
    "be", "been", "am", "i", "we", "you", "they", "he", "she", "it", "can", "could", "would", "should", "will",
    "shall", "may", "might", "must", "do", "does", "did", "not", "no", "very", "more", "most", "much", "about",
    "into", "onto", "over", "under", "after", "before", "between", "like", "such", "what", "where", "how",
    "why", "also", "just", "even", "um", "uh", "er",
})
_WORD = re.compile(r"[\w']+")


class EndOfTurnModel(Protocol):
    """What the pipeline needs from an end-of-turn engine (``engines.turn``)."""

    def complete_probability(self, audio: np.ndarray) -> float:
        """Probability (0–1) that the 16 kHz ``audio`` ends a complete turn."""
        ...


def transcript_dangles(text: str) -> bool:
    """True when the words so far sound unfinished: a trailing comma/ellipsis/dash or a function word."""
    stripped = text.strip()
    if not stripped:
        return False
    if stripped.endswith((",", "...", "…", "-", "–", "—", ";", ":")):
        return True
    # No early return on "." / "?": Whisper punctuates every fragment as a sentence ("What is the capital
    # of" [pause] came out as "What is the capital on?"), so its full stop says nothing about the user. A
    # question really ending on a function word ("Where are you from?") only waits the longer hang-over.
    words = _WORD.findall(stripped.lower())
    return bool(words) and words[-1] in _DANGLING


def hangover_ms(
    settings: VADSettings, probability: float | None, transcript: str | None = None,
    sentence_end: float | None = None,
) -> int:
    """How much silence ends this turn, given the model's probability (None: no model), the words and the
    LLM's probability that they end a sentence (None: not asked or no opinion)."""
    if probability is None:
        return settings.min_silence_ms
    if transcript is not None and transcript_dangles(transcript):
        return settings.max_silence_ms
    if sentence_end is not None and sentence_end < UNFINISHED_WORDS:
        return settings.max_silence_ms
    if probability >= COMPLETE:
        return settings.complete_silence_ms
    if probability < INCOMPLETE:
        return settings.max_silence_ms
    return (settings.complete_silence_ms + settings.max_silence_ms) // 2
