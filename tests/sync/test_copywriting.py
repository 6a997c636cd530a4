"""Remote copywriting with fallback: server up -> remote variants; server down or refusing -> local
variants and a notice saying so."""

from __future__ import annotations

import socket

from app.core.config import SyncSettings
from app.studio import Brief
from app.sync import SyncClient, generate_copy
from tests.fakes import SchemaLLM
from tests.remote_helpers import brief_dict

from .conftest import Live

BRIEF = Brief.model_validate(brief_dict("ad-1"))


def remote_settings(url: str) -> SyncSettings:
    return SyncSettings(enabled=True, server_url=url, use_remote_copywriting=True, timeout_s=5)


def test_server_up_gives_remote_variants(live: Live) -> None:
    local = SchemaLLM(phrase="Local words")
    result = generate_copy(BRIEF, settings=remote_settings(live.url), local_llm=local, n=2,
                           client_factory=lambda: SyncClient(live.url, live.key))
    assert result.source == "remote" and result.notice is None
    assert len(result.variants) == 2 and result.variants[0].type == "ad"
    assert "Remote" in result.variants[0].text and local.calls == 0 and live.llm.calls > 0


def test_server_down_falls_back_to_local_with_a_notice() -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    local = SchemaLLM(phrase="Local words for coffee")
    result = generate_copy(BRIEF, settings=remote_settings(dead), local_llm=lambda: local, n=2,
                           client_factory=lambda: SyncClient(dead, "vsk_x", timeout_s=2))
    assert result.source == "local" and local.calls > 0
    assert result.notice is not None and "written locally" in result.notice and "reach" in result.notice
    assert "Local" in result.variants[0].text


def test_a_refused_key_falls_back_too(live: Live) -> None:
    local = SchemaLLM()
    result = generate_copy(BRIEF, settings=remote_settings(live.url), local_llm=local, n=1,
                           client_factory=lambda: SyncClient(live.url, "vsk_wrong"))
    assert result.source == "local" and result.notice is not None and "401" in result.notice


def test_remote_off_means_local_and_no_notice(live: Live) -> None:
    local = SchemaLLM()
    calls = live.llm.calls
    result = generate_copy(BRIEF, settings=SyncSettings(enabled=True, server_url=live.url), local_llm=local, n=1,
                           client_factory=lambda: SyncClient(live.url, live.key))
    assert result.source == "local" and result.notice is None and live.llm.calls == calls
