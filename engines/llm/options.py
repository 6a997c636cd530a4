"""What :class:`engines.llm.llama_cpp.LlamaCppLLM` reads from its settings, as a structural type.

The app's ``[llm]`` section (``app.core.config.LLMSettings``) has these fields, so it is passed as is;
the engines never import the app, and the defaults live in one place: the app's settings.
"""

from __future__ import annotations

from typing import Protocol


class LlamaOptions(Protocol):
    """The ``[llm]`` settings the llama.cpp adapter reads."""

    model: str
    chat_format: str | None
    n_ctx: int
    n_threads: int | None
    n_gpu_layers: int
    temperature: float
    max_tokens: int
    repeat_penalty: float
