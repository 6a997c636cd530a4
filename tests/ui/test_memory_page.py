"""Settings › Memory: the facts every conversation knows, edited in the window and said in a turn."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.store import Store
from app.store.memory import MemoryStore
from app.ui.memory_page import MemoryPage
from tests.ui.conftest import NoAudio


def texts(page: MemoryPage) -> list[str]:
    return [page.facts.item(i).text() for i in range(page.facts.count())]


def settle(qtbot, page: MemoryPage) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: page.last_job is not None and page.last_job.finished, timeout=5000)


def test_add_edit_forget_and_undo_are_saved_at_once(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = Store(tmp_path / "visage.db")
    memory = MemoryStore(store)
    memory.add("I live in Lyon.")
    page = MemoryPage(memory)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: texts(page) == ["I live in Lyon."], timeout=5000)

    page.new_fact.setText("my name is Sam")
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: texts(page) == ["I live in Lyon.", "My name is Sam."], timeout=5000)
    assert page.new_fact.text() == "" and page.status.text() == "Remembered: My name is Sam."
    assert memory.texts() == ["I live in Lyon.", "My name is Sam."]

    page.facts.item(0).setText("I live in Paris")  # what a double-click edit does
    qtbot.waitUntil(lambda: memory.texts()[0] == "I live in Paris.", timeout=5000)
    qtbot.waitUntil(lambda: texts(page)[0] == "I live in Paris.", timeout=5000)

    page.facts.item(0).setText("   ")  # refused: the reason is shown and the stored text comes back
    qtbot.waitUntil(lambda: "cannot be empty" in page.status.text(), timeout=5000)
    qtbot.waitUntil(lambda: texts(page)[0] == "I live in Paris.", timeout=5000)

    page.facts.setCurrentRow(1)
    qtbot.mouseClick(page.forget_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: texts(page) == ["I live in Paris."], timeout=5000)
    assert memory.texts() == ["I live in Paris."] and page.undo_button.isVisibleTo(page)
    qtbot.mouseClick(page.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: texts(page) == ["I live in Paris.", "My name is Sam."], timeout=5000)
    settle(qtbot, page)
    store.close()


@pytest.mark.real_models
def test_remember_that_in_a_turn_shows_a_notice_and_lands_in_settings(qtbot, open_window) -> None:  # type: ignore[no-untyped-def]
    from app.ui.settings_dialog import SettingsDialog

    window = open_window(NoAudio())
    with qtbot.waitSignal(window.bridge.sig_notice, timeout=60_000,
                          check_params_cb=lambda level, message: message.startswith("Remembered")) as notice:
        window.compose.setPlainText("Remember that my name is Zorblax.")
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert notice.args == ["info", "Remembered: My name is Zorblax."]
    qtbot.waitUntil(lambda: "Remembered: My name is Zorblax." in window.statusBar().currentMessage(), timeout=5000)
    dialog = SettingsDialog(window.bridge.settings, parent=window,
                            memory=MemoryStore(window.bridge.session.store))
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: texts(dialog.memory_page) == ["My name is Zorblax."], timeout=5000)
