"""The Smart Turn v3.2 model file: where it goes and the check made when it loads (size and sha256).

The file (8.7 MB, BSD-2, Daily's Smart Turn v3.2: a Whisper-tiny encoder with an end-of-turn head) is
taken once at set-up out of the pipecat-ai wheel by ``visage setup-models``
(``app.models.prepare.prepare_smart_turn``); pipecat-ai is never installed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from engines.errors import ModelError
from engines.models import SETUP_HINT, file_sha256, models_root, prepared_path

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
    """Where ``visage setup-models`` puts the model (it may not exist yet)."""
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
