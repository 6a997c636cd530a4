"""Copywriting, remote when the user chose it, local otherwise — and local whenever the server fails.

``generate_copy`` never fails because of the network: a remote failure (no network, timeout, 5xx,
bad key, an answer that does not parse) falls back to the local copy studio and says so in
``CopyResult.notice``, which the caller shows to the user (no silent fallbacks).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from app.core.config import SyncSettings
from app.core.errors import VisageError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CopyResult:
    variants: list[Any]  # app.studio.Variant
    source: Literal["remote", "local"]
    notice: str | None = None
    cached: bool = False


def generate_copy(
    brief: Any,
    *,
    settings: SyncSettings,
    local_llm: Any,
    n: int = 3,
    voice: Any | None = None,
    cancel: threading.Event | None = None,
    client_factory: Callable[[], Any] | None = None,
) -> CopyResult:
    """``n`` variants for ``brief``. ``local_llm`` is a studio LLM or a zero-argument function making one
    (so the local model is loaded only when it is needed)."""
    from app.studio import Variant, generate_variants

    notice: str | None = None
    if settings.enabled and settings.use_remote_copywriting:
        try:
            if client_factory is None:
                from app.sync import make_client

                client = make_client(settings)
            else:
                client = client_factory()
            try:
                answer = client.generate(brief.model_dump(mode="json"), n=n,
                                         voice=voice.model_dump(mode="json") if voice is not None else None)
            finally:
                client.close()
            variants = [Variant.model_validate(v) for v in answer["variants"]]
            if not variants:
                raise ValueError("the server returned no variants")
            return CopyResult(variants=variants, source="remote", cached=bool(answer.get("cached", False)))
        except (VisageError, ValidationError, KeyError, TypeError, ValueError) as err:
            reason = err.message if isinstance(err, VisageError) else f"unexpected answer: {type(err).__name__}"
            notice = f"Remote copywriting is unavailable ({reason}); these drafts were written locally."
            log.warning("remote copywriting failed, using the local model: %s", reason)
    if cancel is not None and cancel.is_set():
        from app.core.errors import Cancelled

        raise Cancelled("Generation was cancelled.", hint="Start it again when you are ready.")
    llm = local_llm() if callable(local_llm) and not hasattr(local_llm, "chat") else local_llm
    variants = generate_variants(brief, llm, n=n, voice=voice, cancel=cancel)
    return CopyResult(variants=variants, source="local", notice=notice)
