"""The 1,000-event fault test across two API workers on PostgreSQL, one of them killed mid-run and not
restarted: the client's retries land on the other one, and the database ends with exactly 1,000 events.

Topology: client process -> fault proxy (round robin, injecting faults) -> API workers A and B
(``python -m server run``, one PostgreSQL database, the tests' own cluster).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from app.store import Store
from server.storage import Storage
from tests.remote_helpers import LOOPBACK, PostgresCluster, free_port
from tests.sync.test_fault import DEADLINE_S, EVENTS, ClientProcess, FaultProxy, ServerProcess, queue_events


def test_a_thousand_events_arrive_once_across_two_api_workers_one_killed(tmp_path: Path,
                                                                          postgres: PostgresCluster) -> None:
    started = time.monotonic()
    url = postgres.migrated_database(f"fault_{uuid.uuid4().hex[:8]}")
    storage = Storage(url, pool_size=2)
    key_row, key = storage.create_key("fault-scale")
    client_db = tmp_path / "client" / "visage.db"
    expected = queue_events(client_db)

    servers = [ServerProcess(free_port(), url, tmp_path) for _ in range(2)]
    for server in servers:
        server.start()
    proxy = FaultProxy([s.port for s in servers], fault_budget=20)
    client = ClientProcess(client_db, f"http://{LOOPBACK}:{proxy.port}", key)
    try:
        client.start()
        while storage.count_events(key_row.id) < EVENTS // 4:  # mid-run
            assert time.monotonic() - started < DEADLINE_S, "no events reached the servers"
            time.sleep(0.02)
        servers[1].kill()
        killed_at = storage.count_events(key_row.id)
        client.wait_drained(started + DEADLINE_S)
    finally:
        client.kill()
        for server in servers:
            server.kill()
        proxy.close()

    stored = storage.event_ids(key_row.id)
    storage.close()
    with Store(client_db) as store:
        pending = store.outbox.count()
    print(f"\nfault test, 2 API workers: server B killed at {killed_at} events; PostgreSQL holds {len(stored)} "
          f"({len(set(stored))} distinct); client pending {pending}; proxy {dict(proxy.counts)}; "
          f"{time.monotonic() - started:.1f} s")
    assert killed_at < EVENTS  # the kill happened mid-run
    assert len(stored) == EVENTS and set(stored) == expected and pending == 0
    assert proxy.counts["upstream_down"] > 0  # requests did reach the killed worker and were retried elsewhere
