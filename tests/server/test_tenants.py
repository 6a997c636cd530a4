"""Tenants are kept apart and operator routes need an admin key, on both backends: performance stats and
clearing the cache are admin-only, one key's cache never answers (or is counted for) another, and the
unauthenticated /health says nothing internal."""

from __future__ import annotations

from click.testing import CliRunner
from fastapi.testclient import TestClient

from app.core.errors import ModelError
from server.__main__ import main as server_cli
from server.app import create_app
from server.settings import ServerSettings
from server.storage import Storage
from tests.remote_helpers import brief_dict

from .conftest import Server

OPERATOR_ROUTES = [("get", "/v11/performance-stats"), ("post", "/v11/cache/clear")]


def test_operator_routes_refuse_user_keys_and_serve_admin_keys(server: Server) -> None:
    body = {"brief": brief_dict("ad-1"), "n": 1}
    assert server.client.post("/v11/generate", json=body, headers=server.auth).json()["cached"] is False
    for method, path in OPERATOR_ROUTES:
        r = server.client.request(method, path, headers=server.auth)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["detail"]["code"] == "admin_only" and "--admin" in r.json()["detail"]["hint"]
    # the refused clear dropped nothing
    assert server.client.post("/v11/generate", json=body, headers=server.auth).json()["cached"] is True
    for method, path in OPERATOR_ROUTES:
        assert server.client.request(method, path, headers=server.admin).status_code == 200, path
    assert server.client.post("/v11/generate", json=body, headers=server.auth).json()["cached"] is False


def test_one_key_learns_nothing_about_another_keys_briefs(server: Server) -> None:
    _, other = server.storage.create_key("tenant-b")
    b = {"X-API-Key": other}
    body = {"brief": brief_dict("email-1"), "n": 1}
    assert server.client.post("/v11/generate", json=body, headers=server.auth).json()["cached"] is False
    calls = server.llm.calls
    # the same brief from another tenant is not a hit: it is written again, for that tenant
    assert server.client.post("/v11/generate", json=body, headers=b).json()["cached"] is False
    assert server.llm.calls > calls
    assert server.client.post("/v11/generate", json=body, headers=server.auth).json()["cached"] is True
    own = {k: server.client.get("/v11/cache/stats", headers=h).json() for k, h in (("a", server.auth), ("b", b))}
    assert (own["a"]["entries"], own["a"]["hits"], own["a"]["misses"]) == (1, 1, 1)
    assert (own["b"]["entries"], own["b"]["hits"], own["b"]["misses"]) == (1, 0, 1)
    everything = server.client.get("/v11/cache/stats", headers=server.admin).json()
    assert (everything["entries"], everything["hits"], everything["misses"]) == (2, 1, 2)


def test_health_shows_no_internal_error_text(database_url: str) -> None:
    secret = "/srv/private/models/acme-finetune.gguf (DATABASE_URL=postgresql://ops:hunter2@db)"

    def broken_model() -> object:
        raise ModelError(f"llama.cpp cannot load {secret}", hint="Check the server's model.")

    storage = Storage(database_url)
    _, key = storage.create_key("tenant")
    app = create_app(ServerSettings(database_url=database_url, generation="local"), storage=storage,
                     llm_factory=broken_model)
    with TestClient(app) as client:
        r = client.post("/v11/generate", json={"brief": brief_dict("ad-1"), "n": 1}, headers={"X-API-Key": key})
        assert r.status_code == 503
        health = client.get("/v11/health")
        llm = health.json()["components"]["llm"]
        assert llm["ok"] is False and "failed to load" in llm["detail"]
        for leak in ("/srv/private", "hunter2", "acme-finetune", "llama.cpp"):
            assert leak not in health.text
        assert "entries" not in health.json()["components"]["cache"]["detail"]  # nothing about other tenants
    storage.close()


def test_create_key_admin_makes_an_admin_key(sqlite_url: str) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": sqlite_url}
    made = runner.invoke(server_cli, ["create-key", "ops", "--admin"], env=env)
    assert made.exit_code == 0, made.output
    user = runner.invoke(server_cli, ["create-key", "team"], env=env)
    listed = runner.invoke(server_cli, ["list-keys"], env=env).output
    assert any("\tops\t" in line and "\tadmin\t" in line for line in listed.splitlines())
    assert any("\tteam\t" in line and "\tuser\t" in line for line in listed.splitlines())
    storage = Storage(sqlite_url)
    app = create_app(ServerSettings(database_url=sqlite_url), storage=storage, llm_factory=lambda: None)
    with TestClient(app) as client:
        ops_key, team_key = made.stdout.split()[0], user.stdout.split()[0]
        assert client.get("/v11/performance-stats", headers={"X-API-Key": ops_key}).status_code == 200
        assert client.get("/v11/performance-stats", headers={"X-API-Key": team_key}).status_code == 403
    storage.close()
