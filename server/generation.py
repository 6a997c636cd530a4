"""Server-side copywriting: the copy studio's own ``generate_variants`` on a server-side GGUF.

Where the model runs:
- :class:`LocalGenerator` (one process, SQLite, or ``VISAGE_SERVER_GENERATION=local``): the API process
  loads the model on first use and runs one request at a time (llama.cpp models are not re-entrant); at
  most ``max_waiting`` requests wait for it, more are told to come back (503 + Retry-After).
- :class:`QueueGenerator` (PostgreSQL): the request becomes a job in the queue (:mod:`server.jobs`),
  written by a ``python -m server generate-worker`` process; with no live worker, or more than
  ``max_waiting`` queued jobs per live worker, the answer is 503 at once.

:class:`GenerationService` puts the response cache in front of either one (per key namespace).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from server.cache import Cache, cache_key

log = logging.getLogger(__name__)

LLMFactory = Callable[[], Any]


@dataclass
class GenerationError(Exception):
    """A generation that did not happen, with the HTTP answer it becomes."""

    status: int
    code: str
    message: str
    hint: str | None = None
    retry_after: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "code": self.code, "message": self.message, "hint": self.hint,
                "retry_after": self.retry_after}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationError:
        return cls(int(data.get("status", 503)), str(data.get("code", "generation_unavailable")),
                   str(data.get("message", "Generation failed.")), data.get("hint"), data.get("retry_after"))


BUSY = GenerationError(503, "busy", "The model is busy with other requests.", "Retry shortly.", "5")


#: tokens kept free beyond the prompt's text and the longest answer: each message's chat-template markup and
#: the "Fix this: ..." line a regenerated candidate adds
PROMPT_SLACK_TOKENS = 128
#: llama-cpp-python's words when a prompt does not fit (a ValueError): caught in case the estimate was short
_LLAMA_CONTEXT_ERROR = "exceed context window"


def prompt_too_long(n_ctx: int, tokens: int | None = None) -> GenerationError:
    need = f"need about {tokens:,} tokens with the answer" if tokens else "do not fit with the answer"
    return GenerationError(
        413, "prompt_too_long",
        f"This brief and brand voice {need}; the server's model reads at most {n_ctx:,} tokens.",
        "Shorten the brief (notes, key points, words to avoid) or the brand voice (samples, rules), then send it "
        "again.")


def check_prompt_fits(llm: Any, brief: Any, voice: Any | None) -> None:
    """Raises a 413 :class:`GenerationError` when the studio's prompt for ``brief`` and ``voice`` plus its
    longest answer would not fit the model's context window (``llm.settings.n_ctx``, counted with
    ``llm.count_tokens``; an LLM without them is not checked)."""
    from app.studio.analysis import banned_terms
    from app.studio.prompts import build_messages, max_tokens_for
    from app.studio.types import get_type

    n_ctx = getattr(getattr(llm, "settings", None), "n_ctx", None)
    count = getattr(llm, "count_tokens", None)
    if not n_ctx or count is None:
        return
    limits = brief.hard_limits()
    messages = build_messages(brief, voice, banned_terms(brief, voice), limits)
    needed = sum(count(m.content) for m in messages) + max_tokens_for(get_type(brief.type), limits) \
        + PROMPT_SLACK_TOKENS
    if needed > n_ctx:
        raise prompt_too_long(int(n_ctx), needed)


def run_studio(llm: Any, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """``generate_variants`` for a job payload ``{"brief", "n", "voice"}``; variants as JSON dicts.

    Raises :class:`GenerationError` (422 for a brief the studio refuses, 413 for one too long for the model's
    context window, 503 when the model fails).
    """
    from app.core.errors import ConfigError, VisageError
    from app.studio import BrandVoice, Brief, generate_variants

    try:
        brief = Brief.model_validate(payload["brief"])
        voice = BrandVoice.model_validate(payload["voice"]) if payload.get("voice") else None
        check_prompt_fits(llm, brief, voice)
        variants = generate_variants(brief, llm, n=int(payload["n"]), voice=voice)
    except ConfigError as err:
        raise GenerationError(422, "invalid_brief", err.message, err.hint) from None
    except VisageError as err:
        log.warning("generation failed: %s", err)
        raise GenerationError(503, "generation_unavailable", err.message, err.hint, "30") from None
    except ValueError as err:
        if _LLAMA_CONTEXT_ERROR not in str(err):
            raise
        raise prompt_too_long(int(getattr(getattr(llm, "settings", None), "n_ctx", 0) or 0)) from None
    return [v.model_dump(mode="json") for v in variants]


class Generator(Protocol):
    def status(self) -> tuple[bool, str]:
        """(ok, a line for /health)."""
        ...

    def run(self, payload: dict[str, Any], recheck: Callable[[], Any | None]) -> list[dict[str, Any]]:
        """The variants; ``recheck`` looks in the cache again once the model is free (None: not there)."""
        ...


class LocalGenerator:
    def __init__(self, llm_factory: LLMFactory, *, model_name: str, max_waiting: int) -> None:
        self._factory = llm_factory
        self.model_name = model_name
        self.max_waiting = max_waiting
        self._llm: Any = None
        self._load_failed = False
        self._model_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._waiting = 0

    def status(self) -> tuple[bool, str]:
        if self._llm is not None:
            return True, f"{self.model_name} loaded"
        if self._load_failed:  # the reason is in the server log, not on the unauthenticated /health
            return False, f"{self.model_name} failed to load (the server log says why)"
        return True, f"{self.model_name} (loaded on first generate)"

    def _get_llm(self) -> Any:
        if self._llm is None:
            started = time.perf_counter()
            try:
                self._llm = self._factory()
            except Exception as exc:
                self._load_failed = True
                log.error("server LLM %s failed to load: %s", self.model_name, exc)
                raise
            self._load_failed = False
            log.info("server LLM %s loaded in %.1f s", self.model_name, time.perf_counter() - started)
        return self._llm

    def run(self, payload: dict[str, Any], recheck: Callable[[], Any | None]) -> list[dict[str, Any]]:
        with self._count_lock:
            if self._waiting >= self.max_waiting + 1:
                raise BUSY
            self._waiting += 1
        try:
            with self._model_lock:
                hit = recheck()  # someone may have made it while we waited
                if hit is not None:
                    return list(hit)
                try:
                    llm = self._get_llm()
                except Exception as exc:
                    from app.core.errors import VisageError

                    if isinstance(exc, VisageError):
                        raise GenerationError(503, "generation_unavailable", exc.message, exc.hint, "30") from None
                    raise
                return run_studio(llm, payload)
        finally:
            with self._count_lock:
                self._waiting -= 1


class QueueGenerator:
    def __init__(self, queue: Any, *, model_name: str, max_waiting: int, timeout_s: float) -> None:
        self.queue = queue
        self.model_name = model_name
        self.max_waiting = max_waiting
        self.timeout_s = timeout_s

    def status(self) -> tuple[bool, str]:
        live = self.queue.live_workers()
        return live > 0, f"{self.model_name} on {live} generation worker(s), {self.queue.waiting()} job(s) queued"

    def run(self, payload: dict[str, Any], recheck: Callable[[], Any | None]) -> list[dict[str, Any]]:
        from server.jobs import JobFailed, JobTimeout

        live = self.queue.live_workers()
        if live == 0:
            raise GenerationError(503, "no_generation_worker", "No generation worker is running.",
                                  "The operator should start `python -m server generate-worker`.", "30")
        if self.queue.waiting() >= self.max_waiting * live + 1:
            raise BUSY
        job_id = self.queue.submit(payload)
        try:
            return list(self.queue.wait(job_id, self.timeout_s))
        except JobFailed as failed:
            raise GenerationError.from_dict(failed.error) from None
        except JobTimeout:
            raise GenerationError(503, "generation_timeout",
                                  f"No generation worker finished this brief within {self.timeout_s:.0f} s.",
                                  "Retry later.", "30") from None


class GenerationService:
    def __init__(self, generator: Generator, *, model_name: str, cache: Cache) -> None:
        self.generator = generator
        self.model_name = model_name
        self.cache = cache

    def generate(self, namespace: int, brief: Any, *, n: int, voice: Any | None = None
                 ) -> tuple[list[dict[str, Any]], bool]:
        """(variants, cached) for a validated ``Brief``; raises :class:`GenerationError`."""
        payload = {"brief": brief.model_dump(mode="json"), "n": n,
                   "voice": voice.model_dump(mode="json") if voice is not None else None}
        key = cache_key(payload["brief"], n=n, model=self.model_name, voice=payload["voice"])
        hit = self.cache.get(namespace, key)
        if hit is not None:
            return list(hit), True
        variants = self.generator.run(payload, lambda: self.cache.get(namespace, key, count=False))
        self.cache.put(namespace, key, variants)
        return variants, False


def default_llm_factory(model: str, threads: int | None) -> LLMFactory:
    """Loads ``LlamaCppLLM`` with the server's model (a shipped name or a GGUF path)."""

    def load() -> Any:
        from app.core.config import LLMSettings
        from engines.llm.llama_cpp import LlamaCppLLM

        return LlamaCppLLM(LLMSettings(model=model, n_threads=threads, n_ctx=2048, max_tokens=400))

    return load
