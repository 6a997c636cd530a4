"""Avatar frame rate sustained while real voice turns run on the same cores, and whether audio stalls.

A render thread draws the default character at 30 fps, sampling the viseme track at the speaker clock
(plus the 20 ms video lead), exactly as the desktop widget does, while the real pipeline (VAD, whisper,
llama.cpp, Piper) answers spoken questions through a real-time virtual microphone and speaker. Prints JSON:

    .venv/bin/python bench/avatar_during_turn.py [--turns 3] [--out bench/results/avatar_during_turn.json]

"Audio stalls" are gaps of silence the speaker had to play inside a reply because TTS did not keep up.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import threading
import time
from pathlib import Path

import numpy as np
from _common import write_report  # bench/_common.py (run as a script: bench/ is on the path)

from app.core.assembly import build_engines
from app.core.audio_io import ASR_RATE, FileAudioSink, FileAudioSource
from app.core.config import Settings
from app.core.events import Event, SpeechChunk, TurnFinished
from app.core.pipeline import Pipeline
from engines.avatar.character import CartoonAvatar
from engines.avatar.clip import DEFAULT_LEAD_S
from engines.avatar.visemes import VisemeTrack

QUESTIONS = ["Tell me about the moon.", "What should I cook for dinner tonight?", "Why is the sky blue?"]
FPS = 30


class NullHistory:
    def create_conversation(self, title: str | None = None) -> int:
        return 0

    def add_message(self, *args: object, **kwargs: object) -> int:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "avatar_during_turn.json"))
    args = parser.parse_args()

    settings = Settings()
    engines = build_engines(settings)
    assert engines.tts is not None
    sink = FileAudioSink(realtime=True)
    track = VisemeTrack()
    lock = threading.Lock()
    spans: list[tuple[float, float]] = []  # (start, end) of each chunk on the speaker clock

    def on_event(event: Event) -> None:
        if isinstance(event, SpeechChunk):
            start = max(spans[-1][1] if spans else 0.0, sink.audible_time())
            with lock:
                track.add_chunk(event.chunk, start)
            spans.append((start, start + event.chunk.duration))

    pipeline = Pipeline(engines, settings, NullHistory(), sink=sink, on_event=on_event)
    asyncio.run(pipeline.warm_up())

    def speak(text: str) -> np.ndarray:
        pcm = np.concatenate([c.pcm for c in engines.tts.synthesize(text)])  # type: ignore[union-attr]
        x = np.arange(0, len(pcm), engines.tts.sample_rate / ASR_RATE)  # type: ignore[union-attr]
        return np.interp(x, np.arange(len(pcm)), pcm).astype(np.float32)

    clips = [speak(q) for q in QUESTIONS[: args.turns]]
    stop = threading.Event()
    frame_ms: list[float] = []
    late_frames = 0

    def render_loop() -> None:
        nonlocal late_frames
        avatar = CartoonAvatar(512)
        start = time.perf_counter()
        k = 0
        while not stop.is_set():
            due = start + k / FPS
            now = time.perf_counter()
            if now < due:
                time.sleep(due - now)
            elif now - due > 1 / FPS:
                late_frames += 1
            t0 = time.perf_counter()
            with lock:
                mouth = track.sample(sink.audible_time() + DEFAULT_LEAD_S)
            avatar.render(mouth, k / FPS)
            frame_ms.append((time.perf_counter() - t0) * 1e3)
            k += 1

    renderer = threading.Thread(target=render_loop, name="render", daemon=True)
    wall0 = time.perf_counter()
    renderer.start()
    finished: list[TurnFinished] = []
    for clip in clips:
        mic = np.concatenate([np.zeros(6400, np.float32), clip, np.zeros(int(1.2 * ASR_RATE), np.float32)])
        finished += asyncio.run(pipeline.listen(FileAudioSource.from_array(mic, realtime=True), max_turns=1,
                                                barge_in=False))
        sink.drain(timeout=60)
    stop.set()
    renderer.join()
    wall = time.perf_counter() - wall0
    pipeline.close()

    # Stalls: silence between consecutive chunks of one reply (a new reply may start after a pause).
    stalls = [b[0] - a[1] for a, b in itertools.pairwise(spans) if 0.01 < b[0] - a[1] < 1.0]
    ms = np.array(frame_ms)
    report = {
        "benchmark": "avatar_during_turn",
        "machine": {"cores": os.cpu_count(), "gpu": "none"},
        "turns": len(finished),
        "wall_s": round(wall, 2),
        "frames": len(frame_ms),
        "fps_sustained": round(len(frame_ms) / wall, 1),
        "late_frames": late_frames,
        "frame_ms": {"mean": round(float(ms.mean()), 2), "p95": round(float(np.percentile(ms, 95)), 2),
                     "max": round(float(ms.max()), 2)},
        "reply_audio_s": round(sum(b - a for a, b in spans), 2),
        "audio_stalls": len(stalls),
        "audio_stall_s": round(float(sum(stalls)), 3),
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
