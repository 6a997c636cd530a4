"""Voice latency benchmark: spoken questions played as a real-time virtual microphone through the real pipeline.

Reports, as JSON, p50/p95 of end of user speech -> first reply audio sample, the split per stage
(VAD hang-over, ASR, LLM first token, first sentence, TTS first chunk), and peak RSS.

    .venv/bin/python bench/voice_latency.py [--runs 2] [--out bench/results/voice_latency.json]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import cpu_model, write_report  # bench/_common.py (run as a script: bench/ is on the path)

from app.core.assembly import build_engines
from app.core.audio_io import ASR_RATE, FileAudioSink, FileAudioSource
from app.core.config import Settings
from app.core.events import Event, SpeechChunk, SpeechEnded, Token
from app.core.pipeline import Pipeline
from app.store import Store


class MemoryHistory:
    """Warm-up stores nothing; this satisfies the pipeline's store interface without a database."""

    def create_conversation(self, title: str | None = None) -> int:
        return 0

    def add_message(self, *args: object, **kwargs: object) -> int:
        return 0


QUESTIONS = [
    "What is the capital of France?",
    "How many days are in a week?",
    "Can you recommend a good book?",
    "What should I cook for dinner tonight?",
    "Why is the sky blue?",
    "Tell me something about the moon.",
]
LEAD_S, TAIL_S = 0.4, 1.5


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 3) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="passes over the question set")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "voice_latency.json"))
    args = parser.parse_args()

    settings = Settings()
    t0 = time.monotonic()
    engines = build_engines(settings)
    load_s = time.monotonic() - t0
    voice = engines.tts
    assert voice is not None

    def speak(text: str) -> np.ndarray:
        pcm = np.concatenate([c.pcm for c in voice.synthesize(text)])
        x = np.arange(0, len(pcm), voice.sample_rate / ASR_RATE)
        return np.interp(x, np.arange(len(pcm)), pcm).astype(np.float32)

    clips = {q: speak(q) for q in QUESTIONS}
    warm = Pipeline(engines, settings, MemoryHistory())
    asyncio.run(warm.warm_up())
    warm.close()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        for run in range(args.runs + 1):  # run 0 warms up caches and is not counted
            for question, clip in clips.items():
                events: list[Event] = []
                sink = FileAudioSink(realtime=True)
                pipeline = Pipeline(engines, settings, store, sink=sink, on_event=events.append)
                mic = np.concatenate([np.zeros(int(LEAD_S * ASR_RATE), np.float32), clip,
                                      np.zeros(int(TAIL_S * ASR_RATE), np.float32)])
                source = FileAudioSource.from_array(mic, realtime=True)
                results = asyncio.run(pipeline.listen(source, max_turns=1, barge_in=False))
                pipeline.close()
                if run == 0 or not results or source.started_at is None:
                    continue
                speech_end = source.started_at + LEAD_S + len(clip) / ASR_RATE
                ended = next(e for e in events if isinstance(e, SpeechEnded))
                first_audio = next((e for e in events if isinstance(e, SpeechChunk)), None)
                first_token = next((e for e in events if isinstance(e, Token)), None)
                timings = results[0].timings
                rows.append({
                    "question": question,
                    "transcript": results[0].user_text,
                    "reply": results[0].reply_text,
                    "end_of_speech_to_first_audio_s": round(first_audio.t - speech_end, 3) if first_audio else None,
                    "vad_hangover_s": round(ended.t - speech_end, 3),
                    "asr_s": timings.get("asr_s"),
                    "llm_first_token_s": timings.get("llm_first_token_s"),
                    "first_sentence_s": round(timings["first_sentence_s"] - timings["first_token_s"], 3)
                    if "first_sentence_s" in timings and first_token else None,
                    "tts_first_chunk_s": timings.get("tts_first_chunk_s"),
                })

    def stat(key: str) -> dict[str, float]:
        values = [r[key] for r in rows if r.get(key) is not None]
        return {"p50": percentile(values, 50), "p95": percentile(values, 95)}

    report = {
        "benchmark": "voice_latency",
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                    "python": platform.python_version(), "gpu": "none"},
        "models": {"llm": settings.llm.model, "asr": settings.asr.model, "tts": settings.tts.voice},
        "turns": len(rows),
        "engine_load_s": round(load_s, 2),
        "end_of_speech_to_first_audio_s": stat("end_of_speech_to_first_audio_s"),
        "split": {k: stat(k) for k in ("vad_hangover_s", "asr_s", "llm_first_token_s", "first_sentence_s",
                                       "tts_first_chunk_s")},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "turns_detail": rows,
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
