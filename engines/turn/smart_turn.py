"""Semantic end-of-turn detection with Smart Turn v3.2 (ONNX, onnxruntime, CPU).

The model hears the last ≤ 8 s of the user's utterance and says how likely the speaker has finished
(intonation, grammar, filler words), so a pause mid-sentence need not end the turn. One call costs
~30–40 ms on one 2-core-VM thread. The caller (the segmenter) decides what to do with the number:
a short hang-over when it is high, a longer one when it is low.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from engines.base import EngineInfo
from engines.errors import AudioInputError, ModelError
from engines.turn import features
from engines.turn.model_file import SOURCE, resolve_smart_turn

log = logging.getLogger(__name__)

#: below this much audio there is nothing to judge (the model would see 8 s of near silence)
MIN_SAMPLES = features.SAMPLE_RATE // 10


class SmartTurnDetector:
    """``complete_probability(audio)`` → P(the speaker has finished their turn), in [0, 1]."""

    sample_rate: int = features.SAMPLE_RATE
    #: the model's own decision threshold (pipecat's): above it the turn counts as complete
    threshold: float = 0.5

    def __init__(self, model_path: Path | None = None, *, threads: int = 1) -> None:
        import onnxruntime

        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self.model_path = model_path if model_path is not None else resolve_smart_turn()
        self.threads = threads
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # 0 would mean one per core: explicit, the pipeline shares 2 cores
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(
                str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime's own InvalidProtobuf/Fail types
            raise ModelError(
                f"onnxruntime cannot load the end-of-turn model {self.model_path}: {err}",
                hint="The file is damaged: run `visage setup-models` again.",
            ) from None
        self._input = self._session.get_inputs()[0].name
        self._version = onnxruntime.__version__
        log.info("Loaded Smart Turn from %s (%d thread)", self.model_path, threads)

    def complete_probability(self, audio_16k: np.ndarray) -> float:
        """Probability that the utterance in ``audio_16k`` (mono, 16 kHz, float32 or int16) is complete.

        Only the last 8 s count. Pass the utterance up to now, trailing silence included or not (the
        model was trained on speech ending at the cut; a few hundred ms of silence do not change much).
        """
        samples = np.asarray(audio_16k)
        if samples.ndim != 1:
            raise AudioInputError(
                f"End-of-turn detection needs mono audio; got an array of shape {samples.shape}.",
                hint="Mix the channels down to one first.",
            )
        if samples.size < MIN_SAMPLES:
            raise AudioInputError(
                f"End-of-turn detection needs at least 0.1 s of audio; got {samples.size} samples.",
                hint="Call it once the utterance has started.",
            )
        if samples.dtype == np.int16:
            samples = samples.astype(np.float32) / 32768.0
        mel = features.log_mel(features.last_window(samples))
        (out,) = self._session.run(None, {self._input: mel[np.newaxis]})[:1]
        return float(np.clip(np.asarray(out).reshape(-1)[0], 0.0, 1.0))

    def is_complete(self, audio_16k: np.ndarray) -> bool:
        return self.complete_probability(audio_16k) > self.threshold

    def info(self) -> EngineInfo:
        return EngineInfo(
            role="turn",
            name="smart-turn",
            model="Smart Turn v3.2 (CPU)",
            model_path=str(self.model_path),
            version=f"onnxruntime {self._version}",
            device="cpu",
            device_reason="the end-of-turn model is small: one CPU thread is enough",
            details={"threads": str(self.threads), "source": SOURCE},
        )
