"""Whisper's log-mel spectrogram in numpy, as the Smart Turn v3 model expects it.

Smart Turn v3 is a Whisper-tiny encoder with a classification head; it was trained on the features of
``transformers.WhisperFeatureExtractor(chunk_length=8)`` with ``do_normalize=True``. The parameters
below are Whisper's (25 ms Hann window, 10 ms hop, 80 Slaney mel bands up to 8 kHz, log10 with an
8-decade floor, scaled by ``(x + 4) / 4``), plus the zero-mean unit-variance waveform normalisation
that the Hugging Face extractor applies first. Written here from those published parameters so the
app needs neither ``transformers`` nor ``pipecat``.
"""

from __future__ import annotations

import functools

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 80
WINDOW_S = 8
WINDOW_SAMPLES = WINDOW_S * SAMPLE_RATE  # the model sees exactly this many samples
N_FRAMES = WINDOW_SAMPLES // HOP  # 800


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above (librosa's default, htk=False)."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz * 3.0 / 200.0
    log_step = np.log(6.4) / 27.0
    return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-12) / 1000.0) / log_step, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    log_step = np.log(6.4) / 27.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(log_step * (mel - 15.0)), mel * 200.0 / 3.0)


@functools.cache
def mel_filters() -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) triangular filters with Slaney area normalisation (read-only)."""
    fft_hz = np.linspace(0.0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges_hz = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    lower, centre, upper = edges_hz[:-2, None], edges_hz[1:-1, None], edges_hz[2:, None]
    rising = (fft_hz[None, :] - lower) / (centre - lower)
    falling = (upper - fft_hz[None, :]) / (upper - centre)
    filters = np.maximum(0.0, np.minimum(rising, falling))
    filters *= (2.0 / (upper - lower))  # each band has the same area
    filters.setflags(write=False)
    return filters


@functools.cache
def _hann() -> np.ndarray:
    window = np.hanning(N_FFT + 1)[:-1]  # periodic, like torch.hann_window
    window.setflags(write=False)
    return window


def last_window(audio: np.ndarray) -> np.ndarray:
    """The last 8 s of ``audio``, left-padded with zeros when shorter (the turn's END matters)."""
    samples = np.asarray(audio, dtype=np.float32).reshape(-1)
    if samples.size >= WINDOW_SAMPLES:
        return samples[-WINDOW_SAMPLES:]
    return np.concatenate([np.zeros(WINDOW_SAMPLES - samples.size, np.float32), samples])


def log_mel(window: np.ndarray) -> np.ndarray:
    """(N_MELS, N_FRAMES) float32 features of exactly WINDOW_SAMPLES samples of 16 kHz audio."""
    x = np.asarray(window, dtype=np.float32)
    if x.shape != (WINDOW_SAMPLES,):
        raise ValueError(f"log_mel needs {WINDOW_SAMPLES} samples, got an array of shape {x.shape}")
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    padded = np.pad(x.astype(np.float64), N_FFT // 2, mode="reflect")  # centred frames
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    power = np.abs(np.fft.rfft(frames * _hann(), axis=-1)) ** 2  # (frames, bins)
    mel = np.log10(np.maximum(power @ mel_filters().T, 1e-10)).T[:, :N_FRAMES]  # drop the last frame
    mel = np.maximum(mel, mel.max() - 8.0)
    return ((mel + 4.0) / 4.0).astype(np.float32)
