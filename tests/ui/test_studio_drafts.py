"""The copy studio's Drafts tab over a real SQLite history: the list (starred first, paged), full-text
search with highlighted hits, starred only, opening a draft (brief + the variants of its brief as cards
that can be edited and starred), delete with undo — and no store call on the Qt thread.

No language model is needed here: drafts are saved through the store, and the window runs on a
scripted LLM (the browser never calls one)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.store import Store
from app.store.drafts import DraftStore
from app.store.voices import VoiceStore
from app.studio import Brief, evaluate
from app.studio.library import save_variants, save_voice
from app.studio.voice import BrandVoice
from app.ui.drafts_browser import PAGE
from app.ui.studio import BRIEF_TAB, DRAFTS_TAB, StudioPanel
from tests.ui.studio_window import open_studio

COFFEE = Brief(type="slogan", product="Brightside Coffee", audience="commuters",
               key_points=["roasted this week", "fair trade"], keywords=["coffee"], tone="warm", voice="Brightside")
BIKES = Brief(type="slogan", product="Harbour Bikes", audience="students", keywords=["bike"])
COFFEE_TEXTS = ["Brightside coffee for your commute.", "Harmonica-smooth coffee, every morning.",
                "Coffee that wakes the whole town."]
VOICE = BrandVoice(name="Brightside", tone=["warm"], banned=["cheap"])


@pytest.fixture
def store_calls_on_qt_thread(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every DraftStore/VoiceStore call made on the Qt thread, by name (should stay empty)."""
    qt_thread = threading.main_thread()
    seen: list[str] = []
    for owner in (DraftStore, VoiceStore):
        for name, fn in list(vars(owner).items()):
            if name.startswith("_") or not callable(fn):
                continue

            def wrapper(*args: Any, __fn: Any = fn, __name: str = f"{owner.__name__}.{name}", **kwargs: Any) -> Any:
                if threading.current_thread() is qt_thread:
                    seen.append(__name)
                return __fn(*args, **kwargs)

            monkeypatch.setattr(owner, name, wrapper)
    return seen


def seed(data_dir: Path) -> tuple[list[int], int]:
    with Store(data_dir / "visage.db") as store:
        drafts = DraftStore(store)
        save_voice(VoiceStore(store), VOICE)
        coffee = save_variants(drafts, COFFEE, [evaluate({"slogan": t}, COFFEE, VOICE) for t in COFFEE_TEXTS],
                               voice=VOICE)
        [bikes] = save_variants(drafts, BIKES, [evaluate({"slogan": "Ride the harbour by bike."}, BIKES)])
        drafts.set_favourite(coffee[2])
    return coffee, bikes


def db_rows(data_dir: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data_dir / "visage.db") as db:
        return db.execute(sql, args).fetchall()


def click_entry(qtbot, studio: StudioPanel, draft_id: int) -> None:  # type: ignore[no-untyped-def]
    lst = studio.browser.list
    item = studio.browser.item_for(draft_id)
    assert item is not None
    lst.scrollToItem(item)
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=lst.visualItemRect(item).center())


def test_find_open_edit_delete_and_undo_a_draft(qtbot, ui_env: Path,  # type: ignore[no-untyped-def]
                                                store_calls_on_qt_thread: list[str]) -> None:
    coffee, bikes = seed(ui_env)
    store_calls_on_qt_thread.clear()  # seeding the history is the test's own doing
    window = open_studio(qtbot, ui_env)
    studio: StudioPanel = window.workspace.studio
    browser = studio.browser
    studio.left_tabs.setCurrentIndex(DRAFTS_TAB)
    qtbot.waitUntil(lambda: len(browser.ids()) == 4, timeout=15_000)

    # the list: starred first, then the newest; each entry with its type, title, date and star
    assert browser.ids() == [coffee[2], bikes, coffee[1], coffee[0]]
    first = browser.entries()[0]
    assert first.startswith("<div style='font-weight:600'>★ Brightside Coffee (slogan / tagline 3)</div>")
    assert "Slogan / tagline · " in first and "v1 ✓" in first and "Coffee that wakes the whole town." in first
    year = db_rows(ui_env, "select updated_at from drafts where id = ?", coffee[2])[0][0][:4]
    assert year in first  # the date, e.g. '03 May 2025 14:02'
    assert "★" not in browser.entries()[1]
    assert browser.summary.text() == "4 drafts, starred first, then newest."

    # search: typed words are debounced, searched in the store's full-text index, hits highlighted
    qtbot.keyClicks(browser.search_box, "harmonica")
    qtbot.waitUntil(lambda: browser.ids() == [coffee[1]], timeout=10_000)
    entry = browser.entries()[0]
    assert '<span style="background:#ffe27a;color:#1d1d1f">Harmonica</span>-smooth coffee' in entry
    assert browser.summary.text() == "1 draft matching “harmonica”."
    browser.search_box.clear()
    qtbot.waitUntil(lambda: len(browser.ids()) == 4, timeout=10_000)

    # starred only, alone and with a search
    qtbot.mouseClick(browser.starred, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: browser.ids() == [coffee[2]], timeout=10_000)
    qtbot.keyClicks(browser.search_box, "coffee")
    qtbot.waitUntil(lambda: browser.summary.text() == "1 starred draft matching “coffee”.", timeout=10_000)
    assert browser.ids() == [coffee[2]]
    hit = '<span style="background:#ffe27a;color:#1d1d1f">Coffee</span>'
    assert f"★ Brightside {hit} (slogan / tagline 3)</div>" in browser.entries()[0]  # in the title and the text
    assert f"<div>{hit} that wakes the whole town.</div>" in browser.entries()[0]
    browser.search_box.clear()
    qtbot.mouseClick(browser.starred, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(browser.ids()) == 4, timeout=10_000)

    # open: the brief fills the form, the variants of that brief come back as cards with their stars
    studio.set_brief(BIKES)  # something else in the form first
    click_entry(qtbot, studio, coffee[1])
    qtbot.waitUntil(lambda: [c.draft_id for c in studio.cards] == coffee, timeout=10_000)
    assert studio.left_tabs.currentIndex() == BRIEF_TAB
    assert studio.type_combo.currentData() == "slogan"
    assert studio.product.text() == "Brightside Coffee" and studio.audience.text() == "commuters"
    assert studio.key_points.toPlainText() == "roasted this week\nfair trade"
    assert studio.keywords.text() == "coffee" and studio.tone.text() == "warm"
    assert studio.voice_combo.currentData() == "Brightside"
    assert [c.editors["slogan"].text() for c in studio.cards] == COFFEE_TEXTS
    assert [c.star_button.isChecked() for c in studio.cards] == [False, False, True]
    assert all(c.banner.text().startswith("✓") for c in studio.cards)
    assert ("Opened “Brightside Coffee (slogan / tagline 2)”, with the 2 other variant(s) of its brief"
            in studio.status.text())
    assert not studio.notice.isVisibleTo(studio)

    # ... and the user carries on: a hand edit saved as version 2, a star
    card = studio.cards[0]
    card.editors["slogan"].setText("Brightside coffee, fresh for your commute.")
    qtbot.mouseClick(card.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: card.version == 2, timeout=10_000)
    assert db_rows(ui_env, "select number, source from draft_versions where draft_id = ? order by number",
                   coffee[0]) == [(1, "generated"), (2, "edited")]
    qtbot.mouseClick(card.star_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: db_rows(ui_env, "select favourite from drafts where id = ?", coffee[0]) == [(1,)],
                    timeout=10_000)
    qtbot.waitUntil(lambda: set(browser.ids()[:2]) == {coffee[0], coffee[2]}, timeout=10_000)  # starred on top

    # delete the opened draft: gone from the list and the cards; Undo brings it back
    studio.left_tabs.setCurrentIndex(DRAFTS_TAB)
    browser.list.setCurrentItem(browser.item_for(coffee[0]))
    qtbot.mouseClick(browser.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: coffee[0] not in browser.ids() and len(browser.ids()) == 3, timeout=10_000)
    assert browser.undo_bar.isVisible() and "Brightside Coffee (slogan / tagline 1)" in browser.undo_label.text()
    assert [c.draft_id for c in studio.cards] == coffee[1:]
    assert db_rows(ui_env, "select deleted_at is not null from drafts where id = ?", coffee[0]) == [(1,)]
    qtbot.mouseClick(browser.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: coffee[0] in browser.ids(), timeout=10_000)
    assert not browser.undo_bar.isVisible()
    assert db_rows(ui_env, "select deleted_at from drafts where id = ?", coffee[0]) == [(None,)]
    assert db_rows(ui_env, "select count(*) from draft_versions where draft_id = ?", coffee[0]) == [(2,)]

    assert store_calls_on_qt_thread == [], f"store calls on the Qt thread: {sorted(set(store_calls_on_qt_thread))}"


def test_a_long_list_comes_a_page_at_a_time(qtbot, ui_env: Path) -> None:  # type: ignore[no-untyped-def]
    with Store(ui_env / "visage.db") as store:
        drafts = DraftStore(store)
        ids = [drafts.create_draft(type_="slogan", title=f"Slogan number {i}", fields={"slogan": f"Text {i}"},
                                   text=f"Text {i}") for i in range(PAGE + 12)]
    window = open_studio(qtbot, ui_env)
    browser = window.workspace.studio.browser
    qtbot.waitUntil(lambda: len(browser.ids()) == PAGE, timeout=15_000)
    assert browser.summary.text() == f"Showing {PAGE} of {PAGE + 12} drafts, starred first, then newest."
    assert browser.ids()[0] == ids[-1]  # newest first
    assert browser.more_button.isVisibleTo(browser)
    qtbot.mouseClick(browser.more_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(browser.ids()) == PAGE + 12, timeout=10_000)
    assert browser.ids() == list(reversed(ids)) and not browser.more_button.isVisibleTo(browser)


def test_a_draft_whose_voice_is_gone_opens_with_a_notice(qtbot, ui_env: Path) -> None:  # type: ignore[no-untyped-def]
    with Store(ui_env / "visage.db") as store:
        [draft] = save_variants(DraftStore(store), COFFEE, [evaluate({"slogan": COFFEE_TEXTS[0]}, COFFEE)])
    window = open_studio(qtbot, ui_env)
    studio: StudioPanel = window.workspace.studio
    qtbot.waitUntil(lambda: studio.browser.ids() == [draft], timeout=15_000)
    studio.open_draft(draft)
    qtbot.waitUntil(lambda: len(studio.cards) == 1, timeout=10_000)
    assert studio.notice.isVisibleTo(studio)
    assert "brand voice 'Brightside' is no longer saved" in studio.notice.text()
    assert studio.voice_combo.currentData() is None
