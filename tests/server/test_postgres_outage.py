"""PostgreSQL going away: the API answers 503 + Retry-After (not a crash), and recovers by itself."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from server.app import create_app
from server.settings import ServerSettings
from server.storage import Storage
from tests.fakes import SchemaLLM
from tests.remote_helpers import PostgresCluster


def test_database_down_gives_503_then_recovers(postgres: PostgresCluster) -> None:
    url = postgres.migrated_database(f"outage_{uuid.uuid4().hex[:8]}")
    storage = Storage(url)
    _, key = storage.create_key("k")
    app = create_app(ServerSettings(database_url=url), storage=storage, llm_factory=SchemaLLM)
    ev = {"event_id": "e-1", "kind": "turn", "occurred_at": datetime.now(UTC).isoformat(), "client_id": "c"}
    with TestClient(app) as client:
        postgres.stop()
        try:
            health = client.get("/v11/health")
            assert health.status_code == 503 and health.json()["components"]["database"]["ok"] is False
            r = client.post("/v11/analytics/events", json={"events": [ev]}, headers={"X-API-Key": key})
            assert r.status_code == 503 and r.headers["Retry-After"]
        finally:
            postgres.start()
        assert client.get("/v11/health").status_code == 200
        r = client.post("/v11/analytics/events", json={"events": [ev]}, headers={"X-API-Key": key})
        assert r.status_code == 200 and r.json()["accepted"] == 1
    storage.close()
