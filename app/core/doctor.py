"""`visage doctor`: what Visage found on this machine, what it will use, and what to do about gaps.

The model lines come from :mod:`app.models.describe` (a layer above the core), handed to :func:`run_checks`
by the caller (``app/cli.py``).
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from app.core import paths
from app.core.config import Settings
from app.core.errors import VisageError

Status = Literal["ok", "warn", "error"]

PACKAGES = ("llama-cpp-python", "faster-whisper", "ctranslate2", "onnxruntime", "piper-tts", "edge-tts",
            "sqlite-utils", "pyside6-essentials", "sounddevice", "opencv-python-headless", "av")


@dataclass(frozen=True, slots=True)
class Check:
    area: str
    name: str
    status: Status
    detail: str
    fix: str = ""


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_packages() -> list[Check]:
    out = []
    for dist in PACKAGES:
        version = _version(dist)
        out.append(
            Check("packages", dist, "ok" if version else "error", version or "not installed",
                  "" if version else "Run `bash scripts/setup.sh`.")
        )
    return out


def check_engines(settings: Settings) -> list[Check]:
    from engines.registry import choices

    out = []
    for role, name in (("vad", settings.vad.engine), ("asr", settings.asr.engine), ("llm", settings.llm.engine),
                       ("tts", settings.tts.engine)):
        others = ", ".join(c for c in choices(role) if c != name) or "none"
        if name in choices(role):
            detail = f"{name} (also available: {others})"
            if role == "tts" and name != "piper":
                detail += "; falls back to piper with a notice when offline"
            out.append(Check("engines", role, "ok", detail))
        else:
            out.append(Check("engines", role, "error", f"unknown engine '{name}'",
                             f"Set [{role}] engine to one of: {', '.join(choices(role))}."))
    return out


def check_compute(settings: Settings) -> list[Check]:
    """Where the LLM and the speech recognizer run, and why ("running on CPU because …"), plus what fits."""
    from app.core import hardware

    info = hardware.detect(settings.llm.n_gpu_layers, settings.asr.device)
    out = []
    llm_fix = ""
    if info.llm_backend == "none":
        out.append(Check("compute", "llm", "error", info.llm_reason, "Run `bash scripts/setup.sh`."))
    else:
        if info.llm_gpu_offload and settings.llm.n_gpu_layers == 0:
            llm_fix = "Set [llm] n_gpu_layers = -1 to use the GPU."
        elif not info.llm_gpu_offload:
            llm_fix = "For a GPU, rebuild llama-cpp-python with CMAKE_ARGS=-DGGML_CUDA=on (Metal on macOS)."
        device = "GPU" if info.llm_gpu_offload and settings.llm.n_gpu_layers != 0 else "CPU"
        out.append(Check("compute", "llm", "ok", f"{device} — {info.llm_reason}", llm_fix))
    asr_device = "CUDA" if info.cuda_devices and settings.asr.device != "cpu" else "CPU"
    out.append(Check("compute", "asr", "ok", f"{asr_device} — {info.asr_reason}"))
    ram = f", {info.ram_gb:g} GB RAM" if info.ram_gb else ""
    machine = f"{info.cores} cores{ram}, {platform.machine()}, Python {sys.version.split()[0]}"
    out.append(Check("compute", "cpu", "ok", machine))
    for note in info.notes:
        out.append(Check("compute", "gpu", "warn", note, llm_fix))
    for tip in hardware.suggestions(info):
        if tip.role != "how":
            out.append(Check("compute", f"affordable {tip.role}", "ok", tip.detail))
    return out


def check_audio() -> list[Check]:
    from app.core.audio_device import list_devices

    try:
        devices = list_devices()
    except VisageError as err:
        return [Check("audio", "devices", "warn", err.message, err.hint or "")]
    if not devices:
        return [Check("audio", "devices", "warn", "no sound card found — voice is off, text chat works",
                      "Plug in a microphone/speakers; files still work: `visage talk --input q.wav --output r.wav`.")]
    ins = [d.name for d in devices if d.inputs]
    outs = [d.name for d in devices if d.outputs]
    return [
        Check("audio", "input", "ok" if ins else "warn", ", ".join(ins) or "no microphone"),
        Check("audio", "output", "ok" if outs else "warn", ", ".join(outs) or "no speakers"),
    ]


def check_storage(data_dir: Path) -> list[Check]:
    db = paths.database_file(data_dir)
    probe = data_dir / ".write-test"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok")
        probe.unlink()
        return [Check("storage", "data folder", "ok", f"{data_dir} (database {db.name})"),
                Check("storage", "config file", "ok", str(paths.config_file()))]
    except OSError as err:
        return [Check("storage", "data folder", "error", f"{data_dir} is not writable: {err.strerror or err}",
                      "Choose another folder with --data-dir or VISAGE_DATA_DIR.")]


def run_checks(settings: Settings, data_dir: Path, *, models: Sequence[Check]) -> list[Check]:
    """Every check, in the order the doctor prints them. ``models`` are the model lines, built by
    :func:`app.models.describe.check_models` (the models package sits above the core, so the caller passes them)."""
    return [
        *check_packages(),
        *check_engines(settings),
        *models,
        *check_compute(settings),
        *check_audio(),
        *check_storage(data_dir),
    ]


def as_dicts(checks: list[Check]) -> list[dict[str, str]]:
    return [asdict(c) for c in checks]
