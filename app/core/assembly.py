"""Builds the engines the settings ask for, through the registry (composition, no engine logic here)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from app.core.config import Settings
from app.core.pipeline import Engines
from app.core.tts_fallback import FallbackTTS
from engines.base import TTS
from engines.registry import engine_class

log = logging.getLogger(__name__)

LOCAL_TTS = "piper"


def build_tts(settings: Settings, on_notice: Callable[[str], None]) -> TTS:
    """The configured TTS; an online engine is wrapped so it falls back to Piper with a notice."""
    if settings.tts.engine == LOCAL_TTS:
        return engine_class("tts", LOCAL_TTS)(settings.tts)
    primary = engine_class("tts", settings.tts.engine)(settings.tts)
    fallback = engine_class("tts", LOCAL_TTS)(settings.tts)
    return FallbackTTS(primary, fallback, on_notice=on_notice)


def build_engines(
    settings: Settings,
    *,
    roles: Iterable[str] = ("vad", "asr", "llm", "tts"),
    on_notice: Callable[[str], None] = lambda message: log.warning("%s", message),
) -> Engines:
    """Load the engines for ``roles``. Raises ModelError/DependencyError/ConfigError with the fix."""
    wanted = set(roles)
    llm = engine_class("llm", settings.llm.engine)(settings.llm)
    if settings.llm.n_gpu_layers != 0 and getattr(llm, "gpu_offload_supported", True) is False:
        on_notice(
            "GPU offload was asked for ([llm] n_gpu_layers), but this llama.cpp build has no GPU support: "
            "the LLM runs on the CPU. Rebuild llama-cpp-python with CMAKE_ARGS=\"-DGGML_CUDA=on\" to use the GPU."
        )
    return Engines(
        llm=llm,
        asr=engine_class("asr", settings.asr.engine)(settings.asr) if "asr" in wanted else None,
        tts=build_tts(settings, on_notice) if "tts" in wanted else None,
        vad=engine_class("vad", settings.vad.engine)(settings.vad) if "vad" in wanted else None,
    )
