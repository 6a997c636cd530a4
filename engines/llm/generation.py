"""What a caller may ask of one chat generation beyond the messages, and what it reports back.

Used by :meth:`engines.llm.llama_cpp.LlamaCppLLM.generate` (the local OpenAI-compatible API): the
sampling options an OpenAI request carries, and an :class:`Outcome` the engine fills in while it decodes
(why it stopped, the token counts), read by the caller once the stream has ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engines.errors import ConfigError


class ContextLengthError(ConfigError):
    """The prompt alone fills the model's context window."""


@dataclass(frozen=True, slots=True)
class GenerationOptions:
    """None = the engine's own setting (``[llm]`` in config.toml) or llama.cpp's default."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    #: constrain the reply to this JSON schema (through the same grammar support as the copy studio)
    json_schema: dict[str, Any] | None = field(default=None, hash=False)


@dataclass(slots=True)
class Outcome:
    """Filled in by the engine as it decodes; complete once the stream has ended."""

    #: "stop" (the model ended, or a stop sequence), "length" (max_tokens or the context), None (cancelled)
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
