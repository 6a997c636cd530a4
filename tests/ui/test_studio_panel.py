"""The copy studio tab on the real embedded model: generate, live analysis, failing variants, rewrite,
versions, star, export, brand voices and cancel — all through the window's bridge, off the UI thread."""

from __future__ import annotations

import csv
import io
import sqlite3
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from app.studio import BrandVoice, Brief, evaluate
from app.ui.studio import VariantCard
from tests.ui.conftest import NoAudio

pytestmark = pytest.mark.real_models

SLOGAN = Brief(type="slogan", product="Brightside Coffee", audience="commuters",
               key_points=["roasted this week", "fair trade"], keywords=["coffee"], tone="warm")


def drafts(data_dir: Path) -> list[tuple[int, str, int]]:
    with sqlite3.connect(data_dir / "visage.db") as db:
        return db.execute("select id, type, favourite from drafts order by id").fetchall()


def versions(data_dir: Path, draft_id: int) -> list[tuple[int, str]]:
    with sqlite3.connect(data_dir / "visage.db") as db:
        return db.execute("select number, source from draft_versions where draft_id = ? order by number",
                          [draft_id]).fetchall()


def test_generate_edit_rewrite_star_and_export(qtbot, open_window, ui_env: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = open_window(NoAudio())
    studio = window.workspace.studio
    window.workspace.setCurrentWidget(studio)
    studio.set_brief(SLOGAN)
    studio.count.setValue(2)
    candidates: list[object] = []
    ui_thread = threading.get_ident()
    seen_on: set[int] = set()

    def on_candidate(variant: object) -> None:
        candidates.append(variant)
        seen_on.add(threading.get_ident())

    ticks: list[int] = []
    probe = QTimer()  # the UI thread keeps running while the model writes
    probe.timeout.connect(lambda: ticks.append(1))
    probe.start(20)
    with qtbot.waitSignal(studio.sig_generated, timeout=120_000) as generated:
        qtbot.mouseClick(studio.generate_button, Qt.MouseButton.LeftButton)
        assert studio.job is not None
        studio.job.sig_progress.connect(on_candidate)
        assert studio.cancel_button.isEnabled() and not studio.generate_button.isEnabled()
    probe.stop()
    variants = generated.args[0]
    assert len(variants) == 2 and len(studio.cards) == 2
    assert len(candidates) == 3, "each candidate is shown as it arrives (n + 1 of them)"
    assert seen_on == {ui_thread}
    assert len(ticks) > 10
    # side by side, each with its analysis panel and counts against the limits
    for card, variant in zip(studio.cards, variants, strict=True):
        assert card.variant.text == variant.text and card.draft_id is not None
        html = card.analysis.text()
        for part in ("Flesch ease", "grade", "Sentiment", "Keywords", "Banned words", "Passive voice",
                     "Long sentences"):
            assert part in html
        assert "/50 chars" in card.counts["slogan"].text()
        assert card.banner.text().startswith("✓" if variant.passes else "✗ FAILS")
    assert [d[1] for d in drafts(ui_env)] == ["slogan", "slogan"]

    # a hand edit updates the counts live; breaking a hard limit shows the card as failing
    card = studio.cards[0]
    card.editors["slogan"].setText("Brightside Coffee: " + "really " * 8 + "good coffee")
    qtbot.waitUntil(lambda: card.counts["slogan"].text().startswith(f"{len(card.editors['slogan'].text())}/50"),
                    timeout=2_000)
    assert card.failing and card.banner.text().startswith("✗ FAILS")
    assert card.property("failing") is True and "font-weight: 600" in card.counts["slogan"].styleSheet()
    card.editors["slogan"].setText("Brightside Coffee, fresh every day.")
    qtbot.waitUntil(lambda: not card.failing, timeout=2_000)
    with qtbot.waitSignal(card.sig_save, timeout=1_000):
        qtbot.mouseClick(card.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: card.version == 2, timeout=10_000)
    assert versions(ui_env, card.draft_id) == [(1, "generated"), (2, "edited")]

    # rewrite "shorter" on the model: a new version, shorter than the edit
    before = len(card.variant.text)
    job = studio.rewrite(card, "shorter")
    assert job is not None
    qtbot.waitUntil(lambda: card.version == 3, timeout=60_000)
    assert card.variant.source == "rewrite:shorter" and len(card.variant.text) < before
    assert versions(ui_env, card.draft_id)[-1] == (3, "rewrite:shorter")

    # star, copy to clipboard
    qtbot.mouseClick(card.star_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: drafts(ui_env)[0][2] == 1, timeout=10_000)
    qtbot.mouseClick(card.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == card.variant.text

    # export: a CSV that parses back, one row per draft with the current version
    out = tmp_path / "drafts.csv"
    studio.export_to(out)
    qtbot.waitUntil(lambda: studio.last_export == out, timeout=10_000)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["type"] for r in rows] == ["slogan", "slogan"]
    assert rows[0]["text"] == card.variant.text and rows[0]["version"] == "3" and rows[0]["favourite"] == "1"
    md = tmp_path / "drafts.md"
    studio.export_to(md)
    qtbot.waitUntil(lambda: studio.last_export == md, timeout=10_000)
    assert md.read_text(encoding="utf-8").startswith("# Drafts") and "★" in md.read_text(encoding="utf-8")


def test_brief_errors_voices_and_cancel(qtbot, open_window, ui_env: Path) -> None:  # type: ignore[no-untyped-def]
    window = open_window(NoAudio())
    studio = window.workspace.studio
    # a bad brief is refused with the field named, before any model call
    studio.type_combo.setCurrentIndex(studio.type_combo.findData("ad"))
    assert studio.platform.isVisibleTo(studio) and not studio.duration.isVisibleTo(studio)
    studio.product.setText("Brightside Coffee")
    assert studio.generate() is None
    assert "`cta`" in studio.status.text()

    # a brand voice is saved and offered in the picker
    voice = BrandVoice(name="Brightside", tone=["warm"], banned=["cheap"])
    studio.save_voice(voice)
    qtbot.waitUntil(lambda: studio.voice_combo.findData("Brightside") >= 0, timeout=10_000)
    assert studio.selected_voice() == voice
    assert studio.brief_data()["voice"] == "Brightside"

    # cancel stops a generation; nothing is saved
    studio.type_combo.setCurrentIndex(studio.type_combo.findData("product-description"))
    # (stops at the next token; the prompt itself is read first, which can take seconds on a busy CPU)
    with qtbot.waitSignal(studio.sig_busy, timeout=30_000, check_params_cb=lambda busy: not busy):
        studio.generate()
        qtbot.mouseClick(studio.cancel_button, Qt.MouseButton.LeftButton)
    assert "cancelled" in studio.status.text().lower()
    assert studio.cards == [] and drafts(ui_env) == []


def test_a_failing_variant_is_shown_as_failing(qtbot) -> None:  # type: ignore[no-untyped-def]
    brief = Brief(type="seo-meta", product="Brightside Coffee", keywords=["coffee"])
    variant = evaluate({"title": "Brightside Coffee " * 6, "description": "Fresh coffee."}, brief)
    assert not variant.passes
    card = VariantCard(variant, brief, None, index=1)
    qtbot.addWidget(card)
    assert card.failing and card.banner.text().startswith("✗ FAILS")
    assert "/60 chars" in card.counts["title"].text() and "c0392b" in card.counts["title"].styleSheet()


def test_generate_with_remote_falls_back_with_a_notice_and_read_aloud_goes_to_the_avatar(  # type: ignore[no-untyped-def]
        qtbot, open_window, ui_env: Path, monkeypatch) -> None:
    from app.core.config import Settings, SyncSettings
    from app.ui.workspace import CONVERSATION

    monkeypatch.setattr("app.sync.credentials.get_api_key", lambda: "vk_test")
    settings = Settings(sync=SyncSettings(enabled=True, server_url="http://127.0.0.1:9", timeout_s=2,
                                          use_remote_copywriting=True))
    window = open_window(NoAudio(), settings=settings)
    studio = window.workspace.studio
    assert studio.remote_button.isVisibleTo(studio)
    studio.set_brief(SLOGAN)
    studio.count.setValue(1)
    with qtbot.waitSignal(studio.sig_generated, timeout=120_000):
        qtbot.mouseClick(studio.remote_button, Qt.MouseButton.LeftButton)
    assert studio.notice.isVisibleTo(studio)
    assert "Remote copywriting is unavailable" in studio.notice.text() and "written locally" in studio.notice.text()
    assert len(studio.cards) == 1 and "local" in studio.status.text()

    # read aloud: the conversation tab (with the avatar) comes to the front and the bridge's read-aloud runs
    window.workspace.setCurrentWidget(studio)
    with qtbot.waitSignal(window.bridge.sig_notice, timeout=10_000) as notice:
        qtbot.mouseClick(studio.cards[0].read_button, Qt.MouseButton.LeftButton)
    assert window.workspace.currentIndex() == CONVERSATION
    assert "voice is off" in notice.args[1].lower()  # this test machine has no speakers; it says so
