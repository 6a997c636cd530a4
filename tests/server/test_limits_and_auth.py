"""Per-key rate limiting (429 + Retry-After, refill over time, keys independent) and the admin commands."""

from __future__ import annotations

from click.testing import CliRunner
from fastapi.testclient import TestClient

from server.__main__ import main as server_cli
from server.app import create_app
from server.settings import ServerSettings
from server.storage import Storage, hash_key
from tests.fakes import SchemaLLM


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_429_with_retry_after_then_refills(sqlite_url: str) -> None:
    clock = Clock()
    storage = Storage(sqlite_url)
    app = create_app(ServerSettings(database_url=sqlite_url, rate_per_minute=6, rate_burst=3),
                     storage=storage, llm_factory=SchemaLLM, clock=clock)
    _, key = storage.create_key("a")
    _, other = storage.create_key("b")
    _, ops = storage.create_key("ops", admin=True)
    with TestClient(app) as client:
        codes = [client.get("/v11/cache/stats", headers={"X-API-Key": key}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.get("/v11/cache/stats", headers={"X-API-Key": key})
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "10"  # 6/min: one token every 10 s
        assert limited.json()["detail"]["code"] == "rate_limited"
        # another key has its own bucket
        assert client.get("/v11/cache/stats", headers={"X-API-Key": other}).status_code == 200
        # health is not rate limited (no key)
        assert all(client.get("/v11/health").status_code == 200 for _ in range(5))
        clock.now += 10
        assert client.get("/v11/cache/stats", headers={"X-API-Key": key}).status_code == 200
        assert client.get("/v11/cache/stats", headers={"X-API-Key": key}).status_code == 429
        stats = client.get("/v11/performance-stats", headers={"X-API-Key": ops}).json()
        assert stats["routes"]["GET /v11/cache/stats"]["rate_limited"] == 3
    storage.close()


def test_admin_commands_create_list_and_revoke_keys(sqlite_url: str) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": sqlite_url}
    made = runner.invoke(server_cli, ["create-key", "acme"], env=env)
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[0]
    assert secret.startswith("vsk_") and len(secret) > 40
    again = runner.invoke(server_cli, ["create-key", "acme"], env=env)
    assert again.exit_code != 0 and "exists already" in again.output
    listed = runner.invoke(server_cli, ["list-keys"], env=env)
    assert "acme" in listed.output and secret not in listed.output
    storage = Storage(sqlite_url)
    assert storage.find_key(secret) is not None
    with storage._tx() as cur:
        cur.execute("SELECT key_hash FROM api_keys")
        assert cur.fetchone()[0] == hash_key(secret)
    assert runner.invoke(server_cli, ["revoke-key", "acme"], env=env).exit_code == 0
    assert storage.find_key(secret) is None
    assert runner.invoke(server_cli, ["revoke-key", "acme"], env=env).exit_code != 0
    storage.close()
    bad = runner.invoke(server_cli, ["list-keys"], env={"DATABASE_URL": "mysql://x"})
    assert bad.exit_code != 0 and "DATABASE_URL" in bad.output


def test_a_mistyped_setting_is_refused_with_the_list_of_settings(sqlite_url: str) -> None:
    result = CliRunner().invoke(server_cli, ["list-keys"], env={"DATABASE_URL": sqlite_url,
                                                                "VISAGE_SERVER_RATE_PER_MINUT": "5"})
    assert result.exit_code != 0
    assert "VISAGE_SERVER_RATE_PER_MINUT" in result.output and "VISAGE_SERVER_RATE_PER_MINUTE" in result.output
