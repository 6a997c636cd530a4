"""The /v11 API on both storage backends: health, auth, events (idempotent), summary, generation + cache,
batch bounds, performance stats, body limits, validation messages, CORS, rate limiting."""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from app.studio import Brief, generate_variants
from tests.fakes import SchemaLLM
from tests.remote_helpers import brief_dict

from .conftest import Server


def event(**over: Any) -> dict[str, Any]:
    body = {"event_id": uuid.uuid4().hex, "kind": "turn", "occurred_at": datetime.now(UTC).isoformat(),
            "client_id": "c-1", "latency_ms": 100.0, "props": {"role": "assistant", "interrupted": False}}
    body.update(over)
    return body


def test_health_needs_no_key_and_lists_components(server: Server) -> None:
    r = server.client.get("/v11/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert set(body["components"]) == {"database", "llm", "cache"}
    assert body["components"]["database"]["detail"] == server.storage.backend


def test_every_other_endpoint_needs_a_valid_key(server: Server) -> None:
    calls = [("get", "/v11/performance-stats", None), ("get", "/v11/cache/stats", None),
             ("post", "/v11/cache/clear", None), ("get", "/v11/analytics/summary", None),
             ("post", "/v11/analytics/events", {"events": [event()]}),
             ("post", "/v11/generate", {"brief": brief_dict()})]
    for method, path, body in calls:
        for headers in ({}, {"X-API-Key": "vsk_wrong"}, {"X-API-Key": "x" * 5000}):
            r = server.client.request(method, path, json=body, headers=headers)
            assert r.status_code == 401, (path, headers.keys(), r.text)
            assert r.json()["detail"]["code"] in {"missing_api_key", "invalid_api_key"}
            assert "create-key" in r.json()["detail"]["hint"]
    assert server.llm.calls == 0


def test_keys_are_stored_hashed_and_revocation_locks_out(server: Server) -> None:
    from server.storage import hash_key

    assert server.client.get("/v11/cache/stats", headers=server.auth).status_code == 200
    with server.storage._tx() as cur:
        cur.execute("SELECT key_hash, prefix FROM api_keys WHERE name = ?", [server.key_name])
        rows = cur.fetchall()
    assert [r[0] for r in rows] == [hash_key(server.key)]
    assert server.key not in repr(rows)
    assert server.storage.revoke_key(server.key_name)
    assert server.client.get("/v11/cache/stats", headers=server.auth).status_code == 401


def test_events_are_idempotent_by_event_id(server: Server) -> None:
    batch = [event() for _ in range(20)]
    r = server.client.post("/v11/analytics/events", json={"events": batch}, headers=server.auth)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 20, "duplicates": 0}
    again = batch[10:] + [event() for _ in range(5)]  # a retried, re-formed batch
    r = server.client.post("/v11/analytics/events", json={"events": again}, headers=server.auth)
    assert r.json() == {"accepted": 5, "duplicates": 10}
    dup_in_one = [batch[0], batch[0]]
    assert server.client.post("/v11/analytics/events", json={"events": dup_in_one},
                              headers=server.auth).json() == {"accepted": 0, "duplicates": 2}
    assert server.storage.count_events() == 25


def test_events_of_another_key_are_separate(server: Server) -> None:
    _, other = server.storage.create_key("other")
    same = event()
    for key in (server.key, other):
        r = server.client.post("/v11/analytics/events", json={"events": [same]}, headers={"X-API-Key": key})
        assert r.json()["accepted"] == 1
    summary = server.client.get("/v11/analytics/summary", headers={"X-API-Key": other}).json()
    assert summary["total"] == 1


def test_summary_counts_per_day_and_latency_per_client(server: Server) -> None:
    events = [event(occurred_at="2030-01-01T10:00:00+00:00", client_id="a", latency_ms=float(ms))
              for ms in range(1, 101)]
    events += [event(occurred_at="2030-01-02T23:30:00-02:00", client_id="b", user_id="u1", latency_ms=500.0,
                     kind="message")]
    events += [event(occurred_at=datetime.now(UTC).isoformat(), client_id="b", latency_ms=None)]
    server.client.post("/v11/analytics/events", json={"events": events}, headers=server.auth)
    r = server.client.get("/v11/analytics/summary", params={"days": 366}, headers=server.auth)
    assert r.status_code == 200, r.text
    body = r.json()
    days = {(d["day"], d["kind"]): d["count"] for d in body["per_day"]}
    today = datetime.now(UTC).date().isoformat()
    # 2030 is in the future, outside "the last 366 days up to today": only today's event counts
    assert days == {(today, "turn"): 1} and body["total"] == 1
    # a window that reaches 2030 cannot be asked for (days is bounded)
    assert server.client.get("/v11/analytics/summary", params={"days": 5000}, headers=server.auth).status_code == 422


def test_summary_latency_percentiles_per_client_and_user(server: Server) -> None:
    now = datetime.now(UTC).isoformat()
    events = [event(occurred_at=now, client_id="a", latency_ms=float(ms)) for ms in range(1, 101)]
    events += [event(occurred_at=now, client_id="b", user_id="u1", latency_ms=500.0) for _ in range(3)]
    server.client.post("/v11/analytics/events", json={"events": events}, headers=server.auth)
    body = server.client.get("/v11/analytics/summary", params={"days": 1}, headers=server.auth).json()
    groups = {(g["client_id"], g["user_id"]): g for g in body["latency"]}
    assert groups[("a", None)]["count"] == 100
    assert groups[("a", None)]["p50_ms"] == 50.5
    assert abs(groups[("a", None)]["p95_ms"] - 95.05) < 1e-6
    assert groups[("b", "u1")]["p50_ms"] == 500.0 and groups[("b", "u1")]["count"] == 3
    assert body["total"] == 103


def test_invalid_events_get_clear_422s(server: Server) -> None:
    cases = {
        "props": event(props={"text": "x" * 65}),
        "latency_ms": event(latency_ms=-1),
        "occurred_at": event(occurred_at="1000-01-01T00:00:00"),
        "event_id": event(event_id="has spaces"),
        "extra": {**event(), "message_text": "hello"},
    }
    for name, bad in cases.items():
        r = server.client.post("/v11/analytics/events", json={"events": [bad]}, headers=server.auth)
        assert r.status_code == 422, (name, r.text)
        assert r.json()["message"].startswith("Invalid request: body.events.0")
    r = server.client.post("/v11/analytics/events", content=b'{"events": [', headers=server.auth)
    assert r.status_code == 422
    nan = b'{"events": [{"event_id": "e1", "kind": "turn", "occurred_at": "2024-01-01T00:00:00Z", ' \
          b'"client_id": "c", "latency_ms": NaN}]}'
    r = server.client.post("/v11/analytics/events", content=nan,
                           headers={**server.auth, "Content-Type": "application/json"})
    assert r.status_code == 422
    assert server.storage.count_events() == 0


def test_batches_and_bodies_are_bounded(make_server: Callable[..., Server]) -> None:
    server = make_server(max_events=10, max_body_bytes=4096)
    r = server.client.post("/v11/analytics/events", json={"events": [event() for _ in range(11)]},
                           headers=server.auth)
    assert r.status_code in (413, 422)
    small = make_server(max_events=100, max_body_bytes=4096)
    r = small.client.post("/v11/analytics/events", json={"events": [event() for _ in range(40)]},
                          headers=small.auth)
    assert r.status_code == 413 and r.json()["detail"]["code"] == "body_too_large"

    def chunks() -> Any:  # no Content-Length: the limit applies while reading
        for _ in range(10):
            yield b" " * 1000

    r = small.client.post("/v11/analytics/events", content=chunks(),
                          headers={**small.auth, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert small.storage.count_events() == 0


def test_generate_returns_studio_variants_and_caches_by_normalized_brief(server: Server) -> None:
    brief = brief_dict("ad-1")
    r = server.client.post("/v11/generate", json={"brief": brief, "n": 2}, headers=server.auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cached"] is False and len(body["variants"]) == 2
    local = generate_variants(Brief.model_validate(brief), SchemaLLM(), n=2)
    assert set(body["variants"][0]) == set(local[0].model_dump(mode="json"))
    assert body["variants"][0]["fields"] == local[0].model_dump(mode="json")["fields"]
    calls = server.llm.calls

    same = copy.deepcopy(brief)
    same["product"] = "  BrewMate   cold brew coffee maker "
    same["keywords"] = list(reversed(same["keywords"]))
    r = server.client.post("/v11/generate", json={"brief": same, "n": 2}, headers=server.auth)
    assert r.json()["cached"] is True and r.json()["variants"] == body["variants"]
    assert server.llm.calls == calls
    stats = server.client.get("/v11/cache/stats", headers=server.auth).json()
    assert stats["entries"] == 1 and stats["hits"] == 1 and stats["misses"] == 1

    other_n = server.client.post("/v11/generate", json={"brief": brief, "n": 1}, headers=server.auth).json()
    assert other_n["cached"] is False
    assert server.client.post("/v11/cache/clear", headers=server.admin).json() == {"cleared": 2}
    again = server.client.post("/v11/generate", json={"brief": brief, "n": 2}, headers=server.auth).json()
    assert again["cached"] is False


def test_generate_rejects_bad_briefs_with_the_field_named(server: Server) -> None:
    bad = {**brief_dict("ad-1"), "type": "sonnet"}
    r = server.client.post("/v11/generate", json={"brief": bad}, headers=server.auth)
    assert r.status_code == 422 and "body.brief.type" in r.json()["message"]
    r = server.client.post("/v11/generate", json={"brief": brief_dict("ad-1"), "n": 99}, headers=server.auth)
    assert r.status_code == 422 and "body.n" in r.json()["message"]
    assert server.llm.calls == 0


def test_batch_generate_is_bounded_and_reports_each_item(make_server: Callable[..., Server]) -> None:
    server = make_server(max_batch=2)
    items = [{"brief": brief_dict("ad-1"), "n": 1}, {"brief": brief_dict("email-1"), "n": 1}]
    r = server.client.post("/v11/batch-generate", json={"items": items}, headers=server.auth)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["ok"] for x in results] == [True, True] and [x["index"] for x in results] == [0, 1]
    assert results[1]["variants"][0]["type"] == "email"
    r = server.client.post("/v11/batch-generate", json={"items": items * 2}, headers=server.auth)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "batch_too_large"


def test_a_busy_model_answers_503_with_retry_after(make_server: Callable[..., Server]) -> None:
    server = make_server(llm=SchemaLLM(delay_s=0.3), max_waiting=0)
    results: list[int] = []

    def call(product: str) -> None:
        body = {"brief": {**brief_dict("ad-1"), "product": product}, "n": 1}
        results.append(server.client.post("/v11/generate", json=body, headers=server.auth).status_code)

    threads = [threading.Thread(target=call, args=(f"Product {i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results)[0] == 200 and 503 in results


def test_performance_stats_count_requests_errors_and_latency(server: Server) -> None:
    for _ in range(3):
        server.client.get("/v11/health")
    server.client.get("/v11/cache/stats")  # 401
    server.client.get("/v11/cache/stats", headers=server.auth)
    stats = server.client.get("/v11/performance-stats", headers=server.admin).json()
    health = stats["routes"]["GET /v11/health"]
    assert health["requests"] == 3 and health["error_rate"] == 0.0
    assert health["latency_ms"]["p50"] is not None and health["latency_ms"]["p95"] >= health["latency_ms"]["p50"]
    cache = stats["routes"]["GET /v11/cache/stats"]
    assert cache["requests"] == 2 and cache["client_errors"] == 1 and cache["error_rate"] == 0.5


def test_cors_is_off_by_default_and_on_when_configured(make_server: Callable[..., Server]) -> None:
    origin = {"Origin": "https://evil.example"}
    off = make_server()
    r = off.client.get("/v11/health", headers=origin)
    assert "access-control-allow-origin" not in r.headers
    on = make_server(cors_origins=("https://app.example",))
    r = on.client.get("/v11/health", headers={"Origin": "https://app.example"})
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in on.client.get("/v11/health", headers=origin).headers


def test_a_repeated_idempotency_key_replays_the_first_answer(server: Server) -> None:
    body = {"brief": brief_dict("ad-1"), "n": 1}
    idem = {**server.auth, "Idempotency-Key": "retry-1"}
    first = server.client.post("/v11/generate", json=body, headers=idem)
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    calls = server.llm.calls
    assert server.client.post("/v11/cache/clear", headers=server.admin).json() == {"cleared": 1}
    retry = server.client.post("/v11/generate", json=body, headers=idem)
    assert retry.json() == first.json() and retry.headers["Idempotent-Replayed"] == "true"
    assert server.llm.calls == calls  # nothing generated again, although the cache was emptied
    other = server.client.post("/v11/generate", json={**body, "n": 2}, headers=idem)
    assert other.status_code == 422 and other.json()["detail"]["code"] == "idempotency_key_reused"
    batch = {"items": [body]}
    bidem = {**server.auth, "Idempotency-Key": "batch-1"}
    assert server.client.post("/v11/batch-generate", json=batch, headers=bidem).json() == \
        server.client.post("/v11/batch-generate", json=batch, headers=bidem).json()


def test_metrics_are_for_admin_keys_in_prometheus_format(server: Server) -> None:
    server.client.get("/v11/health")
    assert server.client.get("/metrics").status_code == 401
    r = server.client.get("/metrics", headers=server.auth)
    assert r.status_code == 403 and r.json()["detail"]["code"] == "admin_only"
    _, admin = server.storage.create_key(f"ops-{uuid.uuid4().hex[:6]}", admin=True)
    r = server.client.get("/metrics", headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert 'visage_http_requests_total{route="GET /v11/health",status="200"} 1.0' in r.text
    assert "visage_http_request_duration_seconds_bucket" in r.text
