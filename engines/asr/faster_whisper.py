"""Speech recognition with faster-whisper (CTranslate2), from a local model folder only.

By default an utterance is decoded on its real length (:mod:`engines.asr.trimmed`, 3-4x faster than
Whisper's 30 s window); when the guard distrusts that result, faster-whisper's padded ``transcribe()`` runs
and the result says so (``TranscriptResult.decode`` / ``fallback_reason``). ``[asr] trim_padding = false``
always takes the padded pass.
"""

from __future__ import annotations

import logging
import os
from typing import Protocol

import numpy as np

from engines.asr import trimmed
from engines.base import EngineInfo, TranscriptResult
from engines.errors import AudioInputError, ConfigError, ModelError
from engines.models import resolve_asr

log = logging.getLogger(__name__)


class WhisperOptions(Protocol):
    """The ``[asr]`` settings this adapter reads (the app's ``ASRSettings`` has them and is passed as is)."""

    model: str
    language: str | None
    compute_type: str
    beam_size: int
    cpu_threads: int
    trim_padding: bool

    @property
    def device(self) -> str:  # read-only here: the app's field is the narrower Literal["auto", "cpu", "cuda"]
        ...


def cuda_device_count() -> int:
    """CUDA devices CTranslate2 can use (0 on a CPU-only build or machine)."""
    import ctranslate2

    try:
        return int(ctranslate2.get_cuda_device_count())
    except Exception as err:  # a broken CUDA driver must not stop CPU use
        log.warning("CTranslate2 could not count CUDA devices: %s", err)
        return 0


def choose_device(setting: str) -> tuple[str, str]:
    """(device, reason) for the ``[asr] device`` setting."""
    count = cuda_device_count()
    if setting == "cpu":
        return "cpu", "[asr] device = \"cpu\" in the settings"
    if setting == "cuda":
        if count == 0:
            raise ConfigError(
                "[asr] device = \"cuda\" but CTranslate2 finds no CUDA GPU on this machine.",
                hint='Set [asr] device = "auto" (or "cpu") in config.toml.',
            )
        return "cuda", "[asr] device = \"cuda\" in the settings"
    if count > 0:
        return "cuda", f"auto: CTranslate2 reports {count} CUDA device(s)"
    return "cpu", "auto: CTranslate2 reports no CUDA device"


class FasterWhisperASR:
    """Transcribes a whole utterance (mono float32 at 16 kHz) in one call."""

    sample_rate: int = 16000

    def __init__(self, settings: WhisperOptions) -> None:
        import faster_whisper

        self.settings = settings
        self.model_path = resolve_asr(self.settings.model)
        self.device, self.device_reason = choose_device(self.settings.device)
        self.cpu_threads = self.settings.cpu_threads or os.cpu_count() or 1
        self._version = faster_whisper.__version__
        try:
            self._model = faster_whisper.WhisperModel(
                str(self.model_path),
                device=self.device,
                compute_type=self.settings.compute_type,
                cpu_threads=self.cpu_threads,
                local_files_only=True,
            )
        except ValueError as err:
            if "compute type" in str(err).lower():
                raise ConfigError(
                    f"[asr] compute_type = \"{self.settings.compute_type}\" does not work here: {err}",
                    hint='Set [asr] compute_type = "float32" (or "int8") in config.toml.',
                ) from err
            raise self._load_error(err) from err
        except RuntimeError as err:
            raise self._load_error(err) from err
        self.multilingual = bool(self._model.model.is_multilingual)
        log.info("Loaded faster-whisper %s on %s (%s)", self.model_path, self.device, self.device_reason)

    def _load_error(self, err: Exception) -> ModelError:
        return ModelError(
            f"faster-whisper cannot load the model in {self.model_path}: {err}",
            hint="The model files are damaged: run `bash scripts/setup.sh` again, or set "
            '[asr] model = "/path/to/faster-whisper-model-folder" in config.toml.',
        )

    def transcribe(self, audio: np.ndarray) -> TranscriptResult:
        samples = np.asarray(audio)
        if samples.ndim != 1:
            raise AudioInputError(
                f"Speech recognition needs mono audio; got an array of shape {samples.shape}.",
                hint="Mix the channels down to one before transcribing.",
            )
        if samples.size == 0:
            raise AudioInputError("There is no audio to transcribe.", hint="Record or load some speech first.")
        if samples.dtype == np.int16:
            samples = samples.astype(np.float32) / 32768.0
        else:
            samples = samples.astype(np.float32, copy=False)
        duration_s = samples.size / self.sample_rate
        reason: str | None = None
        if self.settings.trim_padding and duration_s <= trimmed.MAX_TRIMMED_S:
            decoded = trimmed.decode_trimmed(
                self._model, samples, language=self.settings.language, beam_size=self.settings.beam_size
            )
            reason = trimmed.distrust(decoded, duration_s)
            if reason is None:
                return TranscriptResult(
                    text=decoded.text, language=decoded.language, segments=((0.0, duration_s, decoded.text),),
                    decode="trimmed",
                )
            log.info("Whisper's trimmed pass is not trusted (%s): decoding the padded 30 s window", reason)
        return self._padded(samples, fallback_reason=reason)

    def _padded(self, samples: np.ndarray, *, fallback_reason: str | None = None) -> TranscriptResult:
        """faster-whisper's own transcribe(): the audio padded to Whisper's 30 s window."""
        segments, info = self._model.transcribe(
            samples,
            language=self.settings.language,  # None = detect; English-only models always use "en"
            beam_size=self.settings.beam_size,
            condition_on_previous_text=False,
            vad_filter=False,  # our own VAD already cut the utterance
            without_timestamps=True,  # one short utterance: timestamps cost decode steps and are unused
            temperature=0.0,  # no temperature-fallback re-decodes: a second pass costs more than it fixes here
        )
        # drain the lazy generator HERE, in the caller's worker thread
        parts = tuple((float(s.start), float(s.end), s.text.strip()) for s in segments)
        text = " ".join(p[2] for p in parts if p[2]).strip()
        return TranscriptResult(text=text, language=info.language, segments=parts, fallback_reason=fallback_reason)

    def transcribe_file(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        prompt: str | None = None,
        timestamps: bool = False,
        temperature: float = 0.0,
    ) -> TranscriptResult:
        """A whole recording of any length (the local API's ``/v1/audio/transcriptions``): faster-whisper's own
        windowed decoding, with segment times when ``timestamps``. ``language`` None = the ``[asr]`` setting."""
        samples = np.asarray(audio, dtype=np.float32)
        if samples.ndim != 1 or samples.size == 0:
            raise AudioInputError("There is no mono audio to transcribe.", hint="Send a recording with speech in it.")
        language = language or self.settings.language
        if language and language != "en" and not self.multilingual:
            raise ConfigError(
                f"The speech recognizer {self.model_path.name} understands English only, not {language!r}.",
                hint='Leave the language out, or set [asr] model = "base" (multilingual).',
            )
        try:
            segments, info = self._model.transcribe(
                samples, language=language, beam_size=self.settings.beam_size, initial_prompt=prompt or None,
                condition_on_previous_text=False, vad_filter=False, without_timestamps=not timestamps,
                temperature=temperature,
            )
            parts = tuple((float(s.start), float(s.end), s.text.strip()) for s in segments)  # drained here
        except ValueError as err:  # faster-whisper: "'xx' is not a valid language code"
            raise ConfigError(f"Cannot transcribe with these options: {err}.",
                              hint="Use an ISO 639-1 language code such as en, de or fr.") from None
        text = " ".join(p[2] for p in parts if p[2]).strip()
        return TranscriptResult(text=text, language=info.language, segments=parts)

    def info(self) -> EngineInfo:
        import ctranslate2

        return EngineInfo(
            role="asr",
            name="faster-whisper",
            model=f"whisper {self.settings.model}" if "/" not in self.settings.model else self.model_path.name,
            model_path=str(self.model_path),
            version=f"faster-whisper {self._version}, ctranslate2 {ctranslate2.__version__}",
            device=self.device,
            device_reason=self.device_reason,
            details={
                "compute_type": self.settings.compute_type,
                "beam_size": str(self.settings.beam_size),
                "cpu_threads": str(self.cpu_threads),
                "multilingual": str(self.multilingual),
                "trim_padding": str(self.settings.trim_padding),
            },
        )
