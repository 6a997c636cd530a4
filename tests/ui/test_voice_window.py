"""A live voice conversation through the window, on the real models and file-backed audio."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer

from tests.audio_helpers import speak_with_piper
from tests.ui.conftest import FileAudio, NoAudio

pytestmark = pytest.mark.real_models


def clip(text: str, before_s: float = 0.4, after_s: float = 1.2) -> np.ndarray:
    speech = speak_with_piper(text)
    return np.concatenate([np.zeros(int(before_s * 16_000), np.float32), speech,
                           np.zeros(int(after_s * 16_000), np.float32)])


def stored(data_dir: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(data_dir / "visage.db") as db:
        return db.execute("select role, text, interrupted from messages order by id").fetchall()


def in_order(seen: list[str], wanted: list[str]) -> bool:
    """``wanted`` appears in ``seen`` as a subsequence."""
    it = iter(seen)
    return all(state in it for state in wanted)


def test_hands_free_voice_turn_through_the_window(qtbot, open_window, ui_env: Path) -> None:  # type: ignore[no-untyped-def]
    audio = FileAudio(clip("What is the capital of France?"))
    window = open_window(audio)
    partial: list[str] = []
    window.bridge.sig_token.connect(lambda *_: partial.append(window.chat.bubbles[-1].text))
    mouth_open: list[float] = []
    window.avatar.timer.timeout.connect(lambda: mouth_open.append(window.avatar.mouth.open))

    with qtbot.waitSignal(window.bridge.sig_finished, timeout=90_000) as finished:
        qtbot.mouseClick(window.hands_free, Qt.MouseButton.LeftButton)
    event = finished.args[0]
    qtbot.waitUntil(lambda: window.states[-1] in ("idle", "listening"), timeout=60_000)

    user, reply = window.chat.bubbles[0], window.chat.bubbles[1]
    assert user.role == "user" and "capital" in user.text.lower() and "france" in user.text.lower()
    assert reply.role == "assistant" and reply.text == event.reply_text and len(reply.text.split()) >= 2
    assert len(partial) >= 3 and len(set(partial)) >= 3, "the reply did not stream into the chat"
    assert partial[0] != reply.text
    assert stored(ui_env) == [("user", user.text, 0), ("assistant", reply.text, 0)]
    assert in_order(window.states, ["loading", "idle", "listening", "transcribing", "thinking", "speaking"])
    assert window.states[-1] in ("idle", "listening")
    timings = window.timings_label.text()
    assert "end of speech" in timings and "transcript" in timings and "first audio" in timings
    assert max(mouth_open) > 0.3, "the avatar's mouth never opened while Visage spoke"
    # the turn ends when its audio has been heard: the mouth closes within the next frames
    qtbot.waitUntil(lambda: window.avatar.mouth.open < 0.05, timeout=5_000)
    def titled() -> bool:  # the sidebar refreshes from the store in the background
        return any("capital" in window.sidebar.conversations.item(i).text().lower()
                   for i in range(window.sidebar.conversations.count()))

    qtbot.waitUntil(titled, timeout=10_000)


def test_event_loop_keeps_ticking_during_a_real_turn(qtbot, open_window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """No engine or database call runs on the Qt thread (checked directly), and the event loop keeps ticking."""
    import threading

    from app.store import Store

    qt_thread = threading.main_thread()
    on_ui_thread: list[str] = []

    def watch(owner: object, name: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            if threading.current_thread() is qt_thread:
                on_ui_thread.append(f"{getattr(owner, '__name__', owner)}.{name}")
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    audio = FileAudio(clip("Tell me about the moon."))
    window = open_window(audio)
    engines = window.bridge.session.engines
    assert engines is not None
    for engine, method in ((engines.asr, "transcribe"), (engines.llm, "stream"), (engines.tts, "synthesize"),
                           (engines.vad, "confidence")):
        watch(engine, method)
    for method in ("add_message", "create_conversation", "search", "list_conversations", "get_conversation"):
        watch(Store, method)
    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    with qtbot.waitSignal(window.bridge.sig_finished, timeout=90_000):
        qtbot.mouseClick(window.hands_free, Qt.MouseButton.LeftButton)
    timer.stop()
    gaps = np.diff(ticks) * 1000
    frames = np.array(window.avatar.frame_ms)
    print(f"event loop: {len(ticks)} ticks, max gap {gaps.max():.1f} ms, p99 {np.percentile(gaps, 99):.1f} ms; "
          f"avatar frame {frames.mean():.2f} ms mean, {frames.max():.2f} ms max")
    assert on_ui_thread == [], f"engine/database calls on the Qt thread: {sorted(set(on_ui_thread))}"
    assert len(ticks) > 100
    # The timer fires every 10 ms: 99 % of gaps stay under 50 ms, and none reaches 250 ms (a blocking
    # engine call would: whisper alone takes ~600 ms). Single longer gaps on a 2-core machine shared with
    # the whole pipeline are the OS scheduler, not our code (the direct check above proves that).
    assert np.percentile(gaps, 99) < 50, f"the event loop was slow: p99 gap {np.percentile(gaps, 99):.0f} ms"
    assert gaps.max() < 250, f"the Qt event loop stalled for {gaps.max():.0f} ms during a turn"


def test_push_to_talk_with_space(qtbot, open_window, ui_env: Path) -> None:  # type: ignore[no-untyped-def]
    question = clip("What color is the sky?", after_s=0.3)
    audio = FileAudio(question)  # a microphone in real time: the user holds Space while speaking
    window = open_window(audio)
    window.chat.setFocus()  # not the text box: Space means talk
    with qtbot.waitSignal(window.bridge.sig_finished, timeout=90_000) as finished:
        qtbot.keyPress(window.chat, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: "listening" in window.states)
        # hold until the microphone has delivered the whole question (not a fixed time: a busy machine lags)
        qtbot.waitUntil(lambda: audio.sources and audio.sources[0].position >= len(question) - 8000,
                        timeout=30_000)
        qtbot.keyRelease(window.chat, Qt.Key.Key_Space)
    assert "sky" in finished.args[0].user_text.lower()
    assert [b.role for b in window.chat.bubbles] == ["user", "assistant"]
    # Space typed in the text box is just a space
    window.compose.setFocus()
    qtbot.keyClicks(window.compose, "a b")
    assert window.compose.toPlainText() == "a b"


def test_no_sound_card_shows_the_banner_and_text_chat_works(qtbot, open_window, ui_env: Path) -> None:  # type: ignore[no-untyped-def]
    window = open_window(NoAudio())
    assert window.banner.isVisible()
    assert "voice is off: no microphone/speakers found — text chat works" in window.banner.text().lower()
    assert not window.talk_button.isEnabled() and not window.hands_free.isEnabled()
    with qtbot.waitSignal(window.bridge.sig_finished, timeout=60_000) as finished:
        qtbot.keyClicks(window.compose, "Hello there")
        qtbot.keyClick(window.compose, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.compose.toPlainText() == ""
    assert [b.role for b in window.chat.bubbles] == ["user", "assistant"]
    assert window.chat.bubbles[1].text == finished.args[0].reply_text != ""
    assert [r[0] for r in stored(ui_env)] == ["user", "assistant"]
