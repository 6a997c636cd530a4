"""Offline speech with Piper (piper-tts 1.8): one audio chunk per sentence, with phoneme timings.

When the voice was patched for alignments (``visage setup-models`` does it for the shipped voice),
each chunk carries per-phoneme timings from Piper itself (``timing_source="piper-alignment"``), which
drive the avatar's lips. An unpatched voice gets espeak-ng's phoneme events stretched onto its audio
(``timing_source="espeak"``); without espeak-ng, ``phonemes=None`` and the avatar falls back to loudness.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from importlib import metadata
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from engines.base import AudioChunk, EngineInfo, PhonemeTiming
from engines.errors import ModelError, VisageError
from engines.models import SHIPPED_VOICES, resolve_voice
from engines.tts.alignment import alignments_to_timings
from engines.tts.text import split_sentences

if TYPE_CHECKING:
    from engines.tts.espeak_timing import EspeakTimer

log = logging.getLogger(__name__)


class PiperOptions(Protocol):
    """The ``[tts]`` settings this adapter reads (the app's ``TTSSettings`` has them and is passed as is)."""

    voice: str
    length_scale: float


class PiperTTS:
    """Piper voice; ``synthesize`` yields float32 mono chunks at the voice's sample rate."""

    def __init__(self, settings: PiperOptions, *, deterministic: bool = False) -> None:
        """``deterministic``: no sampling noise, so the same text always gives the same audio (for tests and
        benchmarks that must compare like with like; the app keeps Piper's natural variation)."""
        from piper import PiperVoice, SynthesisConfig

        self.settings = settings
        self.voice_path = resolve_voice(self.settings.voice)
        try:
            self._voice = PiperVoice.load(self.voice_path)
        except Exception as err:  # onnxruntime raises its own exception types for a bad file
            raise ModelError(
                f"Piper cannot load the voice {self.voice_path}: {err}",
                hint='Run `bash scripts/setup.sh` again, or set [tts] voice = "/path/to/voice.onnx" '
                "(with its .onnx.json beside it) in config.toml.",
            ) from err
        self.sample_rate = int(self._voice.config.sample_rate)
        #: a voice patched with piper.patch_voice_with_alignment has a second output (phoneme widths)
        self.has_alignments = len(self._voice.session.get_outputs()) >= 2
        self._espeak: EspeakTimer | Literal[False] | None = None  # the timing fallback, made on first use
        voice_scale = float(self._voice.config.length_scale or 1.0)
        noise = {"noise_scale": 0.0, "noise_w_scale": 0.0} if deterministic else {}
        self._syn_config = SynthesisConfig(length_scale=voice_scale * self.settings.length_scale, **noise)
        log.info(
            "Loaded Piper voice %s (%d Hz, alignments: %s)", self.voice_path.name, self.sample_rate,
            self.has_alignments,
        )

    def synthesize(self, text: str, *, cancel: threading.Event | None = None) -> Iterator[AudioChunk]:
        """One chunk per sentence of ``text`` (none for blank text); stops between sentences on ``cancel``."""
        for sentence in split_sentences(text):
            if cancel is not None and cancel.is_set():
                return
            chunk = self._synthesize_sentence(sentence, cancel)
            if chunk is not None:
                yield chunk

    def _synthesize_sentence(self, sentence: str, cancel: threading.Event | None) -> AudioChunk | None:
        pieces: list[np.ndarray] = []
        timings: list[PhonemeTiming] = []
        aligned = self.has_alignments
        offset = 0
        parts = self._voice.synthesize(sentence, syn_config=self._syn_config, include_alignments=aligned)
        try:
            # espeak may split one of our sentences further: join its pieces into one chunk
            for part in parts:
                if cancel is not None and cancel.is_set():
                    return None
                audio = np.asarray(part.audio_float_array, dtype=np.float32).reshape(-1)
                if aligned and part.phoneme_alignments:
                    pairs = [(a.phoneme, int(a.num_samples)) for a in part.phoneme_alignments]
                    local = alignments_to_timings(pairs, self.sample_rate)
                    shift = offset / self.sample_rate
                    timings.extend(PhonemeTiming(t.phoneme, t.start + shift, t.duration) for t in local)
                elif aligned:
                    log.warning("Piper gave no alignment for %r; this chunk has no phoneme timings", sentence)
                    aligned = False
                pieces.append(audio)
                offset += len(audio)
        finally:
            parts.close()  # type: ignore[attr-defined]
        if not pieces:
            return None
        pcm = np.concatenate(pieces)
        if aligned:
            return AudioChunk(pcm=pcm, sample_rate=self.sample_rate, text=sentence, phonemes=tuple(timings),
                              timing_source="piper-alignment")
        fallback = self._espeak_timings(sentence, pcm)
        return AudioChunk(pcm=pcm, sample_rate=self.sample_rate, text=sentence, phonemes=fallback,
                          timing_source="espeak" if fallback else None)

    def _espeak_timings(self, sentence: str, pcm: np.ndarray) -> tuple[PhonemeTiming, ...] | None:
        """espeak-ng's phoneme events fitted to this audio, or None when espeak-ng is missing."""
        from engines.tts.espeak_timing import EspeakTimer, fit_to_audio

        if self._espeak is False:
            return None
        try:
            if self._espeak is None:
                voice = str(self._voice.config.espeak_voice or "en-us")
                self._espeak = EspeakTimer(voice)
            return fit_to_audio(self._espeak.timings(sentence), pcm, self.sample_rate) or None
        except VisageError as err:
            log.warning("%s", err)
            self._espeak = False
            return None

    def info(self) -> EngineInfo:
        name = self.settings.voice if self.settings.voice in SHIPPED_VOICES else self.voice_path.stem
        return EngineInfo(
            role="tts",
            name="piper",
            model=f"Piper voice {name}",
            model_path=str(self.voice_path),
            version=f"piper-tts {metadata.version('piper-tts')}",
            device="cpu",
            device_reason="Piper runs faster than real time on one CPU core",
            details={
                "sample_rate": str(self.sample_rate),
                "phoneme_alignments": "yes" if self.has_alignments else
                "no (unpatched voice: lip-sync from espeak-ng timings; `visage setup-models` makes it precise)",
                "length_scale": str(self.settings.length_scale),
            },
        )
