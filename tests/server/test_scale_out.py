"""Scale-out on loopback against the tests' own PostgreSQL: node A (``run --workers 2``), node B
(``run --workers 1``) and two ``generate-worker`` processes on the shipped SmolLM2-135M.

Limits, cache, idempotency and jobs are shared through PostgreSQL, so: a key's rate limit lets through
its burst in total, not per process; a brief cached by one node is a hit on the other; a repeated
``Idempotency-Key`` returns the first answer without generating again; a generation worker killed
mid-job has its job finished by the other one, and the client gets one answer.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from server.storage import Storage
from tests.remote_helpers import PostgresCluster, ServerCommand, api_node, brief_dict, wait_healthy

pytestmark = pytest.mark.real_models

BURST = 8
ENV = {
    "VISAGE_SERVER_RATE_PER_MINUTE": "0.01",  # no refill during the test: the burst is all a key gets
    "VISAGE_SERVER_RATE_BURST": str(BURST),
    "VISAGE_SERVER_JOB_LEASE_S": "2",
    "VISAGE_SERVER_JOB_TIMEOUT_S": "240",
    "VISAGE_SERVER_LLM_THREADS": "1",
}


@dataclass
class Deployment:
    url: str
    a: str
    b: str
    workers: dict[str, ServerCommand]
    processes: list[ServerCommand] = field(default_factory=list)

    def key(self, *, admin: bool = False) -> dict[str, str]:
        storage = Storage(self.url, pool_size=1)
        try:
            _, secret = storage.create_key(f"k-{uuid.uuid4().hex[:8]}", admin=admin)
        finally:
            storage.close()
        return {"X-API-Key": secret}

    def jobs(self, product: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url) as conn:
            return conn.execute("SELECT id, status, attempts, worker FROM generation_jobs"
                                " WHERE payload->'brief'->>'product' = %s ORDER BY id", [product]).fetchall()


@pytest.fixture(scope="module")
def deployment(postgres: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp: Path = tmp_path_factory.mktemp("scale")
    url = postgres.migrated_database(f"scale_{uuid.uuid4().hex[:8]}")
    workers = {name: ServerCommand(["generate-worker", "--name", name, "--database-url", url],
                                   tmp / f"{name}.log", ENV).start() for name in ("gw-1", "gw-2")}
    processes = list(workers.values())
    try:
        node_a, a = api_node(url, tmp / "a.log", workers=2, env=ENV)
        processes.append(node_a)
        node_b, b = api_node(url, tmp / "b.log", workers=1, env=ENV)
        processes.append(node_b)
        for worker in workers.values():
            worker.wait_for_output("loaded in", timeout_s=120)
        health = wait_healthy(a)
        assert "on 2 generation worker(s)" in health["components"]["llm"]["detail"], health
        yield Deployment(url, a, b, workers, processes)
    finally:
        for proc in processes:
            proc.kill()


def _brief(product: str) -> dict[str, Any]:
    return {**brief_dict("ad-1"), "product": product}


def test_a_rate_limit_of_r_lets_r_requests_through_in_total(deployment: Deployment) -> None:
    key = deployment.key()
    sent = Counter[str]()
    codes = Counter[int]()
    for i in range(BURST * 2):
        base = (deployment.a, deployment.b)[i % 2]
        r = httpx.get(f"{base}/v11/cache/stats", headers=key, timeout=10)  # a new connection each time
        sent[base] += 1
        codes[r.status_code] += 1
    assert codes == {200: BURST, 429: BURST}  # not BURST × 3 processes

    # node A's two worker processes report together, from the same numbers as /metrics
    admin = deployment.key(admin=True)
    stats = httpx.get(f"{deployment.a}/v11/performance-stats", headers=admin, timeout=10).json()
    route = stats["routes"]["GET /v11/cache/stats"]
    assert route["requests"] == sent[deployment.a] and route["rate_limited"] >= 1
    assert httpx.get(f"{deployment.a}/metrics", headers=deployment.key(), timeout=10).status_code == 403
    text = httpx.get(f"{deployment.a}/metrics", headers={"Authorization": f"Bearer {admin['X-API-Key']}"},
                     timeout=10).text
    assert 'visage_http_requests_total{route="GET /v11/cache/stats",status="429"}' in text


def test_generated_once_a_cache_hit_on_the_other_node_and_an_idempotent_replay(deployment: Deployment) -> None:
    """One generation (the model is the slow part) checked two ways: the cache and the Idempotency-Key."""
    key = deployment.key()
    product = f"Cold brew {uuid.uuid4().hex[:6]}"
    body = {"brief": _brief(product), "n": 1}
    idem = {**key, "Idempotency-Key": str(uuid.uuid4())}
    first = httpx.post(f"{deployment.a}/v11/generate", json=body, headers=idem, timeout=240)
    assert first.status_code == 200, first.text
    assert first.json()["cached"] is False

    # a brief cached by node A is a hit on node B (same normalized brief, no idempotency key)
    again = httpx.post(f"{deployment.b}/v11/generate", json={"brief": _brief(f"  {product} "), "n": 1},
                       headers=key, timeout=60)
    assert again.status_code == 200 and again.json()["cached"] is True
    assert again.json()["variants"] == first.json()["variants"]

    # the repeated Idempotency-Key returns the first answer, even with the cache emptied in between
    admin = deployment.key(admin=True)
    assert httpx.post(f"{deployment.a}/v11/cache/clear", headers=admin, timeout=10).status_code == 200
    retry = httpx.post(f"{deployment.b}/v11/generate", json=body, headers=idem, timeout=60)
    assert retry.status_code == 200 and retry.json() == first.json()  # the same answer, its timing included
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(deployment.jobs(product)) == 1  # generated once, on one generation worker
    changed = httpx.post(f"{deployment.b}/v11/generate", json={**body, "n": 2}, headers=idem, timeout=60)
    assert changed.status_code == 422 and changed.json()["detail"]["code"] == "idempotency_key_reused"


def test_a_generation_worker_killed_mid_job_its_job_finishes_on_the_other(deployment: Deployment) -> None:
    key = deployment.key()
    product = f"Desk lamp {uuid.uuid4().hex[:6]}"
    answer: dict[str, httpx.Response] = {}

    def ask() -> None:
        answer["r"] = httpx.post(f"{deployment.a}/v11/generate", json={"brief": _brief(product), "n": 2},
                                 headers=key, timeout=240)

    client = threading.Thread(target=ask)
    client.start()
    holder = None
    for _ in range(3000):
        running = [j for j in deployment.jobs(product) if j[1] == "running"]
        if running:
            holder = running[0][3]
            break
        threading.Event().wait(0.02)
    assert holder in deployment.workers, f"no worker took the job: {deployment.jobs(product)}"
    deployment.workers[holder].kill()
    client.join(240)
    r = answer["r"]
    assert r.status_code == 200, r.text
    assert len(r.json()["variants"]) == 2 and r.json()["cached"] is False
    [(_, status, attempts, worker)] = deployment.jobs(product)  # one job, one answer
    assert (status, attempts) == ("done", 2) and worker != holder
