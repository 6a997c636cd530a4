"""edge-tts: fails fast and clearly offline; its MP3 decoding works (checked with a local MP3)."""

from __future__ import annotations

import io
import time

import av
import numpy as np
import pytest

from app.core.config import TTSSettings
from app.core.errors import EngineError, NetworkError
from engines.tts.edge import EdgeTTS, decode_mp3


@pytest.mark.usefixtures("no_network")
def test_offline_fails_fast_with_network_error() -> None:
    tts = EdgeTTS(TTSSettings(engine="edge-tts", edge_timeout_s=5.0))
    started = time.monotonic()
    with pytest.raises(NetworkError) as caught:
        list(tts.synthesize("Hello there."))
    assert time.monotonic() - started < 2.0
    assert "Piper" in (caught.value.hint or "")
    assert caught.value.retryable


def _mp3_sine(freq: float, seconds: float, rate: int = 24000) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3") as container:
        stream = container.add_stream("mp3", rate=rate)
        stream.layout = "mono"
        t = np.arange(int(seconds * rate)) / rate
        pcm = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        for start in range(0, len(pcm), 1152):
            frame = av.AudioFrame.from_ndarray(pcm[np.newaxis, start : start + 1152], format="flt", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def test_mp3_is_decoded_to_float_mono_at_24k() -> None:
    pcm = decode_mp3(_mp3_sine(440.0, 1.0))
    assert pcm.dtype == np.float32 and pcm.ndim == 1
    assert abs(len(pcm) / 24000 - 1.0) < 0.1
    spectrum = np.abs(np.fft.rfft(pcm))
    peak_hz = np.argmax(spectrum) * 24000 / len(pcm)
    assert abs(peak_hz - 440.0) < 5


def test_garbage_audio_is_an_engine_error() -> None:
    with pytest.raises(EngineError):
        decode_mp3(b"this is not an mp3 at all" * 100)


def test_info_says_it_needs_the_network() -> None:
    info = EdgeTTS(TTSSettings()).info()
    assert info.device == "cloud" and "network" in info.device_reason
