"""The one place that builds engines from the settings (composition, no engine logic here).

The CLI, the benchmarks and the desktop session all load their engines through :func:`build_engines`, so the
choices made for this machine and the fallbacks are the same everywhere, and each is reported through
``on_notice`` (visible to the user):

- the default chat model on a machine with less than 4 GB of RAM is the smaller qwen2.5-coder-0.5b;
- GPU layers asked for on a llama.cpp built without GPU support run on the CPU;
- an online voice falls back to Piper;
- a missing end-of-turn model falls back to a fixed silence rule (the pipeline says so when listening).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from app.core import hardware
from app.core.config import LLMSettings, Settings
from app.core.errors import VisageError
from app.core.pipeline import Engines
from app.core.tts_fallback import FallbackTTS
from engines.base import TTS
from engines.registry import engine_class

log = logging.getLogger(__name__)

LOCAL_TTS = "piper"
#: below this much RAM the default chat model is the small one (the 1.5B needs ~1.3 GB beside the app)
SMALL_MACHINE_BYTES = 4 * 1024**3
SMALL_MACHINE_LLM = "qwen2.5-coder-0.5b"

Progress = Callable[[int, int, str], None]
_LABELS = {"llm": "language model", "asr": "speech recognizer", "vad": "voice detector", "tts": "voice",
           "turn": "end-of-turn model"}
ROLES = ("llm", "asr", "vad", "tts", "turn")


def llm_settings_for_machine(settings: Settings, on_notice: Callable[[str], None]) -> LLMSettings:
    """The LLM settings to load: the user's choice, or for the default on a small machine the 0.5B."""
    llm = settings.llm
    if "model" in llm.model_fields_set:
        return llm  # chosen by the user: always respected
    total, _ = hardware.memory()
    if total is not None and total < SMALL_MACHINE_BYTES and llm.model != SMALL_MACHINE_LLM:
        on_notice(
            f"This computer has {total / 1024**3:.1f} GB of RAM: using the smaller {SMALL_MACHINE_LLM} instead of "
            f"{llm.model} (set [llm] model to choose another)."
        )
        return llm.model_copy(update={"model": SMALL_MACHINE_LLM})
    return llm


def build_tts(settings: Settings, on_notice: Callable[[str], None]) -> TTS:
    """The configured TTS; an online engine is wrapped so it falls back to Piper with a notice."""
    if settings.tts.engine == LOCAL_TTS:
        return engine_class("tts", LOCAL_TTS)(settings.tts)
    primary = engine_class("tts", settings.tts.engine)(settings.tts)
    fallback = engine_class("tts", LOCAL_TTS)(settings.tts)
    return FallbackTTS(primary, fallback, on_notice=on_notice)


def build_end_of_turn(settings: Settings, on_notice: Callable[[str], None]) -> Any | None:
    """The end-of-turn model, or None (with a notice) when it is switched off or cannot be loaded."""
    if settings.vad.end_of_turn != "smart-turn":
        return None
    try:
        return engine_class("turn", "smart-turn")()
    except VisageError as err:
        on_notice(f"The end-of-turn model could not be loaded ({err.message}): your turn ends after a fixed "
                  f"{settings.vad.min_silence_ms} ms of silence. {err.hint or ''}".strip())
        return None


def build_llm(settings: Settings, on_notice: Callable[[str], None]) -> Any:
    llm_settings = llm_settings_for_machine(settings, on_notice)
    llm = engine_class("llm", llm_settings.engine)(llm_settings)
    if llm_settings.n_gpu_layers != 0 and getattr(llm, "gpu_offload_supported", True) is False:
        on_notice(
            "GPU offload was asked for ([llm] n_gpu_layers), but this llama.cpp build has no GPU support: "
            "the LLM runs on the CPU. Rebuild llama-cpp-python with CMAKE_ARGS=\"-DGGML_CUDA=on\" to use the GPU."
        )
    return llm


def build_engines(
    settings: Settings,
    *,
    roles: Iterable[str] = ROLES,
    on_notice: Callable[[str], None] = lambda message: log.warning("%s", message),
    progress: Progress | None = None,
) -> Engines:
    """Load the engines for ``roles`` (the LLM always), one at a time, reporting ``progress``.

    Raises ModelError/DependencyError/ConfigError with the fix; the end-of-turn model only falls back.
    """
    wanted = [role for role in ROLES if role in set(roles) or role == "llm"]
    builders: dict[str, Callable[[], Any]] = {
        "llm": lambda: build_llm(settings, on_notice),
        "asr": lambda: engine_class("asr", settings.asr.engine)(settings.asr),
        "vad": lambda: engine_class("vad", settings.vad.engine)(settings.vad),
        "tts": lambda: build_tts(settings, on_notice),
        "turn": lambda: build_end_of_turn(settings, on_notice),
    }
    loaded: dict[str, Any] = {}
    for i, role in enumerate(wanted):
        if progress is not None:
            progress(i, len(wanted), f"Loading the {_LABELS[role]}…")
        loaded[role] = builders[role]()
    if progress is not None:
        progress(len(wanted), len(wanted), "Models ready")
    return Engines(llm=loaded["llm"], asr=loaded.get("asr"), tts=loaded.get("tts"), vad=loaded.get("vad"),
                   end_of_turn=loaded.get("turn"))
