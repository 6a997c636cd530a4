"""The main window: sidebar (conversations, search), the avatar, the chat, the microphone controls.

Everything the window does to the core goes through ``bridge.send(command)``; everything it shows comes
from the bridge's ``sig_*`` signals. Nothing here waits on an engine or the database.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.events import TurnFinished
from app.store.records import Conversation, ConversationSummary, SearchHit
from app.ui import commands as cmd
from app.ui.avatar_widget import AvatarWidget
from app.ui.bridge import CoreBridge
from app.ui.chat import ChatView, ComposeBox
from app.ui.sidebar import Sidebar
from app.ui.theme import STATE_COLOURS
from app.ui.workspace import Workspace
from engines.base import AudioChunk

log = logging.getLogger(__name__)

VOICE_OFF = "Voice is off: no microphone/speakers found — text chat works."
STATE_TEXT = {
    "loading": "Loading models…",
    "idle": "Idle",
    "listening": "Listening",
    "transcribing": "Transcribing",
    "thinking": "Thinking",
    "speaking": "Speaking",
}


def describe_timings(timings: dict[str, float]) -> str:
    """Per-turn timings as a user reads them: end of speech → transcript → first token → first audio."""
    parts = []
    if "transcript_s" in timings:
        parts.append(f"transcript {timings['transcript_s']:.2f} s")
    if "first_token_s" in timings:
        parts.append(f"first token {timings['first_token_s']:.2f} s")
    if "first_audio_s" in timings:
        parts.append(f"first audio {timings['first_audio_s']:.2f} s")
    if not parts:
        return ""
    origin = "end of speech" if "transcript_s" in timings else "send"
    return f"{origin} → " + " → ".join(parts)


class MainWindow(QMainWindow):
    def __init__(self, bridge: CoreBridge, *, theme: str = "system") -> None:
        super().__init__()
        self.bridge = bridge
        self.theme = theme
        self.setWindowTitle("Visage")
        self.resize(1280, 780)
        self.states: list[str] = []  # every visible state, in order (the status bar shows the last)
        self._jump_to_message: int | None = None
        self._talk_held = False

        # ---- widgets ----
        self.sidebar = Sidebar()
        self.avatar = AvatarWidget(bridge.audible_time)
        self.chat = ChatView()
        self.compose = ComposeBox()
        self.send_button = QPushButton("Send")
        self.send_button.setToolTip("Send (Ctrl+Enter)")
        self.talk_button = QPushButton("Hold to talk  (Space)")
        self.talk_button.setObjectName("talk")
        self.talk_button.setToolTip("Hold to speak; release to send (or hold Space)")
        self.talk_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.hands_free = QPushButton("Hands-free")
        self.hands_free.setObjectName("hands_free")
        self.hands_free.setCheckable(True)
        self.hands_free.setToolTip("Listen all the time: Visage answers when you stop speaking")
        self.hands_free.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.stop_button = QPushButton("Stop (Esc)")
        self.stop_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.settings_button = QPushButton("⚙ Settings")
        self.settings_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.undo_bar = QWidget()
        self.undo_bar.setObjectName("undo_bar")
        undo_row = QHBoxLayout(self.undo_bar)
        undo_row.setContentsMargins(12, 4, 6, 4)
        self.undo_label = QLabel()
        self.undo_button = QPushButton("Undo")
        undo_row.addWidget(self.undo_label, 1)
        undo_row.addWidget(self.undo_button)
        self.undo_bar.hide()
        self._undo_id: int | None = None
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.setInterval(10_000)
        self._undo_timer.timeout.connect(self.undo_bar.hide)

        # status bar
        self.state_label = QLabel()
        self.state_label.setObjectName("state")
        self.timings_label = QLabel()
        self.timings_label.setObjectName("timings")
        self.progress = QProgressBar()
        self.progress.setFixedWidth(180)
        self.progress.setRange(0, 4)
        self.progress_label = QLabel("Starting…")
        self.engines_label = QLabel()
        bar = self.statusBar()
        bar.addWidget(self.state_label)
        bar.addWidget(self.timings_label, 1)
        bar.addPermanentWidget(self.progress_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.engines_label)

        # ---- layout ----
        stage = QWidget()
        stage.setObjectName("stage")
        stage_col = QVBoxLayout(stage)
        stage_col.setContentsMargins(12, 12, 12, 12)
        stage_col.addWidget(self.avatar, 1)
        controls = QHBoxLayout()
        controls.addWidget(self.talk_button, 2)
        controls.addWidget(self.hands_free, 1)
        controls.addWidget(self.stop_button, 1)
        stage_col.addLayout(controls)

        chat_panel = QWidget()
        chat_col = QVBoxLayout(chat_panel)
        chat_col.setContentsMargins(0, 0, 0, 0)
        chat_col.addWidget(self.chat, 1)
        compose_row = QHBoxLayout()
        compose_row.setContentsMargins(12, 6, 12, 12)
        compose_row.addWidget(self.compose, 1)
        compose_row.addWidget(self.send_button)
        chat_col.addLayout(compose_row)

        main_split = QSplitter(Qt.Orientation.Horizontal)
        main_split.addWidget(stage)
        main_split.addWidget(chat_panel)
        main_split.setStretchFactor(0, 5)
        main_split.setStretchFactor(1, 6)
        main_split.setSizes([470, 560])

        central = QWidget()
        central.setObjectName("central")
        col = QVBoxLayout(central)
        col.setContentsMargins(12, 12, 12, 0)
        col.setSpacing(8)
        col.addWidget(self.banner)
        col.addWidget(self.undo_bar)
        self.workspace = Workspace(bridge, main_split)  # tabs: conversation, copy studio, dashboard
        col.addWidget(self.workspace, 1)
        bar.addPermanentWidget(self.workspace.sync_indicator)
        self.avatar.use_avatar(bridge.settings.avatar, self.on_error)

        sidebar_panel = QWidget()
        side_col = QVBoxLayout(sidebar_panel)
        side_col.setContentsMargins(0, 0, 0, 0)
        side_col.setSpacing(0)
        side_col.addWidget(self.sidebar, 1)
        settings_row = QHBoxLayout()
        settings_row.setContentsMargins(10, 6, 10, 10)
        settings_row.addWidget(self.settings_button)
        side_col.addLayout(settings_row)
        sidebar_panel.setObjectName("sidebar")

        outer = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(sidebar_panel)
        outer.addWidget(central)
        outer.setStretchFactor(0, 0)
        outer.setStretchFactor(1, 1)
        outer.setSizes([260, 1020])
        self.setCentralWidget(outer)

        # ---- wiring: widgets -> commands ----
        self.compose.sig_send.connect(self.send_text)
        self.send_button.clicked.connect(self.compose.submit)
        self.talk_button.pressed.connect(self.press_talk)
        self.talk_button.released.connect(self.release_talk)
        self.hands_free.toggled.connect(lambda on: self.bridge.send(cmd.SetHandsFree(on)))
        self.stop_button.clicked.connect(self.stop)
        self.settings_button.clicked.connect(self.open_settings)
        self.undo_button.clicked.connect(self.undo_delete)
        self.sidebar.sig_new.connect(self.new_conversation)
        self.sidebar.sig_open.connect(lambda cid: self.bridge.send(cmd.OpenConversation(cid)))
        self.sidebar.sig_rename.connect(lambda cid, title: self.bridge.send(cmd.RenameConversation(cid, title)))
        self.sidebar.sig_pin.connect(lambda cid, pinned: self.bridge.send(cmd.PinConversation(cid, pinned)))
        self.sidebar.sig_delete.connect(lambda cid: self.bridge.send(cmd.DeleteConversation(cid)))
        self.sidebar.sig_search.connect(lambda query: self.bridge.send(cmd.Search(query)))
        self.sidebar.sig_open_hit.connect(self.open_hit)
        self.sidebar.sig_export.connect(self.ask_export)
        self.chat.sig_read_aloud.connect(lambda text: self.bridge.send(cmd.ReadAloud(text)))
        self.chat.sig_regenerate.connect(self.regenerate)
        self.chat.sig_edit.connect(self.edit_and_resend)

        # ---- wiring: core -> widgets ----
        b = self.bridge
        b.sig_state.connect(self.on_state)
        b.sig_models.connect(self.on_models)
        b.sig_ready.connect(self.on_ready)
        b.sig_failed.connect(self.on_failed)
        b.sig_audio.connect(self.on_audio)
        b.sig_transcript.connect(self.on_transcript)
        b.sig_saved.connect(self.chat.on_saved)
        b.sig_token.connect(self.chat.append_token)
        b.sig_chunk.connect(self.on_chunk)
        b.sig_finished.connect(self.on_finished)
        b.sig_notice.connect(self.on_notice)
        b.sig_conversations.connect(self.on_conversations)
        b.sig_conversation.connect(self.on_conversation)
        b.sig_search.connect(self.on_search)
        b.sig_deleted.connect(self.on_deleted)
        b.sig_hands_free.connect(self.on_hands_free_stopped)
        b.sig_error.connect(self.on_error)

        # ---- keyboard ----
        QShortcut(QKeySequence("Ctrl+N"), self, self.new_conversation)
        QShortcut(QKeySequence("Ctrl+F"), self, self.sidebar.focus_search)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.stop)
        QShortcut(QKeySequence("Ctrl+,"), self, self.open_settings)
        QShortcut(QKeySequence("Ctrl+E"), self, lambda: self.ask_export(self.bridge.session.conversation_id))
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.on_state("loading")
        self.talk_button.setEnabled(False)
        self.hands_free.setEnabled(False)

    # ---- commands ----
    def send_text(self, text: str) -> None:
        self.chat.add_message("user", text)
        self.bridge.send(cmd.SendText(text))

    def press_talk(self) -> None:
        if not self.talk_button.isEnabled() or self._talk_held:
            return
        self._talk_held = True
        self.talk_button.setProperty("held", True)
        self._repolish(self.talk_button)
        self.bridge.send(cmd.PressTalk())

    def release_talk(self) -> None:
        if not self._talk_held:
            return
        self._talk_held = False
        self.talk_button.setProperty("held", False)
        self._repolish(self.talk_button)
        self.bridge.send(cmd.ReleaseTalk())

    def stop(self) -> None:
        self.bridge.send(cmd.Stop())

    def new_conversation(self) -> None:
        self.bridge.send(cmd.NewConversation())
        self.compose.setFocus()

    def open_hit(self, conversation_id: int, message_id: int) -> None:
        self._jump_to_message = message_id
        self.bridge.send(cmd.OpenConversation(conversation_id))

    def undo_delete(self) -> None:
        if self._undo_id is not None:
            self.bridge.send(cmd.RestoreConversation(self._undo_id))
            self._undo_id = None
        self.undo_bar.hide()

    def regenerate(self, index: int) -> None:
        """A new answer to the question before reply ``index``; the old answer (and anything after it) goes."""
        users = [i for i, b in enumerate(self.chat.bubbles[:index]) if b.role == "user"]
        if users:
            self._resend_from(users[-1], self.chat.bubbles[users[-1]].text)

    def edit_and_resend(self, index: int, text: str) -> None:
        """Replace user message ``index`` (and everything after it) with ``text`` and answer that."""
        self._resend_from(index, text)

    def _resend_from(self, index: int, text: str) -> None:
        # Like the store: the conversation from this message on is replaced, not appended to.
        context = self.chat.context_before(index)
        supersede_from = self.chat.bubbles[index].message_id
        self.chat.truncate(index)
        self.chat.add_message("user", text)
        self.bridge.send(cmd.Resend(context, text, supersede_from))

    # ---- export ----
    def ask_export(self, conversation_id: int | None) -> None:
        """Ask where to save a conversation (``None``: all of them) as Markdown or JSON, then export it."""
        from PySide6.QtWidgets import QFileDialog

        name = "visage-conversations" if conversation_id is None else f"visage-conversation-{conversation_id}"
        path, chosen = QFileDialog.getSaveFileName(self, "Export conversations", str(Path.home() / f"{name}.md"),
                                                   "Markdown (*.md);;JSON (*.json)")
        if path:
            self.export_to(conversation_id, Path(path), "json" if "json" in chosen.lower() else "md")

    def export_to(self, conversation_id: int | None, path: Path, fmt: str = "md") -> object:
        """Write the export in the background; the status bar says where it went (or what to fix)."""
        from app.core.files import write_text_atomic
        from app.ui.jobs import thread_job

        store = self.bridge.session.store
        if store is None:
            self.on_error("The history is not open yet; try again in a moment.")
            return None
        if path.suffix.lower() in (".md", ".json"):
            fmt = path.suffix.lower()[1:]  # the name the user typed wins over the filter
        else:
            path = path.with_suffix(f".{fmt}")

        def export() -> Path:
            ids = None if conversation_id is None else [conversation_id]
            return write_text_atomic(path, store.export(ids, fmt))

        return thread_job("export the conversations", export,
                          on_done=lambda out: self.statusBar().showMessage(f"Exported to {out}", 10_000),
                          on_failed=self.on_error)

    def open_settings(self) -> None:
        from app.store.memory import MemoryStore
        from app.ui.settings_dialog import SettingsDialog

        store = self.bridge.session.store
        dialog = SettingsDialog(self.bridge.settings, theme=self.theme, parent=self,
                                data_dir=self.bridge.session.data_dir, audio=self.bridge.session.audio,
                                memory=MemoryStore(store) if store is not None else None)
        if dialog.exec():
            self.apply_settings(dialog)

    def apply_settings(self, dialog: object) -> None:
        from app.ui.settings_dialog import SettingsDialog
        from app.ui.theme import apply_theme

        assert isinstance(dialog, SettingsDialog)
        if dialog.result_settings is not None:
            self.bridge.send(cmd.ApplySettings(dialog.result_settings))
            self.avatar.use_avatar(dialog.result_settings.avatar, self.on_error)
            app = QApplication.instance()
            if isinstance(app, QApplication):
                apply_theme(app, dialog.result_settings.ui.theme)

    # ---- core -> widgets ----
    def on_state(self, state: str) -> None:
        self.states.append(state)
        colour = STATE_COLOURS.get(state, "#9aa3b2")
        self.state_label.setText(f"● {STATE_TEXT.get(state, state)}")
        self.state_label.setStyleSheet(f"color: {colour};")

    def on_models(self, done: int, total: int, label: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.show()
        self.progress_label.setText(label)
        self.progress_label.show()

    def on_ready(self, summary: str) -> None:
        self.progress.hide()
        self.progress_label.hide()
        self.engines_label.setText(summary)
        voice = self.bridge.voice_ok
        self.talk_button.setEnabled(voice)
        self.hands_free.setEnabled(voice)

    def on_failed(self, message: str) -> None:
        self.progress.hide()
        self.progress_label.setText("Models not loaded")
        self.show_banner(f"The models could not be loaded — history still works.\n{message}")

    def on_audio(self, ok: bool, message: str) -> None:
        if not ok:
            self.show_banner(VOICE_OFF + f"\n{message}")
            self.talk_button.setEnabled(False)
            self.hands_free.setEnabled(False)

    def on_transcript(self, turn_id: str, text: str) -> None:
        if text and not self.chat.replacing:
            self.chat.add_message("user", text, turn_id=turn_id)

    def on_chunk(self, chunk: AudioChunk, offset: float) -> None:
        self.avatar.add_chunk(chunk, offset)

    def on_finished(self, event: TurnFinished) -> None:
        self.chat.finish_turn(event.turn_id, event.reply_text, event.interrupted, event.timings,
                              reply_message_id=event.reply_message_id)
        text = describe_timings(event.timings)
        self.timings_label.setText(text + ("  (interrupted)" if event.interrupted else ""))
        self.sidebar.select(self.bridge.session.conversation_id)

    def on_notice(self, level: str, message: str) -> None:
        self.statusBar().showMessage(message, 8000)
        if level in ("warning", "error"):
            self.show_banner(message)

    def on_conversations(self, items: list[ConversationSummary]) -> None:
        self.sidebar.set_conversations(items)

    def on_conversation(self, conversation: Conversation | None) -> None:
        self.chat.clear()
        if conversation is None:
            self.sidebar.select(None)
            return
        self.sidebar.select(conversation.id)
        target = None
        for m in conversation.messages:
            if m.role not in ("user", "assistant"):
                continue
            bubble = self.chat.add_message(
                m.role, m.text, interrupted=m.interrupted, timings=m.timings, message_id=m.id, turn_id=m.turn_id or ""
            )
            if m.id == self._jump_to_message:
                target = bubble
        self._jump_to_message = None
        if target is not None:
            self.chat.scroll_to(target)

    def on_search(self, query: str, hits: list[SearchHit]) -> None:
        self.sidebar.set_results(query, hits)

    def on_deleted(self, conversation_id: int, title: str) -> None:
        self._undo_id = conversation_id
        self.undo_label.setText(f"Deleted “{title}”.")
        self.undo_bar.show()
        self._undo_timer.start()

    def on_hands_free_stopped(self, _on: bool) -> None:
        self.hands_free.blockSignals(True)
        self.hands_free.setChecked(False)
        self.hands_free.blockSignals(False)

    def on_error(self, message: str) -> None:
        log.warning("shown to the user: %s", message)
        self.chat.replacing = False  # a regenerate/edit that failed must not mute the next reply
        self.statusBar().showMessage(message.splitlines()[0], 10_000)
        self.show_banner(message)

    def show_banner(self, text: str) -> None:
        current = self.banner.text()
        self.banner.setText(text if not current or current == text else f"{current}\n{text}")
        self.banner.show()

    # ---- keyboard: hold Space to talk when the text box is not focused ----
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if (
            kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Space
            and not event.isAutoRepeat()
            and self._space_is_talk(obj)
        ):
            if kind == QEvent.Type.KeyPress:
                self.press_talk()
            else:
                self.release_talk()
            return True
        return super().eventFilter(obj, event)

    def _space_is_talk(self, obj: QObject) -> bool:
        if not isinstance(obj, QWidget) or obj.window() is not self:
            return False
        if self.workspace.currentIndex() != 0:  # studio / dashboard: Space presses their buttons
            return False
        focus = QApplication.focusWidget()
        return not isinstance(focus, QLineEdit | QPlainTextEdit | QTextEdit)

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)

    def closeEvent(self, event: QCloseEvent) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.avatar.timer.stop()
        self.bridge.close()
        super().closeEvent(event)
