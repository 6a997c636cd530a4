"""Avatar speed: tier-0 and tier-1 frame time, viseme sampling time, clip rendering speed. Prints JSON.

    python bench/avatar_fps.py [--size 512] [--frames 600] [--threads 1]

Frame times are CPU time of the rendering thread (``time.thread_time``) with OpenCV limited to
``--threads`` threads (default 1: "one core"), so other processes on a shared machine distort them
less; wall-clock figures are reported beside them.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engines.avatar.character import CartoonAvatar
from engines.avatar.clip import render_clip
from engines.avatar.face import FaceLandmarker, detect_face, read_image
from engines.avatar.visemes import VisemeTrack
from engines.base import AudioChunk, PhonemeTiming


def _stats(ms: np.ndarray) -> dict[str, float]:
    return {
        "mean": round(float(ms.mean()), 3),
        "p50": round(float(np.median(ms)), 3),
        "p95": round(float(np.percentile(ms, 95)), 3),
        "max": round(float(ms.max()), 3),
    }


def bench_frames(size: int, frames: int) -> dict[str, object]:
    avatar = CartoonAvatar(size)
    track = _speech_track(frames / 30.0)
    mouths = [track.sample(k / 30.0) for k in range(frames)]
    out = np.empty((size, size, 3), np.uint8)
    for k in range(30):  # warm-up
        avatar.render(mouths[k], k / 30.0)
    cpu, wall, cpu_out = [], [], []
    for k, mouth in enumerate(mouths):
        c0, w0 = time.thread_time(), time.perf_counter()
        avatar.render(mouth, k / 30.0)
        cpu.append(time.thread_time() - c0)
        wall.append(time.perf_counter() - w0)
        c0 = time.thread_time()
        avatar.render(mouth, k / 30.0, out=out)
        cpu_out.append(time.thread_time() - c0)
    return {
        "size": size,
        "frames": frames,
        "cpu_ms": _stats(np.array(cpu) * 1e3),
        "wall_ms": _stats(np.array(wall) * 1e3),
        "cpu_ms_reusing_out_buffer": _stats(np.array(cpu_out) * 1e3),
    }


ASTRONAUT = Path(__file__).resolve().parents[1] / "assets" / "avatars" / "astronaut" / "astronaut.png"


def bench_photo(size: int, frames: int) -> dict[str, object]:
    """Tier 1: face detection once (the photo is chosen), then per-frame mouth warp of the shipped portrait."""
    from engines.avatar.photo import PhotoAvatar

    image = read_image(ASTRONAUT)
    t0 = time.perf_counter()
    marker = FaceLandmarker()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit = detect_face(image, marker=marker)
    detect_s = time.perf_counter() - t0
    track = _speech_track(frames / 30.0)
    mouths = [track.sample(k / 30.0) for k in range(frames)]
    result: dict[str, object] = {
        "size": size,
        "frames": frames,
        "photo": ASTRONAUT.name,
        "landmark_model_load_s": round(load_s, 3),
        "face_detection_s": round(detect_s, 3),
    }
    for label, idle in (("", True), ("_no_idle_drift", False)):
        avatar = PhotoAvatar(image, fit.geometry, size, idle=idle)
        for k in range(30):  # warm-up
            avatar.render(mouths[k], k / 30.0)
        cpu, wall = [], []
        for k, mouth in enumerate(mouths):
            c0, w0 = time.thread_time(), time.perf_counter()
            avatar.render(mouth, k / 30.0)
            cpu.append(time.thread_time() - c0)
            wall.append(time.perf_counter() - w0)
        result[f"cpu_ms{label}"] = _stats(np.array(cpu) * 1e3)
        result[f"wall_ms{label}"] = _stats(np.array(wall) * 1e3)
    return result


def _speech_track(duration_s: float) -> VisemeTrack:
    rng = np.random.default_rng(0)
    symbols = ["h", "ə", "l", "oʊ", "p", "m", "f", "θ", "ɹ", "w", "ɑ", "s", "t", "æ", " ", "b", "ɛ", "k"]
    timings, t = [], 0.0
    while t < duration_s:
        d = float(rng.uniform(0.04, 0.16))
        timings.append(PhonemeTiming(str(rng.choice(symbols)), t, d))
        t += d
    return VisemeTrack.from_phonemes(timings)


def bench_sampling() -> dict[str, float]:
    track = _speech_track(600.0)  # ten minutes of speech, ~8,000 phonemes
    ts = np.random.default_rng(1).uniform(0.0, 600.0, 20_000)
    t0 = time.perf_counter()
    for t in ts:
        track.sample(float(t))
    per_call = (time.perf_counter() - t0) / len(ts)
    t0 = time.perf_counter()
    track.sample_many(ts)
    vectorised = (time.perf_counter() - t0) / len(ts)
    return {
        "segments": len(track.segments()),
        "sample_us": round(per_call * 1e6, 3),
        "sample_many_us_per_time": round(vectorised * 1e6, 4),
    }


def bench_clip(size: int, seconds: float) -> dict[str, float]:
    sr = 22050
    n = int(seconds * sr)
    tt = np.arange(n) / sr
    pcm = (0.3 * np.sin(2 * np.pi * 200 * tt) * (np.sin(2 * np.pi * 2.5 * tt) > 0)).astype(np.float32)
    track_timings = []
    t = 0.0
    while t < seconds - 0.2:
        track_timings += [
            PhonemeTiming("b", t, 0.05),
            PhonemeTiming("ɑ", t + 0.05, 0.15),
            PhonemeTiming("_", t + 0.2, 0.2),
        ]
        t += 0.4
    chunk = AudioChunk(pcm, sr, "bench", tuple(track_timings))
    avatar = CartoonAvatar(size)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        info = render_clip([chunk], avatar, Path(tmp) / "bench.mp4", fps=30)
        elapsed = time.perf_counter() - t0
    return {
        "clip_seconds": round(info.duration_s, 3),
        "frames": info.frames,
        "render_s": round(elapsed, 3),
        "render_fps": round(info.frames / elapsed, 1),
        "realtime_factor": round(elapsed / info.duration_s, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--threads", type=int, default=1, help="OpenCV threads (1 = one core)")
    ap.add_argument("--clip-seconds", type=float, default=5.0)
    args = ap.parse_args()
    cv2.setNumThreads(args.threads)
    result = {
        "bench": "avatar_fps",
        "machine": {
            "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(),
            "opencv": cv2.__version__,
            "opencv_threads": args.threads,
        },
        "tier0_frame": bench_frames(args.size, args.frames),
        "tier1_photo_frame": bench_photo(args.size, args.frames),
        "track_sampling": bench_sampling(),
        "clip": bench_clip(args.size, args.clip_seconds),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
