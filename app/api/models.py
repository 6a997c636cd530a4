"""Model names on the API: the installed models (``visage models list``), and which one each request gets.

A request names the loaded model of its role (``GET /v1/models`` marks it ``"loaded": true``). An installed
model that is not loaded is a 400 saying how to switch; any other name is a 404 ``model_not_found``.
Recognizers and voices also answer to OpenAI's own model names (``whisper-1``, ``tts-1``...), so tools
that hard-code them work: there is one loaded recognizer and one loaded voice either way.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from app.api.errors import ApiError

OPENAI_ALIASES = {
    "asr": {"whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"},
    "tts": {"tts-1", "tts-1-hd", "gpt-4o-mini-tts"},
}
_SWITCH = {"llm": "Settings › Models (or [llm] model in config.toml)", "asr": "[asr] model", "tts": "[tts] voice"}
CREATED = int(time.time())


def _same(a: str | Path | None, b: str | Path | None) -> bool:
    if a is None or b is None:
        return False
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def installed() -> list[Any]:
    from app.models.manager import ModelManager

    return ModelManager().list()


def loaded_name(role: str, engine: Any, models: list[Any]) -> str:
    """The catalogue name of a loaded engine (matched by its file), else the name the engine reports."""
    info = engine.info()
    for model in models:
        if model.role == role and _same(model.path, info.model_path):
            return str(model.name)
    return str(info.model)


def check(role: str, requested: str, engine: Any) -> str:
    """The loaded model's name when ``requested`` may use it; ApiError 404/400 otherwise."""
    models = installed()
    name = loaded_name(role, engine, models)
    if requested == name or requested in OPENAI_ALIASES.get(role, ()):
        return name
    if any(m.role == role and requested in (m.name, m.spec) for m in models):
        raise ApiError(400, f"The model {requested!r} is installed but not loaded: Visage serves {name!r} now. "
                       f"Ask for {name!r}, or switch to {requested!r} in {_SWITCH[role]}.",
                       code="model_not_loaded", param="model")
    raise ApiError(404, f"The model {requested!r} does not exist here. Visage serves {name!r} "
                   "(GET /v1/models lists the installed models).", code="model_not_found", param="model")


def listing(loaded: dict[str, Any]) -> dict[str, Any]:
    """``GET /v1/models``: every installed model, ``loaded`` for the ones the API answers with."""
    models = installed()
    names = {role: loaded_name(role, engine, models) for role, engine in loaded.items() if engine is not None}
    data = [{"id": m.name, "object": "model", "created": CREATED, "owned_by": "visage", "role": m.role,
             "loaded": names.get(m.role) == m.name} for m in models]
    for role, name in names.items():  # a loaded engine outside the model folders (an online voice)
        if not any(d["id"] == name and d["role"] == role for d in data):
            data.append({"id": name, "object": "model", "created": CREATED, "owned_by": "visage", "role": role,
                         "loaded": True})
    return {"object": "list", "data": data}
