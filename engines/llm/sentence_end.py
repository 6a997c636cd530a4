"""Has the user finished their sentence? The chat model's own guess, from the words alone.

Whisper punctuates every fragment as if it were a sentence ("Who wrote" [pause] comes back as "Who
wrote?"), and Smart Turn, which listens to how the audio ends, takes a content word said with a falling
pitch for the end of a turn: together they answered "Who wrote", "What is the largest" and "Which
ocean" before the user had finished (7 of 10 paused questions in ``bench/conversation_quality.py``).

The language model knows better. Fed the conversation up to the user's words *without* the
punctuation Whisper added, its next-token distribution says how likely a sentence ends there: the
probability of a token that is only ".", "?" or "!" (with a quote, bracket or newline after it), or of
the end of the turn. On Qwen2.5-Coder-1.5B, over the 42 bench questions plus 10 other sentences and
all their prefixes of two words or more: complete sentences p10/p50/p90 0.41/0.89/0.98 (the lowest,
0.039, a 14-word quotation with a comma); prefixes p90 0.004, and the 20 of 277 prefixes above 0.03 are
mostly sentences in their own right ("Tell me a joke", "Turn the volume down").

The judgement reads the reply's own prompt in the same pass, keeping the logits after the words as well
as at the end, so it costs no second reading: the reply then starts from the cache (judging plus the
reply's first token: 0.17-0.22 s on a 2-core Xeon, where the first token alone took 0.13-0.2 s).
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: a token made of sentence-final punctuation only, maybe with a closing quote/bracket and whitespace
_FINAL = re.compile(r"\s?[.?!]+[\"')\]]*\s*")
#: what Whisper (or a typist) puts at the end of the words, taken off before asking the model
_TRAILING = re.compile(r"[\s.?!…]+$")


def final_punctuation_tokens(n_vocab: int, text_of: Callable[[int], str]) -> list[int]:
    """Ids of the tokens that end a sentence: ".", "?", "!", ".\\n\\n", '."' and the like (not "..", ".com")."""
    ids = []
    for token in range(n_vocab):
        text = text_of(token)
        if text and ".." not in text and _FINAL.fullmatch(text):
            ids.append(token)
    return ids


def bare_words(text: str) -> str:
    """The words without their trailing full stop, question mark, exclamation mark or ellipsis."""
    return _TRAILING.sub("", text.strip())


def prompt_up_to_words(prompt: str, words: str) -> str | None:
    """The rendered chat ``prompt`` cut right after the last occurrence of ``words`` (None if not found)."""
    at = prompt.rfind(words)
    return prompt[: at + len(words)] if words and at >= 0 else None
