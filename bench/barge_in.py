"""Barge-in on a real sound server: how fast talking over Visage stops it, and whether the question is answered
whole — with and without an echo path (the speakers heard by the microphone, as on a laptop).

PulseAudio in user mode with null sinks (tests/live_audio/pulse.py), `visage listen --json` with the app's real
sounddevice backend, questions in espeak-ng voices played into the microphone sink with `paplay`, the speakers
recorded from their monitor with `parec`. Each trial: a long request, then 2 s into the reply a question over
it. Reported per condition: the time from the user's first sound to the end of playback on the speakers (p50,
p95, max), the share of interruptions answered whole (every word of the question in the transcript), the share
whose answer was heard to its end (not cut off, by its own echo or anything else), how often a reply stopped
for a sound and went on (the sound was not the user), and how often Visage answered its own voice (a user
turn that was not one of ours).

    .venv/bin/python bench/barge_in.py [--trials 5] [--echo-db -10] [--llm MODEL] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import cpu_model, write_report  # bench/_common.py (run as a script: bench/ is on the path)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.* helpers

from tests.live_audio.app_process import ListeningApp
from tests.live_audio.pulse import pulse_server
from tests.speech_corpus import espeak

REQUESTS = [
    "Please tell me a long story about a dragon who learns to bake bread.",
    "Tell me a long story about a cat who sails around the world.",
    "Describe your perfect day at the seaside in detail.",
]
QUESTIONS = [
    ("What is the capital of France?", "en-us"),
    ("How many days are in a week?", "en-gb"),
    ("What should I cook for dinner tonight?", "en-us-nyc"),
    ("Why is the sky blue?", "en-gb-scotland"),
    ("What is a good name for a puppy?", "en-029"),
]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def onset(pcm: np.ndarray, rate: int = 16_000) -> float:
    loud = np.nonzero(np.abs(pcm) > 0.01)[0]
    return float(loud[0] / rate) if len(loud) else 0.0


def stop_time(recorder: Any, after: float, quiet_s: float = 0.3) -> float | None:
    """When the speakers went quiet (for ``quiet_s``) after ``after``."""
    times, rms = recorder.envelope()
    run = 0
    for t, level in zip(times, rms, strict=True):
        if t < after:
            continue
        run = run + 1 if level <= 0.003 else 0
        if run * 0.02 >= quiet_s:
            return float(t - run * 0.02)
    return None


def trial(pulse: Any, app: ListeningApp, request: str, question: str, voice: str) -> dict[str, Any]:
    speakers = pulse.recorder()
    try:
        asked = pulse.say(espeak(request, "en-gb", 160))
        app.wait_for(lambda e: e["kind"] == "state" and e["state"] == "speaking", timeout=120, after=asked)
        time.sleep(2.0)
        clip = espeak(question, voice, 165)
        voice_at = pulse.say(clip) + onset(clip)
        key = words(question)[-1]
        try:
            answered = app.wait_for(lambda e: e["kind"] == "finished" and key in e["user"].lower(), timeout=90,
                                    after=voice_at - 1)
        except AssertionError:
            answered = None
        stopped = stop_time(speakers, voice_at)
    finally:
        speakers.stop()
    heard = answered["user"] if answered else ""
    whole = answered is not None and set(words(question)) <= set(words(heard))
    time.sleep(1.0)
    return {"question": question, "voice": voice, "transcript": heard, "answered_whole": whole,
            "answered": answered is not None,
            "answer_heard_to_the_end": bool(answered and answered["reply"] and not answered["interrupted"]),
            "answer": answered["reply"] if answered else "",
            "stop_latency_s": None if stopped is None else round(stopped - voice_at, 3)}


def condition(root: Path, llm: str | None, trials: int, echo_db: float | None) -> dict[str, Any]:
    with pulse_server(root / "pulse") as pulse:
        if echo_db is not None:
            pulse.add_echo_path(latency_ms=80, gain_db=echo_db)
        app = ListeningApp(pulse, root / "app", llm=llm)
        try:
            app.wait_for(lambda e: e["kind"] == "state" and e["state"] == "listening", timeout=300)
            ours = {q for q, _ in QUESTIONS} | set(REQUESTS)
            results = [trial(pulse, app, REQUESTS[i % len(REQUESTS)], *QUESTIONS[i % len(QUESTIONS)])
                       for i in range(trials)]
            time.sleep(3.0)
            users = [e["user"] for e in app.of_kind("finished") if e["user"]]
            # a user turn is one of ours if at least half its words are in one of our questions (misheard or not)
            own = [u for u in users
                   if not any(len(set(words(u)) & set(words(q))) >= 0.5 * len(set(words(u))) for q in ours)]
            echo = app.of_kind("finished")[-1].get("echo", {}) if app.of_kind("finished") else {}
        finally:
            app.close()
    latencies = [r["stop_latency_s"] for r in results if r["stop_latency_s"] is not None]
    return {
        "echo_path_db": echo_db,
        "trials": results,
        "stop_latency_p50_s": round(float(np.percentile(latencies, 50)), 3) if latencies else None,
        "stop_latency_p95_s": round(float(np.percentile(latencies, 95)), 3) if latencies else None,
        "stop_latency_max_s": round(max(latencies), 3) if latencies else None,
        "answered_whole_share": round(sum(r["answered_whole"] for r in results) / len(results), 3),
        "answer_heard_to_the_end_share": round(sum(r["answer_heard_to_the_end"] for r in results) / len(results), 3),
        "replies_resumed": echo.get("replies_resumed", 0),
        "self_answers": len(own),
        "self_answer_texts": own,
        "echo_handling": echo,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--echo-db", type=float, default=-10.0, help="echo path gain in dB")
    parser.add_argument("--llm", default=None, help="the chat model (default: the app's; it loads the CPU too)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "barge_in.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        conditions = [condition(Path(tmp) / "dry", args.llm, args.trials, None),
                      condition(Path(tmp) / "echo", args.llm, args.trials, args.echo_db)]
    report = {"machine": cpu_model(), "llm": args.llm or "the app's default", "conditions": conditions}
    write_report(report, Path(args.out))
    for c in conditions:
        label = "no echo path" if c["echo_path_db"] is None else f"echo path {c['echo_path_db']:+.0f} dB, 80 ms"
        print(f"{label}: stop p50 {c['stop_latency_p50_s']} s, p95 {c['stop_latency_p95_s']} s; answered whole "
              f"{c['answered_whole_share']:.0%}; answer heard to the end {c['answer_heard_to_the_end_share']:.0%}; "
              f"replies resumed {c['replies_resumed']}; answered its own voice {c['self_answers']} times")


if __name__ == "__main__":
    main()
