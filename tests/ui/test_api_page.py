"""Settings › Local API, and the API inside the window sharing the window's engines."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from app.core import config
from app.ui.commands import ApplySettings
from app.ui.settings_dialog import SettingsDialog
from tests.model_choice import SMALL_LLM


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_network_option_is_refused_without_a_key(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("VISAGE_API_KEY", raising=False)
    monkeypatch.setattr("app.core.secret_store.backend_name", lambda: None)  # a machine without a keyring
    dialog = SettingsDialog(config.Settings())
    qtbot.addWidget(dialog)
    page = dialog.api_page
    qtbot.waitUntil(lambda: page.has_key is not None, timeout=5000)
    assert "No OS keyring" in page.key_note.text() and not page.save_key.isEnabled()
    assert not page.port.isEnabled()  # off by default
    page.enabled.setChecked(True)
    page.port.setValue(9123)
    assert "http://127.0.0.1:9123/v1" in page.address.text() and "this computer only" in page.address.text()
    page.network.setChecked(True)
    dialog.accept()
    assert dialog.result_settings is None and "API key" in dialog.error.text()
    page.network.setChecked(False)
    dialog.accept()
    assert dialog.result_settings is not None
    assert dialog.result_settings.api.model_dump(include={"enabled", "port", "network"}) == {
        "enabled": True, "port": 9123, "network": False}


def test_with_a_key_the_network_option_is_saved(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VISAGE_API_KEY", "a-key-for-this-process")
    dialog = SettingsDialog(config.Settings(api=config.ApiSettings(enabled=True)))
    qtbot.addWidget(dialog)
    page = dialog.api_page
    qtbot.waitUntil(lambda: page.has_key is True, timeout=5000)
    page.network.setChecked(True)
    assert "your network" in page.address.text() and "Bearer" in page.address.text()
    dialog.accept()
    assert dialog.result_settings is not None and dialog.result_settings.api.network is True


@pytest.mark.real_models
def test_the_window_serves_the_api_with_its_own_engines(qtbot, open_window, ui_env: Path) -> None:  # type: ignore[no-untyped-def]
    import openai

    from tests.ui.conftest import NoAudio

    port = free_port()
    settings = config.Settings(llm=config.LLMSettings(model=SMALL_LLM), api=config.ApiSettings(enabled=True, port=port))
    window: Any = open_window(NoAudio(), settings=settings)
    bridge = window.bridge
    qtbot.waitUntil(lambda: bridge.api.url is not None, timeout=10_000)
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=0, timeout=120)
    loaded = {m.role: m.id for m in client.models.list() if m.loaded}
    assert loaded["llm"] == SMALL_LLM
    # the very engine objects and workers the window's conversation uses (no second copy of a model)
    engine, worker = bridge.runner.submit(bridge.api.host.engine("llm")).result(10)
    assert engine is bridge.session.engines.llm and worker is bridge.session.pipeline.worker("llm")
    before = len(bridge.session.store.list_conversations())
    reply = client.chat.completions.create(model=SMALL_LLM, messages=[{"role": "user", "content": "Say hi."}],
                                           max_tokens=8)
    assert reply.choices[0].message.content
    assert len(bridge.session.store.list_conversations()) == before  # not in the history
    with qtbot.waitSignal(bridge.sig_conversations, timeout=30_000) as refreshed:
        saved = client.chat.completions.with_raw_response.create(
            model=SMALL_LLM, messages=[{"role": "user", "content": "Note the green lamp."}], max_tokens=8,
            extra_headers={"X-Visage-Save": "true"})
    conversation_id = int(saved.headers["X-Visage-Conversation"])
    assert conversation_id in {c.id for c in refreshed.args[0]}  # the sidebar shows it
    # switching the API off in the settings closes the port
    bridge.send(ApplySettings(settings.model_copy(update={"api": config.ApiSettings(enabled=False, port=port)})))
    qtbot.waitUntil(lambda: bridge.api.url is None, timeout=10_000)
    with pytest.raises(openai.APIConnectionError):
        client.models.list()
