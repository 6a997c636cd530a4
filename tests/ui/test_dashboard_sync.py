"""The usage dashboard (numbers from a store with known rows), the sync indicator (a real stopped sender)
and the Sync / Avatar pages of the settings dialog."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core import config
from app.store import Store
from app.store.drafts import DraftStore
from app.sync import SyncStatus
from app.ui.dashboard import DashboardPanel
from app.ui.settings_dialog import SettingsDialog
from app.ui.sync_ui import SyncIndicator, describe_sync
from tests.ui.conftest import NoAudio


def seed(db: Path) -> None:
    with Store(db) as store:
        cid = store.create_conversation()
        for first_audio in (0.5, 0.7, 0.9):
            store.add_message(cid, "user", "hello")
            store.add_message(cid, "assistant", "hi there",
                              timings={"first_token_s": 0.2, "first_audio_s": first_audio})
        drafts = DraftStore(store)
        for type_ in ("slogan", "slogan", "ad"):
            drafts.create_draft(type_=type_, title="t", fields={"slogan": "x"}, text="x", analysis={},
                                score=50.0, passes=True, source="generated")


def test_dashboard_shows_the_numbers_of_the_store(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "visage.db"
    seed(db)
    panel = DashboardPanel(lambda: db)
    qtbot.addWidget(panel)
    job = panel.refresh()
    assert job is not None
    qtbot.waitUntil(lambda: panel.summary is not None, timeout=10_000)
    assert panel.turns_total.text() == "3 in 30 days"
    assert panel.turns_chart.data[-1][1] == [3.0]  # today
    assert sum(v[0] for _, v in panel.turns_chart.data) == 3
    assert panel.first_audio.text() == "700 ms (p95 880 ms)"
    latency = dict(panel.latency_chart.data)
    assert latency["first audio"] == [700.0, 880.0] and latency["first token"] == [200.0, 200.0]
    assert panel.drafts_total.text() == "3"
    assert dict(panel.drafts_chart.data) == {"ad": [1.0], "slogan": [2.0]}
    assert panel.time_saved.text().startswith("≈ 45 min") and "estimate" in panel.time_saved.text()
    panel.resize(900, 600)
    assert not panel.grab().isNull()  # the charts paint


def test_dashboard_without_a_database_says_why(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = DashboardPanel(lambda: tmp_path / "none.db")
    qtbot.addWidget(panel)
    panel.refresh()
    qtbot.waitUntil(lambda: "There is no Visage database" in panel.status.text(), timeout=10_000)


def test_indicator_states() -> None:
    def status(**kw: object) -> SyncStatus:
        base = dict(running=True, pending=0, last_success=None, last_error=None, stopped=None,
                    next_retry_in_s=None, sent_this_session=0)
        base.update(kw)
        return SyncStatus(**base)  # type: ignore[arg-type]

    assert describe_sync(False, None)[0] == "Sync: off"
    assert describe_sync(True, None)[0] == "Sync: on (no analytics)"
    ok = describe_sync(True, status(last_success="2025-01-02T03:04:05Z"))[0]
    assert ok == "Sync ok · last success 2025-01-02 03:04"
    assert describe_sync(True, status(pending=4, last_error="Cannot reach the server.",
                                      next_retry_in_s=3))[0] == "Sync: 4 pending, retrying in 3 s"
    text, _colour, tip = describe_sync(True, status(pending=2, stopped="The server refused the API key (401)."))
    assert text == "Sync stopped: The server refused the API key (401)." and "API key" in tip


@pytest.mark.real_models
def test_the_indicator_shows_a_stopped_sender(qtbot, open_window, ui_env: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("app.sync.credentials.get_api_key", lambda: None)  # no key anywhere
    with Store(ui_env / "visage.db") as store:  # an event waiting in the outbox from an earlier run
        store.outbox.queue_message_events(True)
        store.add_message(store.create_conversation(), "user", "hello")
    settings = config.Settings(sync=config.SyncSettings(enabled=True, server_url="http://127.0.0.1:9",
                                                        share_analytics=True))
    window = open_window(NoAudio(), wait_ready=False, settings=settings)
    indicator: SyncIndicator = window.workspace.sync_indicator
    qtbot.waitUntil(lambda: indicator.status is not None and indicator.status.stopped is not None, timeout=20_000)
    assert indicator.text().startswith("● Sync stopped: No API key is set")
    assert indicator.status.pending == 1 and "c0392b" in indicator.styleSheet()


def test_sync_page_validates_and_saves_into_the_settings(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(config.Settings(), data_dir=tmp_path)
    qtbot.addWidget(dialog)
    page = dialog.sync_page
    page.enabled.setChecked(True)
    dialog.accept()
    assert dialog.result_settings is None and "no server URL" in dialog.error.text()
    page.server_url.setText("ftp://nope")
    dialog.accept()
    assert dialog.result_settings is None and "sync.server_url" in dialog.error.text()
    page.server_url.setText("https://visage.example.com")
    page.analytics.setChecked(True)
    page.remote_copy.setChecked(True)
    dialog.accept()
    assert dialog.result_settings is not None, dialog.error.text()
    assert dialog.result_settings.sync == config.SyncSettings(
        enabled=True, server_url="https://visage.example.com", share_analytics=True, use_remote_copywriting=True)
    # the API key field: stored only in an OS keyring; without one it says so and stores nothing
    qtbot.waitUntil(lambda: page.keyring_ok is not None, timeout=10_000)
    if not page.keyring_ok:
        assert "no OS keyring" in page.key_note.text() and not page.api_key.isEnabled()
    page.api_key.setText("vk_secret_123")
    dialog.accept()
    assert "vk_secret_123" not in config.to_toml(dialog.result_settings)  # the key never goes to config.toml
