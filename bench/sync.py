"""Sync benchmark on one machine, loopback only. Prints JSON, writes bench/results/sync.json.

    python bench/sync.py [--events 5000] [--batch 100] [--requests 400] [--concurrency 4] [--database-url URL]

1. outbox: messages saved with usage events on (the event is written in the message's transaction):
   messages/s with and without events, to show what the outbox costs a save.
2. end to end: the sync worker drains the outbox to a server process (uvicorn, SQLite by default):
   events/s from first send to empty outbox.
3. server latency under a bounded load: ``--concurrency`` client threads make ``--requests`` requests in
   all to ``GET /v11/health`` and to ``POST /v11/analytics/events`` (batches of ``--batch`` new events);
   p50/p95/p99 in ms as the client sees them, plus the server's own /v11/performance-stats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from _common import run_threads  # noqa: E402

from app.store import Store  # noqa: E402
from app.sync import SyncClient, SyncWorker  # noqa: E402
from app.sync.worker import Backoff  # noqa: E402
from server.metrics import percentile  # noqa: E402
from server.storage import Storage  # noqa: E402
from tests.remote_helpers import LOOPBACK, free_port  # noqa: E402


def start_server(port: int, url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VISAGE_SERVER_RATE_PER_MINUTE": "10000000",
           "VISAGE_SERVER_RATE_BURST": "1000000"}
    proc = subprocess.Popen([sys.executable, "-m", "server", "run", "--host", LOOPBACK, "--port", str(port),
                             "--database-url", url], cwd=ROOT, env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{LOOPBACK}:{port}/v11/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start: " + log.read_text()[-2000:])


def saves_per_s(path: Path, n: int, events: bool) -> float:
    with Store(path) as store:
        store.outbox.queue_message_events(events)
        cid = store.create_conversation()
        started = time.perf_counter()
        for i in range(n):
            store.add_message(cid, "assistant", f"reply {i}", timings={"first_audio_s": 0.5, "asr_s": 0.2})
        return n / (time.perf_counter() - started)


def stats(samples_ms: list[float]) -> dict[str, float | int | None]:
    return {"n": len(samples_ms), **{f"p{q}_ms": _r(percentile(samples_ms, q)) for q in (50, 95, 99)}}


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def load(base: str, key: str, *, path: str, requests: int, concurrency: int, batch: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    per_thread = requests // concurrency

    def run() -> None:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as client:
            for _ in range(per_thread):
                body = None
                if path.endswith("events"):
                    now = datetime.now(UTC).isoformat()
                    body = {"events": [{"event_id": uuid.uuid4().hex, "kind": "turn", "occurred_at": now,
                                        "client_id": "bench", "latency_ms": random.uniform(300, 900)}
                                       for _ in range(batch)]}
                started = time.perf_counter()
                r = client.request("POST" if body else "GET", path, json=body)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if r.status_code != 200:
                        errors.append(r.status_code)

    wall = run_threads(run, concurrency)
    return {**stats(latencies), "errors": len(errors), "requests_per_s": round(len(latencies) / wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--database-url", default=None, help="server storage (default: SQLite in a temp dir)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "sync.json")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="visage-bench-sync-"))
    url = args.database_url or f"sqlite:///{tmp}/server.db"
    storage = Storage(url)
    _, key = storage.create_key(f"bench-{uuid.uuid4().hex[:6]}", admin=True)  # it reads /performance-stats
    storage.close()

    n_saves = min(args.events, 1000)
    saves_per_s(tmp / "warmup.db", 200, events=True)  # first writes on a fresh disk/cache are slower
    rounds: dict[bool, list[float]] = {False: [], True: []}
    for i in range(3):  # alternate, take the median: other processes on a small machine add noise
        for events_on in (False, True):
            rounds[events_on].append(saves_per_s(tmp / f"saves-{i}-{events_on}.db", n_saves, events=events_on))
    plain, with_events = (sorted(rounds[flag])[1] for flag in (False, True))

    client_db = tmp / "client.db"
    with Store(client_db) as store:
        store.outbox.queue_message_events(True)
        cid = store.create_conversation()
        for i in range(args.events):
            store.add_message(cid, "assistant", f"reply {i}", timings={"first_audio_s": 0.5 + (i % 100) / 200})

    port = free_port()
    proc = start_server(port, url, tmp / "server.log")
    base = f"http://{LOOPBACK}:{port}"
    try:
        with Store(client_db) as store:
            worker = SyncWorker(store, lambda: SyncClient(base, key, timeout_s=30), batch_size=args.batch,
                                backoff=Backoff(0.05, 1.0), idle_s=0.05)
            started = time.perf_counter()
            worker.start()
            status = worker.flush(600)
            drain_s = time.perf_counter() - started
            worker.stop()
        if status.pending:
            raise SystemExit(f"outbox not drained: {status}")
        health = load(base, key, path="/v11/health", requests=args.requests, concurrency=args.concurrency,
                      batch=args.batch)
        events = load(base, key, path="/v11/analytics/events", requests=args.requests,
                      concurrency=args.concurrency, batch=args.batch)
        server_side = httpx.get(f"{base}/v11/performance-stats", headers={"X-API-Key": key}).json()
    finally:
        proc.terminate()
        proc.wait(10)

    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "storage": "sqlite" if url.startswith("sqlite") else "postgresql",
        "outbox": {"messages_per_s_without_events": round(plain, 1),
                   "messages_per_s_with_events": round(with_events, 1), "messages": n_saves},
        "end_to_end": {"events": args.events, "batch": args.batch, "seconds": round(drain_s, 3),
                       "events_per_s": round(args.events / drain_s, 1)},
        "load": {"requests": args.requests, "concurrency": args.concurrency, "events_per_request": args.batch,
                 "GET /v11/health": health, "POST /v11/analytics/events": events},
        "server_side_ms": {k: v["latency_ms"] for k, v in server_side["routes"].items()
                           if k in ("GET /v11/health", "POST /v11/analytics/events")},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
