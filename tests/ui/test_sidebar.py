"""Conversations and search in the sidebar, over a real SQLite history."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.store import Store
from tests.ui.conftest import NoAudio

pytestmark = pytest.mark.real_models


def seed(data_dir: Path) -> tuple[int, int]:
    with Store(data_dir / "visage.db") as store:
        paris = store.create_conversation()
        store.add_message(paris, "user", "What should I see in Paris?")
        store.add_message(paris, "assistant", "The Louvre and the Eiffel Tower.")
        food = store.create_conversation()
        store.add_message(food, "user", "A recipe for pancakes, please.")
        store.add_message(food, "assistant", "Flour, eggs and milk.")
    return paris, food


def titles(window) -> list[str]:  # type: ignore[no-untyped-def]
    lst = window.sidebar.conversations
    return [lst.item(i).text() for i in range(lst.count())]


def test_search_finds_messages_highlights_hits_and_opens_the_conversation(qtbot, open_window, ui_env: Path) -> None:  # type: ignore[no-untyped-def]
    paris, _food = seed(ui_env)
    window = open_window(NoAudio())
    qtbot.waitUntil(lambda: len(titles(window)) == 2)
    # the latest conversation opens at start
    qtbot.waitUntil(lambda: [b.text for b in window.chat.bubbles] == ["A recipe for pancakes, please.",
                                                                       "Flour, eggs and milk."])

    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.sidebar.search_box
    with qtbot.waitSignal(window.bridge.sig_search, timeout=10_000):
        qtbot.keyClicks(window.sidebar.search_box, "louvre")
        qtbot.keyClick(window.sidebar.search_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.sidebar.results.count() == 1)
    assert window.sidebar.results.isVisible() and not window.sidebar.conversations.isVisible()
    label = window.sidebar.hit_labels()[0]
    assert "background:#ffe27a" in label and ">Louvre</span>" in label and "What should I see in Paris?" in label

    item = window.sidebar.results.item(0)
    rect = window.sidebar.results.visualItemRect(item)
    with qtbot.waitSignal(window.bridge.sig_conversation, timeout=10_000):
        qtbot.mouseClick(window.sidebar.results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert [b.text for b in window.chat.bubbles] == ["What should I see in Paris?", "The Louvre and the Eiffel Tower."]
    assert window.chat.bubbles[1].property("flash") is True
    assert window.bridge.session.conversation_id == paris

    window.sidebar.search_box.clear()
    assert window.sidebar.conversations.isVisible() and not window.sidebar.results.isVisible()


def test_rename_pin_delete_with_undo_and_new(qtbot, open_window, ui_env: Path) -> None:  # type: ignore[no-untyped-def]
    paris, food = seed(ui_env)
    window = open_window(NoAudio())
    qtbot.waitUntil(lambda: len(titles(window)) == 2)

    window.sidebar.item_for(paris).setText("Paris plans")  # what the inline editor does
    qtbot.waitUntil(lambda: "Paris plans" in titles(window))
    window.sidebar.sig_pin.emit(paris, True)  # the context menu's "Pin to top"
    qtbot.waitUntil(lambda: titles(window)[0] == "★ Paris plans")

    window.sidebar.sig_delete.emit(food)
    qtbot.waitUntil(lambda: window.undo_bar.isVisible())
    assert "pancakes" in window.undo_label.text()
    qtbot.waitUntil(lambda: titles(window) == ["★ Paris plans"])
    qtbot.mouseClick(window.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(titles(window)) == 2)
    assert not window.undo_bar.isVisible()

    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.chat.bubbles == [])
    assert window.bridge.session.conversation_id is None
    with Store(ui_env / "visage.db") as store:
        listed = store.list_conversations()
    assert [(c.title, c.pinned) for c in listed] == [("Paris plans", True), ("A recipe for pancakes, please.", False)]


def test_export_a_conversation_or_all_from_the_sidebar(qtbot, open_window, ui_env: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from PySide6.QtWidgets import QFileDialog

    paris, _food = seed(ui_env)
    window = open_window(NoAudio())
    qtbot.waitUntil(lambda: len(titles(window)) == 2)
    target = tmp_path / "out" / "paris"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "Markdown (*.md)"))
    window.sidebar.sig_export.emit(paris)  # what the context menu's "Export…" does
    qtbot.waitUntil(lambda: "Exported to" in window.statusBar().currentMessage(), timeout=10_000)
    markdown = (tmp_path / "out" / "paris.md").read_text(encoding="utf-8")
    assert "What should I see in Paris?" in markdown and "The Louvre and the Eiffel Tower." in markdown
    assert "pancakes" not in markdown

    everything = tmp_path / "out" / "all.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(everything), "JSON (*.json)"))
    window.sidebar.sig_export.emit(None)
    qtbot.waitUntil(lambda: everything.exists(), timeout=10_000)
    texts = [m["text"] for c in json.loads(everything.read_text())["conversations"] for m in c["messages"]]
    assert "Flour, eggs and milk." in texts and "The Louvre and the Eiffel Tower." in texts

    window.export_to(paris, Path("/proc/visage-export.md"))  # a place nobody can write: said, not crashed
    qtbot.waitUntil(lambda: "Cannot write" in window.banner.text(), timeout=10_000)
