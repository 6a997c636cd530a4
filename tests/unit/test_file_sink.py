import time

import numpy as np

from app.core.audio_io import FileAudioSink
from engines.base import AudioChunk

RATE = 16_000


def tone(seconds: float) -> AudioChunk:
    return AudioChunk(pcm=np.full(int(seconds * RATE), 0.5, np.float32), sample_rate=RATE, text="x")


def test_realtime_clock_keeps_running_through_silence_like_a_sound_card() -> None:
    sink = FileAudioSink(realtime=True)
    sink.play(tone(0.1))
    time.sleep(0.3)
    assert sink.audible_time() > 0.25  # not frozen at the end of the audio
    gap_starts = sink.audible_time()
    sink.play(tone(0.1))  # starts now, after a stretch of silence
    sink.drain(timeout=2)
    audio = sink.audio
    assert abs(len(audio) / RATE - (gap_starts + 0.1)) < 0.05
    silent = audio[int(0.12 * RATE) : int(0.25 * RATE)]
    assert np.all(silent == 0)  # the gap is silence in the recording


def test_stop_keeps_only_what_was_heard() -> None:
    sink = FileAudioSink(realtime=True)
    sink.play(tone(2.0))
    time.sleep(0.4)
    sink.stop()
    assert 0.3 < len(sink.audio) / RATE < 0.7


def test_offline_sink_clock_is_the_audio_written() -> None:
    sink = FileAudioSink()
    sink.play(tone(1.0))
    assert sink.audible_time() == 1.0
