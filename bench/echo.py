"""Echo canceller benchmark: the one-tap canceller against the adaptive one, on real Piper replies played
through simulated laptop rooms (tests/echo_room.py), with espeak-ng user speech and the real Silero VAD.

Per room: ERLE (dB) of each canceller on the echo alone (first reply from its second second on, and the whole
second reply: the filter carries over), false speech starts from our own voice, how long after the user started
the segmenter reported their speech (loud and quiet user over the second reply, loud user 3 s into the first;
playback stops at the first start, as in the app), ERLE after the user talked over us, and the CPU time of
``EchoGate.process`` per 32 ms frame (this thread's CPU time; wall time beside it; and the best of five passes,
as the machine is shared). Every number is over ``--takes`` fresh Piper syntheses (Piper's timing is random per
synthesis).

    .venv/bin/python bench/echo.py [--takes 3] [--out bench/results/echo.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import cpu_model, write_report  # bench/_common.py (run as a script: bench/ is on the path)

from app.core.audio_io import FileAudioSink
from app.core.config import VADSettings
from app.core.echo import EchoGate, EchoGateSettings, GateResult, TimelineSink
from app.core.segmenter import Segmenter, SpeechStart
from engines.base import AudioChunk
from engines.vad.silero import SileroVAD
from tests.audio_helpers import _piper, espeak_clip, speak_with_piper
from tests.echo_room import RATE, ROOMS, erle_db

REPLIES = (
    "Paris is the capital of France. It is known for the Eiffel Tower, fine food and long walks by the river.",
    "The river Seine runs through the middle of the city. Its bridges are lovely at night, and the museums "
    "along its banks hold some of the most famous paintings in the world.",
)
USER_LINE = "Stop please, wait a moment."
LOUD, QUIET = 0.5, 0.125
N = 512
SETTINGS = {"one_tap": EchoGateSettings(adaptive=False), "adaptive": EchoGateSettings()}


@dataclass
class Take:
    played: np.ndarray  # what the speakers played, on the audible clock, then a second of quiet
    first_end: float
    second: float
    end: float


def synthesize() -> Take:
    tts = _piper()
    sink = TimelineSink(FileAudioSink())
    for chunk in tts.synthesize(REPLIES[0]):
        sink.play(chunk)
    first_end = sink.end_time
    sink.play(AudioChunk(pcm=np.zeros(tts.sample_rate, np.float32), sample_rate=tts.sample_rate))
    second = sink.end_time
    for chunk in tts.synthesize(REPLIES[1]):
        sink.play(chunk)
    end = sink.end_time
    return Take(sink.reference(end + 1.0, int((end + 1.0) * RATE)), first_end, second, end)


@dataclass
class Run:
    starts: list[float]
    detected: list[float]
    results: list[GateResult]
    cpu_ms: list[float]
    wall_ms: list[float]


def run(take: Take, signal: np.ndarray, settings: EchoGateSettings, vad: SileroVAD,
        stop_at: float | None = None) -> Run:
    played = take.played

    def reference(until: float, count: int) -> np.ndarray:
        end = round(until * RATE)
        out = np.zeros(count, np.float32)
        lo, hi = max(end - count, 0), min(end, len(played) if stop_at is None else round(stop_at * RATE))
        if hi > lo:
            out[lo - (end - count) : hi - (end - count)] = played[lo:hi]
        return out

    vad.reset()
    segmenter = Segmenter(VADSettings(), RATE, N)
    gate = EchoGate(lambda: 0.0, reference, settings=settings)
    out = Run([], [], [], [], [])
    for i in range(0, len(signal) - N + 1, N):
        c0, w0 = time.thread_time(), time.perf_counter()
        result = gate.process(signal[i : i + N], at=(i + N) / RATE)
        cpu, wall = time.thread_time() - c0, time.perf_counter() - w0
        if result.playing:
            out.cpu_ms.append(cpu * 1e3)
            out.wall_ms.append(wall * 1e3)
        out.results.append(result)
        segmenter.busy = result.playing
        found = segmenter.push(result.frame, vad.confidence(result.frame))
        if isinstance(found, SpeechStart):
            out.starts.append(found.offset_s)
            out.detected.append((i + N) / RATE)
    return out


def echo_of(take: Take, room: str, stop_at: float | None = None) -> np.ndarray:
    voice = take.played.copy()
    if stop_at is not None:
        voice[round(stop_at * RATE) :] = 0.0
    return ROOMS[room].echo(voice)


def with_user(signal: np.ndarray, user: np.ndarray, level: float, at: float) -> np.ndarray:
    mixed = signal.copy()
    start = int(at * RATE)
    mixed[start : start + len(user)] += level * user[: len(mixed) - start]
    return mixed


def span_erle(signal: np.ndarray, results: list[GateResult], start_s: float, end_s: float) -> float:
    first, last = int(start_s * RATE) // N, int(end_s * RATE) // N
    out = [r.residual if r.residual is not None else signal[k * N : (k + 1) * N]
           for k, r in enumerate(results[first:last], start=first)]
    return round(erle_db(signal[first * N : last * N], np.concatenate(out)), 1)


def barge_in(take: Take, room: str, user: np.ndarray, level: float, at: float, settings: EchoGateSettings,
             vad: SileroVAD) -> float | None:
    """Seconds from the user's start to where the segmenter put the speech start (None: never heard)."""
    first = run(take, with_user(echo_of(take, room), user, level, at), settings, vad)
    if not first.detected:
        return None
    stop_at = first.detected[0]
    again = run(take, with_user(echo_of(take, room, stop_at), user, level, at), settings, vad, stop_at)
    heard = [s for s in again.starts if s >= at - 0.1]
    return round(heard[0] - at, 3) if heard else None


def stats(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=np.float64)
    return {"mean": round(float(a.mean()), 3), "p95": round(float(np.percentile(a, 95)), 3),
            "max": round(float(a.max()), 3)}


def cpu_timing(take: Take, vad: SileroVAD, runs: int = 5) -> dict[str, object]:
    """Per-frame CPU time of each canceller on the laptop room's echo, best of ``runs`` passes (the machine is
    shared: the quietest pass is the closest to the cost itself); frames while our voice is within reach."""
    echo = echo_of(take, "laptop")
    out: dict[str, object] = {}
    for name, settings in SETTINGS.items():
        passes = [run(take, echo, settings, vad) for _ in range(runs)]
        best = min(passes, key=lambda p: float(np.mean(p.cpu_ms)))
        converged = [ms for ms, r in zip(best.cpu_ms, [r for r in best.results if r.playing], strict=True)
                     if r.converged or not settings.adaptive]
        out[name] = {"all_frames": stats(best.cpu_ms), "after_convergence": stats(converged),
                     "frames": len(best.cpu_ms), "run_means": [round(float(np.mean(p.cpu_ms)), 3) for p in passes]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--takes", type=int, default=3, help="fresh Piper syntheses of the two replies")
    ap.add_argument("--out", default="bench/results/echo.json")
    args = ap.parse_args()
    user = espeak_clip(USER_LINE)
    if user is None:
        user = speak_with_piper(USER_LINE)
    load_at_start = [round(v, 2) for v in os.getloadavg()]
    vad = SileroVAD(VADSettings())
    takes = [synthesize() for _ in range(args.takes)]
    rooms: dict[str, object] = {}
    for room in ROOMS:
        per: dict[str, dict[str, list]] = {name: {} for name in SETTINGS}
        for take in takes:
            echo = echo_of(take, room)
            at = take.second + 2.0
            for name, settings in SETTINGS.items():
                row = per[name]
                alone = run(take, echo, settings, vad)
                row.setdefault("false_starts", []).append(len(alone.starts))
                row.setdefault("erle_first_reply_db", []).append(span_erle(echo, alone.results, 1.0, take.first_end))
                row.setdefault("erle_second_reply_db", []).append(span_erle(echo, alone.results, take.second,
                                                                            take.end))
                row.setdefault("cpu_ms", []).extend(alone.cpu_ms)
                row.setdefault("wall_ms", []).extend(alone.wall_ms)
                if name == "one_tap":
                    continue  # it already takes our own voice for the user: its detection delays mean nothing
                row.setdefault("loud_user_heard_after_s", []).append(barge_in(take, room, user, LOUD, at,
                                                                              settings, vad))
                row.setdefault("quiet_user_heard_after_s", []).append(barge_in(take, room, user, QUIET, at,
                                                                               settings, vad))
                row.setdefault("loud_user_3s_into_first_reply_heard_after_s", []).append(
                    barge_in(take, room, user, LOUD, 3.0, settings, vad))
                talked = with_user(echo, user, LOUD, at)
                over = run(take, talked, settings, vad)
                after = at + len(user) / RATE + 0.3
                row.setdefault("erle_after_double_talk_db", []).append(span_erle(talked, over.results, after,
                                                                                 take.end))
                row.setdefault("erle_same_span_without_user_db", []).append(span_erle(echo, alone.results, after,
                                                                                      take.end))
        summary: dict[str, object] = {
            "delay_s": ROOMS[room].delay_s, "t60_s": ROOMS[room].t60_s, "drr_db": ROOMS[room].drr_db,
            "band_hz": list(ROOMS[room].band_hz), "echo_gain": ROOMS[room].gain, "noise_rms": ROOMS[room].noise_rms,
        }
        for name, row in per.items():
            cpu, wall = row.pop("cpu_ms"), row.pop("wall_ms")
            summary[name] = {**row, "frame_cpu_ms": stats(cpu), "frame_wall_ms": stats(wall)}
        rooms[room] = summary
        print(room, json.dumps(summary), flush=True)
    timing = cpu_timing(takes[0], vad)
    report = {
        "benchmark": "echo",
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__, "gpu": "none", "load_average_at_start": load_at_start,
                    "load_average_at_end": [round(v, 2) for v in os.getloadavg()]},
        "frame_cpu_ms_best_of_5_runs": timing,
        "frame": {"samples": N, "rate": RATE},
        "takes": args.takes,
        "user_levels": {"loud": LOUD, "quiet": QUIET},
        "rooms": rooms,
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
