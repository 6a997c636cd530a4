"""The sync API key never travels over plain http: ``[sync] server_url`` is https only (http just to this
computer), refused with a message by the settings, `visage sync enable` and the client itself."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from app.cli import cli
from app.core import config
from app.core.errors import ConfigError
from app.sync.client import SyncClient
from app.sync.errors import SyncPermanent

REMOTE = ["http://visage.example.com", "http://10.0.0.5:8711", "http://127.0.0.1.evil.example", "http://visage.example.com:443/v11"]
LOOPBACK = ["http://127.0.0.1:8711", "http://localhost:8711/", "http://[::1]:8711", "http://127.8.9.1"]


@pytest.mark.parametrize("url", REMOTE)
def test_settings_refuse_plain_http_to_another_machine(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        config.from_dict({"sync": {"enabled": True, "server_url": url}})
    message = str(err.value)
    assert "sync.server_url" in message and "https://" in message and "unencrypted" in message


@pytest.mark.parametrize("url", [*LOOPBACK, "https://visage.example.com", "https://10.0.0.5:8443/api"])
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    assert config.from_dict({"sync": {"server_url": url}}).sync.server_url == url


def test_sync_enable_refuses_plain_http_and_keeps_the_old_settings(tmp_path: Path) -> None:
    conf = tmp_path / "c.toml"

    def enable(url: str) -> object:
        return CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "--config", str(conf),
                                        "sync", "enable", "--url", url, "--analytics"])

    assert enable("https://visage.example.com").exit_code == 0
    before = conf.read_text()
    r = enable("http://visage.example.com")
    assert r.exit_code != 0
    assert "https://" in r.output and "unencrypted" in r.output
    assert conf.read_text() == before  # nothing lost: the https setting stays


def test_the_client_sends_nothing_over_plain_http() -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"accepted": 1, "duplicates": 0})

    with pytest.raises(SyncPermanent) as err:
        SyncClient("http://visage.example.com", "vsk_secret", transport=httpx.MockTransport(record))
    assert "plain http" in err.value.message and "https://" in (err.value.hint or "")
    assert sent == []  # the key never left
    with SyncClient("http://127.0.0.1:9", "vsk_secret", transport=httpx.MockTransport(record)) as local:
        local.send_events([], idempotency_key="k")
    assert sent[0].headers["X-API-Key"] == "vsk_secret"
