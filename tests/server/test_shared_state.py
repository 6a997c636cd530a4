"""The PostgreSQL-backed shared state, in-process with one ``Database`` (pool) per simulated node:
rate limits that hold in total, the job queue's SKIP LOCKED claims and lease, a cache with expiry and
namespaces, idempotency claims."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from server.cache import PostgresCache
from server.db import Database
from server.idempotency import IdempotencyConflict, PostgresIdempotency
from server.jobs import JobQueue
from server.ratelimit import PostgresRateLimiter
from server.storage import Storage
from tests.remote_helpers import PostgresCluster


@pytest.fixture
def nodes(postgres: PostgresCluster) -> Iterator[tuple[Database, Database, int]]:
    url = postgres.migrated_database(f"shared_{uuid.uuid4().hex[:8]}")
    a, b = Database(url, pool_size=4), Database(url, pool_size=4)
    storage = Storage(url, db=a)
    key, _ = storage.create_key("k")
    yield a, b, key.id
    a.close()
    b.close()


def test_the_rate_limit_holds_in_total_across_nodes(nodes: tuple[Database, Database, int]) -> None:
    a, b, key_id = nodes
    limiters = [PostgresRateLimiter(db, per_minute=0.001, burst=5) for db in (a, b)]
    allowed = Counter[int]()
    lock = threading.Lock()

    def hammer(i: int) -> None:
        for _ in range(5):
            if limiters[i % 2].acquire(key_id) == 0:
                with lock:
                    allowed[i % 2] += 1

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(allowed.values()) == 5  # 20 attempts from 4 threads on 2 nodes: the burst, not burst × nodes
    assert limiters[0].acquire(key_id) > 60  # and the wait until the next token is reported


def test_each_job_is_claimed_once_and_a_lost_lease_moves_it(nodes: tuple[Database, Database, int]) -> None:
    a, b, _ = nodes
    qa, qb = JobQueue(a, lease_s=1), JobQueue(b, lease_s=1)
    ids = [qa.submit({"n": i}) for i in range(12)]
    claimed: list[int] = []
    lock = threading.Lock()

    def drain(queue: JobQueue, name: str) -> None:
        while (job := queue.claim(name)) is not None:
            with lock:
                claimed.append(job.id)
            queue.finish(job.id, name, result={"by": name})

    threads = [threading.Thread(target=drain, args=(q, f"w{i}")) for i, q in enumerate((qa, qb, qa, qb))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(claimed) == ids  # every job once, none twice (FOR UPDATE SKIP LOCKED)

    job_id = qa.submit({"brief": "x"})
    first = qa.claim("dies")
    assert first is not None and first.id == job_id and qb.claim("other") is None  # held by its lease
    time.sleep(1.2)  # "dies" never renews: its lease runs out
    second = qb.claim("other")
    assert second is not None and second.id == job_id and second.attempts == 2
    assert qa.finish(job_id, "dies", result={"by": "dies"}) is False  # a late result from the old holder is dropped
    assert qb.finish(job_id, "other", result={"by": "other"}) is True
    assert qa.wait(job_id, timeout_s=5) == {"by": "other"}
    with a.connection() as conn:  # housekeeping: a day-old finished job goes, a fresh one stays
        conn.execute("UPDATE generation_jobs SET finished_at = now() - interval '2 days' WHERE id = %s", [job_id])
    assert qa.prune() == 1
    with a.connection() as conn:
        assert conn.execute("SELECT count(*) FROM generation_jobs").fetchone()[0] == len(ids)


def test_cache_namespaces_expiry_and_idempotency(nodes: tuple[Database, Database, int]) -> None:
    a, b, key_id = nodes
    ca, cb = PostgresCache(a, 10, ttl_s=1), PostgresCache(b, 10, ttl_s=1)
    ca.put(1, "k", [{"text": "hi"}])
    assert cb.get(1, "k") == [{"text": "hi"}]  # the other node sees it
    assert cb.get(2, "k") is None  # another key's namespace does not
    assert cb.stats()["hits"] == 1 and cb.stats()["misses"] == 1
    time.sleep(1.1)
    assert ca.get(1, "k") is None  # expired

    ia = PostgresIdempotency(a, 60, wait_s=0.5, stale_s=60)
    ib = PostgresIdempotency(b, 60, wait_s=5, stale_s=60)
    claim = ia.claim(key_id, "generate", "idem-1", {"brief": 1})
    assert claim.replay is None
    threading.Timer(0.3, ia.finish, args=(claim, {"answer": 42})).start()
    assert ib.claim(key_id, "generate", "idem-1", {"brief": 1}).replay == {"answer": 42}  # waited for the first
    with pytest.raises(IdempotencyConflict):
        ib.claim(key_id, "generate", "idem-1", {"brief": 2})
