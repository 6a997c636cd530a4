"""Server-side copywriting: the copy studio's own ``generate_variants`` on a server-side GGUF.

The model is loaded on first use and used by one request at a time (llama.cpp models are not
re-entrant); at most ``max_waiting`` requests wait for it, more are told to come back (503 +
Retry-After). Results are cached by the normalized brief.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from server.cache import ResponseCache, cache_key

log = logging.getLogger(__name__)

LLMFactory = Callable[[], Any]


class Busy(Exception):
    """Too many generation requests are already waiting for the model."""


class GenerationService:
    def __init__(self, llm_factory: LLMFactory, *, model_name: str, cache: ResponseCache, max_waiting: int) -> None:
        self._factory = llm_factory
        self.model_name = model_name
        self.cache = cache
        self._llm: Any = None
        self._load_error: str | None = None
        self._model_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._waiting = 0
        self.max_waiting = max_waiting

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    @property
    def load_error(self) -> str | None:
        return self._load_error

    def _get_llm(self) -> Any:
        if self._llm is None:
            started = time.perf_counter()
            try:
                self._llm = self._factory()
            except Exception as exc:
                self._load_error = str(exc)
                raise
            self._load_error = None
            log.info("server LLM %s loaded in %.1f s", self.model_name, time.perf_counter() - started)
        return self._llm

    def generate(self, brief: Any, *, n: int, voice: Any | None = None) -> tuple[list[Any], bool]:
        """(variants, cached) for a validated ``Brief``; raises Busy when the queue is full."""
        from app.studio import generate_variants

        key = cache_key(brief.model_dump(mode="json"), n=n, model=self.model_name,
                        voice=voice.model_dump(mode="json") if voice is not None else None)
        hit = self.cache.get(key)
        if hit is not None:
            return hit, True
        with self._count_lock:
            if self._waiting >= self.max_waiting + 1:
                raise Busy
            self._waiting += 1
        try:
            with self._model_lock:
                hit = self.cache.get(key, count=False)  # someone may have made it while we waited
                if hit is not None:
                    return hit, True
                llm = self._get_llm()
                variants = generate_variants(brief, llm, n=n, voice=voice)
        finally:
            with self._count_lock:
                self._waiting -= 1
        self.cache.put(key, variants)
        return variants, False


def default_llm_factory(model: str, threads: int | None) -> LLMFactory:
    """Loads ``LlamaCppLLM`` with the server's model (a shipped name or a GGUF path)."""

    def load() -> Any:
        from app.core.config import LLMSettings
        from engines.llm.llama_cpp import LlamaCppLLM

        return LlamaCppLLM(LLMSettings(model=model, n_threads=threads, n_ctx=2048, max_tokens=400))

    return load
