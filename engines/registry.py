"""Config name -> adapter class, imported lazily so only the chosen engine's libraries load.

The registry key equals the value users write in ``config.toml``; an unknown name lists the choices.
"""

from __future__ import annotations

import importlib
from typing import Any

from engines.errors import ConfigError, DependencyError

ENGINES: dict[str, dict[str, str]] = {
    "vad": {"silero": "engines.vad.silero:SileroVAD"},
    "asr": {"faster-whisper": "engines.asr.faster_whisper:FasterWhisperASR"},
    "llm": {"llama-cpp": "engines.llm.llama_cpp:LlamaCppLLM"},
    "tts": {
        "piper": "engines.tts.piper:PiperTTS",
        "edge-tts": "engines.tts.edge:EdgeTTS",
    },
    "turn": {"smart-turn": "engines.turn.smart_turn:SmartTurnDetector"},
}


def choices(role: str) -> list[str]:
    return sorted(ENGINES.get(role, {}))


def engine_class(role: str, name: str) -> type[Any]:
    if role not in ENGINES:
        raise ConfigError(f"Unknown engine role '{role}'. Roles: {', '.join(sorted(ENGINES))}.")
    target = ENGINES[role].get(name)
    if target is None:
        raise ConfigError(
            f"Unknown {role} engine '{name}'.",
            hint=f"Set [{role}] engine to one of: {', '.join(choices(role))}.",
        )
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise DependencyError(
            f"The {role} engine '{name}' needs a package that is not installed ({err.name or err}).",
            hint="Run scripts/setup.sh again (or `pip install -e .` inside the project's .venv).",
        ) from err
    return getattr(module, class_name)
