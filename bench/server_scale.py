"""Remote API scale-out: events/s and /generate throughput with 1, 2 and 4 API workers on PostgreSQL.

Everything on loopback and bounded (it stops by itself): a private PostgreSQL cluster in a temp dir
(initdb/pg_ctl, as the tests do), ``python -m server migrate``, two ``generate-worker`` processes on the
shipped SmolLM2-135M (one llama.cpp thread each), then for each worker count one
``python -m server run --workers N`` and, from this process:

1. events: ``--concurrency`` client threads post ``--event-requests`` batches of ``--batch`` events;
2. /generate, cached: the same brief ``--cached-requests`` times (the API path: auth, shared rate limit,
   shared cache lookup in PostgreSQL);
3. /generate, uncached: ``--briefs`` distinct briefs (jobs through the PostgreSQL queue to the two
   generation workers; bounded by the model, not by the API workers).

The load generator shares the machine with the servers, so on a small machine the numbers describe the
whole system, not the API workers alone. JSON to ``bench/results/server_scale.json``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import cpu_model, run_threads, write_report  # noqa: E402

from server.storage import Storage  # noqa: E402
from tests.remote_helpers import PostgresCluster, ServerCommand, api_node, brief_dict, wait_healthy  # noqa: E402

ENV = {"VISAGE_SERVER_RATE_PER_MINUTE": "100000000", "VISAGE_SERVER_RATE_BURST": "10000000",
       "VISAGE_SERVER_LLM_THREADS": "1", "VISAGE_SERVER_MAX_WAITING": "64", "VISAGE_SERVER_MAX_EVENTS": "1000"}


def hammer(requests: int, concurrency: int, make: Any) -> dict[str, Any]:
    """``make(client)`` → (response, units) ``requests`` times over ``concurrency`` threads."""
    done: list[tuple[int, int]] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def run() -> None:
        with httpx.Client(timeout=300) as client:
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                response, units = make(client)
                with lock:
                    done.append((response.status_code, units if response.status_code == 200 else 0))

    wall = run_threads(run, concurrency)
    units = sum(u for _, u in done)
    return {"requests": len(done), "errors": sum(1 for s, _ in done if s != 200), "seconds": round(wall, 2),
            "units": units, "per_s": round(units / wall, 3)}


def events_body(batch: int) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {"events": [{"event_id": uuid.uuid4().hex, "kind": "turn", "occurred_at": now, "client_id": "bench",
                        "latency_ms": random.uniform(300, 900)} for _ in range(batch)]}


def measure(base: str, key: dict[str, str], n: int, args: argparse.Namespace) -> dict[str, Any]:
    """The three loads against one node with ``n`` API workers."""
    wait_healthy(base)
    hammer(args.concurrency * 4, args.concurrency,  # warm every worker process up
           lambda c: (c.post(f"{base}/v11/analytics/events", json=events_body(10), headers=key), 10))
    events = hammer(args.event_requests, args.concurrency,
                    lambda c: (c.post(f"{base}/v11/analytics/events", json=events_body(args.batch), headers=key),
                               args.batch))
    cached_brief = {"brief": brief_dict("ad-1"), "n": 1}
    httpx.post(f"{base}/v11/generate", json=cached_brief, headers=key, timeout=300)  # fill the cache
    cached = hammer(args.cached_requests, args.concurrency,
                    lambda c: (c.post(f"{base}/v11/generate", json=cached_brief, headers=key), 1))
    products = iter([f"Bench product {n}-{i}-{uuid.uuid4().hex[:4]}" for i in range(args.briefs)])
    lock = threading.Lock()

    def uncached(c: httpx.Client) -> tuple[httpx.Response, int]:
        with lock:
            product = next(products)
        body = {"brief": {**brief_dict("ad-1"), "product": product}, "n": 1}
        return c.post(f"{base}/v11/generate", json=body, headers=key), 1

    fresh = hammer(args.briefs, 4, uncached)
    print(f"{n} API worker(s): {events['per_s']} events/s, /generate cached {cached['per_s']}/s, "
          f"uncached {fresh['per_s']}/s", file=sys.stderr)
    return {"events_per_s": events["per_s"], "events": events,
            "generate_cached_per_s": cached["per_s"], "generate_cached": cached,
            "generate_uncached_per_s": fresh["per_s"], "generate_uncached": fresh}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--event-requests", type=int, default=300)
    parser.add_argument("--cached-requests", type=int, default=300)
    parser.add_argument("--briefs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "server_scale.json")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="visage-bench-scale-"))
    cluster = PostgresCluster()
    started_procs: list[ServerCommand] = []
    results: dict[str, Any] = {}
    try:
        url = cluster.migrated_database("bench")
        storage = Storage(url, pool_size=1)
        _, secret = storage.create_key("bench")
        storage.close()
        key = {"X-API-Key": secret}
        gen_workers = [ServerCommand(["generate-worker", "--name", f"gw-{i}", "--database-url", url],
                                     tmp / f"gw-{i}.log", ENV).start() for i in (1, 2)]
        started_procs += gen_workers
        for w in gen_workers:
            w.wait_for_output("loaded in", timeout_s=180)
        for n in args.workers:
            node, base = api_node(url, tmp / f"api-{n}.log", workers=n, env=ENV)
            started_procs.append(node)
            try:
                results[str(n)] = measure(base, key, n, args)
            finally:
                node.kill()
    finally:
        for proc in started_procs:
            proc.kill()
        cluster.destroy()

    first = results.get(str(args.workers[0]), {})
    scaling = {f"events_per_s_x{n}_vs_x{args.workers[0]}": round(r["events_per_s"] / first["events_per_s"], 2)
               for n, r in results.items() if first and first["events_per_s"]}
    write_report({
        "machine": {"cpu": cpu_model(), "cpus": os.cpu_count(), "load_avg_end": os.getloadavg()},
        "setup": {"concurrency": args.concurrency, "batch": args.batch, "generation_workers": 2,
                  "model": "smollm2-135m", "storage": "postgresql (private cluster, fsync=off)",
                  "client": "this process (same machine)"},
        "by_api_workers": results,
        "scaling": scaling,
    }, args.out)


if __name__ == "__main__":
    main()
