"""Message actions (copy, regenerate, edit-and-resend, read aloud), Markdown replies and Esc, on the real models."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.ui import commands as cmd
from app.ui.chat import ChatView
from tests.ui.conftest import FileAudio, NoAudio

pytestmark = pytest.mark.real_models


def rows(data_dir: Path, *, replaced: bool = False) -> list[tuple[str, str, int]]:
    """The conversation's messages as stored (``replaced``: the ones regenerate/edit replaced instead)."""
    which = "is not null" if replaced else "is null"
    with sqlite3.connect(data_dir / "visage.db") as db:
        return db.execute(
            f"select role, text, interrupted from messages where superseded_at {which} order by id"
        ).fetchall()


def send(qtbot, window, text: str):  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.bridge.sig_finished, timeout=60_000) as finished:
        window.compose.setPlainText(text)
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    return finished.args[0]


def test_copy_regenerate_and_edit_and_resend(qtbot, open_window, ui_env: Path) -> None:  # type: ignore[no-untyped-def]
    window = open_window(NoAudio())
    first = send(qtbot, window, "Name a fruit.")
    reply = window.chat.bubbles[1]
    qtbot.mouseClick(reply.buttons["copy"], Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == first.reply_text == reply.text

    second = send(qtbot, window, "Why that one?")
    with qtbot.waitSignal(window.bridge.sig_finished, timeout=60_000) as again:
        qtbot.mouseClick(reply.buttons["regenerate"], Qt.MouseButton.LeftButton)
    # Regenerating the first reply replaces it and everything after it: in the window and in the history
    assert again.args[0].user_text == "Name a fruit."
    assert [b.role for b in window.chat.bubbles] == ["user", "assistant"]
    assert window.chat.bubbles[1].text == again.args[0].reply_text
    assert rows(ui_env) == [("user", "Name a fruit.", 0), ("assistant", again.args[0].reply_text, 0)]
    assert rows(ui_env, replaced=True) == [
        ("user", "Name a fruit.", 0), ("assistant", first.reply_text, 0),
        ("user", "Why that one?", 0), ("assistant", second.reply_text, 0),
    ]  # kept, not lost, but no longer part of the conversation

    user = window.chat.bubbles[0]
    qtbot.mouseClick(user.buttons["edit"], Qt.MouseButton.LeftButton)
    assert user.editor is not None and user.editor.toPlainText() == "Name a fruit."
    user.editor.setPlainText("Name a vegetable.")
    send_edited = user.findChildren(type(window.send_button))
    button = next(b for b in send_edited if b.text() == "Send edited")
    with qtbot.waitSignal(window.bridge.sig_finished, timeout=60_000) as edited:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert edited.args[0].user_text == "Name a vegetable."
    assert [(b.role, b.text) for b in window.chat.bubbles] == [
        ("user", "Name a vegetable."), ("assistant", edited.args[0].reply_text)]
    # the edited question was asked without the later exchanges in the model's context
    assert window.bridge.session.conversation.history[0].content == "Name a vegetable."
    assert rows(ui_env) == [("user", "Name a vegetable.", 0), ("assistant", edited.args[0].reply_text, 0)]
    # Reopening the conversation shows exactly what the window showed; search finds only the current words
    conversation_id = window.bridge.session.conversation_id
    with qtbot.waitSignal(window.bridge.sig_conversation, timeout=10_000):
        window.bridge.send(cmd.OpenConversation(conversation_id))
    assert [(b.role, b.text) for b in window.chat.bubbles] == [
        ("user", "Name a vegetable."), ("assistant", edited.args[0].reply_text)]
    current = {b.message_id for b in window.chat.bubbles}
    assert None not in current
    with qtbot.waitSignal(window.bridge.sig_search, timeout=10_000) as found:
        window.bridge.send(cmd.Search("why that one"))
    assert all(hit.message_id in current for hit in found.args[1])  # the replaced question is not found

    # read aloud with no speakers says why instead of failing silently
    with qtbot.waitSignal(window.bridge.sig_notice, timeout=10_000) as notice:
        qtbot.mouseClick(window.chat.bubbles[1].buttons["read_aloud"], Qt.MouseButton.LeftButton)
    assert "voice is off" in notice.args[1].lower()


def test_replies_render_markdown(qtbot) -> None:  # type: ignore[no-untyped-def]
    chat = ChatView()
    qtbot.addWidget(chat)
    bubble = chat.add_message("assistant", "**Paris** is lovely:\n\n- the Louvre\n- the Seine")
    html = bubble.label.text()
    assert "font-weight" in html and "<li" in html and "**" not in html
    user = chat.add_message("user", "**not markdown**")
    assert user.label.text() == "**not markdown**"


def test_escape_stops_the_spoken_reply_and_read_aloud_speaks_again(qtbot, open_window, ui_env: Path) -> None:  # type: ignore[no-untyped-def]
    audio = FileAudio()
    window = open_window(audio)
    with qtbot.waitSignal(window.bridge.sig_finished, timeout=60_000) as finished:
        window.compose.setPlainText("Tell me a long story about a lighthouse keeper.")
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.states[-1] == "speaking", timeout=60_000)
        sink = window.bridge.session.sink
        assert sink is not None
        qtbot.waitUntil(lambda: sink.audible_time() > 2.0 and sink.pending_s() > 1.0, timeout=30_000)
        queued_at_esc = sink.end_time
        window.chat.setFocus()
        at_esc = sink.audible_time()
        qtbot.keyClick(window.chat, Qt.Key.Key_Escape)
    event = finished.args[0]
    qtbot.waitUntil(lambda: window.states[-1] == "idle", timeout=10_000)
    # What the speaker played ends where Esc was pressed (the clock itself runs on through silence).
    recorded = audio.sinks[0].audio.size / (audio.sinks[0].sample_rate or 1)
    assert recorded < queued_at_esc - 0.5, "the queued speech kept playing after Esc"
    assert at_esc - 0.05 <= recorded <= at_esc + 0.3
    if event.interrupted:  # Esc came while the LLM or TTS was still working
        assert rows(ui_env)[-1][2] == 1
    # Read aloud speaks the reply again through the speakers and the avatar
    before = window.bridge.audible_time()
    with qtbot.waitSignal(window.bridge.sig_chunk, timeout=30_000):
        qtbot.mouseClick(window.chat.bubbles[1].buttons["read_aloud"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.bridge.audible_time() > before + 0.5, timeout=30_000)
    window.stop()
