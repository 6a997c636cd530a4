"""Real speech and audio utilities for tests (no fakes): Piper speech, espeak-ng speech, resampling, WAV."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np

ASR_RATE = 16000


@functools.cache
def _piper() -> Any:
    from app.core.config import TTSSettings
    from engines.tts.piper import PiperTTS

    return PiperTTS(TTSSettings())


@functools.cache
def fixed_piper() -> Any:
    """The shipped voice without sampling noise: the same text is the same audio in every run, so a test's
    bounds hold for the audio they were measured on (the bench measures across natural takes)."""
    from app.core.config import TTSSettings
    from engines.tts.piper import PiperTTS

    return PiperTTS(TTSSettings(), deterministic=True)


def speak_with_piper(text: str, sample_rate: int = ASR_RATE) -> np.ndarray:
    """``text`` spoken by the shipped Piper voice, mono float32 at ``sample_rate`` (16 kHz by default)."""
    tts = _piper()
    pcm = np.concatenate([chunk.pcm for chunk in tts.synthesize(text)])
    # resampling rings a little above full scale: keep the result a valid [-1, 1] signal
    return np.clip(resample(pcm, tts.sample_rate, sample_rate), -1.0, 1.0)


def resample(pcm: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """Band-limited resampling of mono float32 audio with FFmpeg's swresample (PyAV)."""
    import av

    pcm = np.ascontiguousarray(pcm, dtype=np.float32).reshape(-1)
    if sr_from == sr_to or pcm.size == 0:
        return pcm.copy()
    frame = av.AudioFrame.from_ndarray(pcm[np.newaxis, :], format="flt", layout="mono")
    frame.sample_rate = sr_from
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sr_to)
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(out).astype(np.float32, copy=False)


def espeak_clip(text: str, sample_rate: int = ASR_RATE, *, voice: str | None = None) -> np.ndarray | None:
    """``text`` spoken by the system's espeak-ng (a different voice than Piper), or None if not installed.
    ``voice``: an espeak-ng voice or accent such as ``en-gb``, ``en-us``, ``en-sc``."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "espeak.wav"
        subprocess.run([exe, *(("-v", voice) if voice else ()), "-w", str(path), text], check=True,
                       capture_output=True)
        pcm, rate = read_wav(path)
    return np.clip(resample(pcm, rate, sample_rate), -1.0, 1.0)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit PCM WAV file as mono float32 and its sample rate."""
    with wave.open(str(path), "rb") as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        data = wav.readframes(wav.getnframes())
    if width != 2:
        raise ValueError(f"{path}: only 16-bit WAV is supported, got {8 * width}-bit")
    pcm = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    return pcm.reshape(-1, channels).mean(axis=1), rate


def write_wav(path: Path, pcm: np.ndarray, sr: int) -> Path:
    """Write mono float32 PCM in [-1, 1] as a 16-bit WAV file."""
    data = (np.clip(np.asarray(pcm, dtype=np.float32), -1.0, 1.0) * 32767.0).astype("<i2")
    path = Path(path)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sr)
        wav.writeframes(data.tobytes())
    return path


def frames(pcm: np.ndarray, size: int = 512) -> list[np.ndarray]:
    """Cut audio into whole frames of ``size`` samples (the tail is dropped)."""
    return [pcm[i : i + size] for i in range(0, len(pcm) - size + 1, size)]
