"""Silero VAD v6, the ONNX model shipped inside faster-whisper, run frame by frame with onnxruntime.

Fed the way ``faster_whisper/vad.py`` feeds it: each 512-sample window (32 ms at 16 kHz) is prefixed
with the last 64 samples of the previous window (the *context*), and the LSTM state ``h``/``c``
(1x1x128 each) is carried from call to call. ``reset()`` clears both between independent streams.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np

from engines.base import EngineInfo
from engines.errors import AudioInputError, DependencyError, ModelError
from engines.models import package_dir

log = logging.getLogger(__name__)

MODEL_FILE = "assets/silero_vad_v6.onnx"
CONTEXT_SAMPLES = 64
STATE_SHAPE = (1, 1, 128)


class SileroOptions(Protocol):
    """The ``[vad]`` settings this adapter reads (the app's ``VADSettings`` has them and is passed as is)."""

    threshold: float


def silero_model_path() -> Path:
    """The Silero VAD ONNX file inside the installed faster-whisper package."""
    folder = package_dir("faster_whisper")
    hint = "Run `bash scripts/setup.sh` (or `pip install faster-whisper==1.2.1` in the project's .venv)."
    if folder is None:
        raise DependencyError("The VAD needs the faster-whisper package, which is not installed.", hint=hint)
    path = folder / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"The Silero VAD model {path} is missing from faster-whisper.", hint=hint)
    return path


class SileroVAD:
    """Speech probability per 32 ms frame of 16 kHz mono audio."""

    sample_rate: int = 16000
    frame_samples: int = 512

    def __init__(self, settings: SileroOptions) -> None:
        import onnxruntime

        self.settings = settings
        self.model_path = silero_model_path()
        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.enable_cpu_mem_arena = False
        options.log_severity_level = 4
        try:
            self._session = onnxruntime.InferenceSession(
                str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own Fail/InvalidProtobuf types
            raise ModelError(
                f"Cannot load the Silero VAD model {self.model_path}: {err}",
                hint="Reinstall faster-whisper: run `bash scripts/setup.sh`.",
            ) from err
        self._version = onnxruntime.__version__
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros(STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(STATE_SHAPE, dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)

    def confidence(self, frame: np.ndarray) -> float:
        """Speech probability (0..1) of one frame of 512 float32 samples at 16 kHz.

        int16 frames are accepted and scaled to [-1, 1].
        """
        samples = np.asarray(frame)
        if samples.ndim != 1 or samples.shape[0] != self.frame_samples:
            raise AudioInputError(
                f"The VAD needs frames of {self.frame_samples} mono samples; got shape {samples.shape}.",
                hint=f"Cut 16 kHz mono audio into windows of {self.frame_samples} samples (32 ms).",
            )
        if samples.dtype == np.int16:
            samples = samples.astype(np.float32) / 32768.0
        else:
            samples = samples.astype(np.float32, copy=False)
        window = np.concatenate([self._context, samples])[np.newaxis, :]
        output, self._h, self._c = self._session.run(None, {"input": window, "h": self._h, "c": self._c})
        self._context = samples[-CONTEXT_SAMPLES:].copy()
        return float(np.asarray(output).reshape(-1)[0])

    def info(self) -> EngineInfo:
        return EngineInfo(
            role="vad",
            name="silero",
            model="Silero VAD v6 (from faster-whisper)",
            model_path=str(self.model_path),
            version=f"onnxruntime {self._version}",
            device="cpu",
            device_reason="a 32 ms frame takes well under a millisecond on one CPU thread",
            details={"threshold": str(self.settings.threshold)},
        )
