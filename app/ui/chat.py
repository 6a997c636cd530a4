"""The conversation as a chat transcript: message bubbles that stream, with their actions.

Assistant replies render as Markdown (``QTextDocument.setMarkdown`` through a read-only QTextBrowser-like
label) without HTML and without images, so a reply cannot load a local file into the window; user messages
are plain text. Each bubble offers Copy; replies add Read aloud and Regenerate;
the user's messages add Edit (inline editor, then "Send edited").
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

#: GitHub Markdown with raw HTML off: an ``<img src="file:///…">`` in a reply shows as text, loads nothing
_MARKDOWN = QTextDocument.MarkdownFeature.MarkdownDialectGitHub | QTextDocument.MarkdownFeature.MarkdownNoHTML


def markdown_to_html(text: str) -> str:
    """A reply as rich text: Markdown without HTML, and images (``![alt](file:///…)``) shown as their
    address instead of loaded from disk. LLM output never decides what the window reads."""
    doc = QTextDocument()
    doc.setMarkdown(text, _MARKDOWN)
    _images_as_text(doc)
    return doc.toHtml()


def _images_as_text(doc: QTextDocument) -> None:
    images: list[tuple[int, int, str]] = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            fmt = fragment.charFormat()
            if fmt.isImageFormat():
                images.append((fragment.position(), fragment.length(), fmt.toImageFormat().name()))
            it += 1
        block = block.next()
    for position, length, name in reversed(images):
        cursor = QTextCursor(doc)
        cursor.setPosition(position)
        cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(f"[image: {name}]", QTextCharFormat())


class MessageBubble(QFrame):
    sig_copy = Signal()
    sig_read_aloud = Signal()
    sig_regenerate = Signal()
    sig_edit = Signal(str)

    def __init__(
        self,
        role: str,
        text: str = "",
        *,
        interrupted: bool = False,
        timings: dict[str, float] | None = None,
        message_id: int | None = None,
        turn_id: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.role = role
        self.text = text
        self.message_id = message_id
        self.turn_id = turn_id
        self.interrupted = interrupted
        self.streaming = False
        self.setObjectName("bubble_user" if role == "user" else "bubble_assistant")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 8)
        layout.setSpacing(4)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setTextFormat(Qt.TextFormat.RichText if role == "assistant" else Qt.TextFormat.PlainText)
        self.label.setObjectName("bubble_text")
        layout.addWidget(self.label)
        self.editor: QPlainTextEdit | None = None
        self.meta = QLabel()
        self.meta.setObjectName("bubble_meta")
        self.actions = QWidget()
        row = QHBoxLayout(self.actions)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(self.meta)
        row.addStretch(1)
        self.buttons: dict[str, QToolButton] = {}
        names = ["copy", "read_aloud", "regenerate"] if role == "assistant" else ["edit", "copy"]
        labels = {"copy": "Copy", "read_aloud": "Read aloud", "regenerate": "Regenerate", "edit": "Edit"}
        for name in names:
            button = QToolButton()
            button.setText(labels[name])
            button.setObjectName("bubble_action")
            button.setAutoRaise(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            row.addWidget(button)
            self.buttons[name] = button
        self.buttons["copy"].clicked.connect(self.copy)
        if role == "assistant":
            self.buttons["read_aloud"].clicked.connect(self.sig_read_aloud)
            self.buttons["regenerate"].clicked.connect(self.sig_regenerate)
        else:
            self.buttons["edit"].clicked.connect(self.start_edit)
        layout.addWidget(self.actions)
        # Streaming replies repaint at most every 50 ms: re-rendering the whole Markdown on every token
        # costs O(length) on the UI thread ~100 times a second and made the event loop stutter.
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(50)
        self._render_timer.timeout.connect(self._render)
        self._render()
        self.set_meta(interrupted, timings)

    # ---- content ----
    def _render(self) -> None:
        if self.role == "assistant":
            shown = self.text + (" ▍" if self.streaming else "")
            self.label.setText(markdown_to_html(shown) if shown.strip() else "…")
        else:
            self.label.setText(self.text)

    def append(self, piece: str) -> None:
        self.streaming = True
        self.text += piece
        if not self._render_timer.isActive():
            self._render_timer.start()

    def finish(self, text: str, interrupted: bool, timings: dict[str, float] | None) -> None:
        self._render_timer.stop()
        self.streaming = False
        self.text = text
        self.interrupted = interrupted
        self._render()
        self.set_meta(interrupted, timings)

    def set_meta(self, interrupted: bool, timings: dict[str, float] | None) -> None:
        parts = []
        if interrupted:
            parts.append("⏹ interrupted")
        if timings and "first_audio_s" in timings:
            parts.append(f"voice after {timings['first_audio_s']:.2f} s")
        elif timings and "first_token_s" in timings:
            parts.append(f"first word after {timings['first_token_s']:.2f} s")
        self.meta.setText(" · ".join(parts))

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)
        self.sig_copy.emit()

    # ---- inline edit (user messages) ----
    def start_edit(self) -> None:
        if self.editor is not None:
            return
        self.editor = QPlainTextEdit(self.text)
        self.editor.setObjectName("bubble_editor")
        self.editor.setMaximumHeight(120)
        send = QPushButton("Send edited")
        cancel = QPushButton("Cancel")
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addStretch(1)
        box.addWidget(cancel)
        box.addWidget(send)
        self._edit_row = row
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        self.label.hide()
        layout.insertWidget(1, self.editor)
        layout.insertWidget(2, row)
        send.clicked.connect(self._send_edit)
        cancel.clicked.connect(self._end_edit)
        self.editor.setFocus()

    def _send_edit(self) -> None:
        assert self.editor is not None
        text = self.editor.toPlainText().strip()
        self._end_edit()
        if text:
            self.sig_edit.emit(text)

    def _end_edit(self) -> None:
        if self.editor is not None:
            self.editor.deleteLater()
            self._edit_row.deleteLater()
            self.editor = None
        self.label.show()


class ChatView(QScrollArea):
    """A scrolling column of bubbles, newest at the bottom."""

    sig_read_aloud = Signal(str)
    sig_regenerate = Signal(int)  # index of the assistant bubble
    sig_edit = Signal(int, str)  # index of the user bubble, new text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chat")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.inner = QWidget()
        self.inner.setObjectName("chat_inner")
        self.column = QVBoxLayout(self.inner)
        self.column.setContentsMargins(16, 16, 16, 16)
        self.column.setSpacing(10)
        self.empty = QLabel("Say hello — hold Space (or the talk button) to speak, or type below.")
        self.empty.setObjectName("chat_empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.column.addWidget(self.empty)
        self.column.addStretch(1)
        self.setWidget(self.inner)
        self.bubbles: list[MessageBubble] = []
        self._pending_by_turn: dict[str, MessageBubble] = {}
        # After truncate() the replaced turn may still report (tokens, its end) until the new turn's message
        # is saved; the core reports in order, so everything before that "saved" belongs to replaced turns.
        self.replacing = False
        self.verticalScrollBar().rangeChanged.connect(self._stick_to_bottom)
        self._follow = True

    # ---- building ----
    def clear(self) -> None:
        for bubble in self.bubbles:
            bubble.deleteLater()
        self.bubbles.clear()
        self._pending_by_turn.clear()
        self.replacing = False
        self.empty.show()

    def add_message(
        self,
        role: str,
        text: str,
        *,
        interrupted: bool = False,
        timings: dict[str, float] | None = None,
        message_id: int | None = None,
        turn_id: str = "",
    ) -> MessageBubble:
        self.empty.hide()
        bubble = MessageBubble(
            role, text, interrupted=interrupted, timings=timings, message_id=message_id, turn_id=turn_id
        )
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        if role == "user":
            row.addStretch(1)
            row.addWidget(bubble, 4)
        else:
            row.addWidget(bubble, 4)
            row.addStretch(1)
        bubble.destroyed.connect(holder.deleteLater)
        self.column.insertWidget(self.column.count() - 1, holder)
        self.bubbles.append(bubble)
        bubble.sig_read_aloud.connect(lambda b=bubble: self.sig_read_aloud.emit(b.text))
        bubble.sig_regenerate.connect(lambda b=bubble: self.sig_regenerate.emit(self.bubbles.index(b)))
        bubble.sig_edit.connect(lambda text, b=bubble: self.sig_edit.emit(self.bubbles.index(b), text))
        self._follow = True
        return bubble

    def reply_bubble(self, turn_id: str) -> MessageBubble:
        """The streaming reply of ``turn_id`` (created at its first token)."""
        bubble = self._pending_by_turn.get(turn_id)
        if bubble is None:
            bubble = self.add_message("assistant", "", turn_id=turn_id)
            bubble.streaming = True
            self._pending_by_turn[turn_id] = bubble
        return bubble

    def append_token(self, turn_id: str, text: str) -> None:
        if not self.replacing:
            self.reply_bubble(turn_id).append(text)

    def on_saved(self, turn_id: str, message_id: int) -> None:
        """The core stored a user message: give its bubble (the last user one not stored yet) the id."""
        self.replacing = False
        bubble = next((b for b in reversed(self.bubbles) if b.role == "user"), None)
        if bubble is not None and bubble.message_id is None:
            bubble.message_id = message_id
            bubble.turn_id = turn_id

    def finish_turn(
        self,
        turn_id: str,
        text: str,
        interrupted: bool,
        timings: dict[str, float],
        *,
        reply_message_id: int | None = None,
    ) -> None:
        if self.replacing:
            return
        bubble = self._pending_by_turn.pop(turn_id, None)
        if bubble is None and text:
            bubble = self.add_message("assistant", "", turn_id=turn_id)
        if bubble is not None:
            bubble.finish(text, interrupted, timings)
            bubble.message_id = reply_message_id

    def truncate(self, index: int) -> None:
        """Drop bubble ``index`` and every later one (regenerate / edit-and-resend replace them)."""
        for bubble in self.bubbles[index:]:
            self._pending_by_turn.pop(bubble.turn_id, None)
            bubble.deleteLater()
        del self.bubbles[index:]
        self.replacing = True
        if not self.bubbles:
            self.empty.show()

    def context_before(self, index: int) -> tuple[tuple[str, str], ...]:
        return tuple((b.role, b.text) for b in self.bubbles[:index] if b.text)

    def scroll_to(self, bubble: MessageBubble) -> None:
        self._follow = False
        QTimer.singleShot(0, lambda: self.ensureWidgetVisible(bubble, 0, 60))
        bubble.setProperty("flash", True)
        bubble.style().unpolish(bubble)
        bubble.style().polish(bubble)

        def unflash() -> None:
            bubble.setProperty("flash", False)
            bubble.style().unpolish(bubble)
            bubble.style().polish(bubble)

        QTimer.singleShot(2500, bubble, unflash)  # bound to the bubble: dropped if it is deleted first

    def _stick_to_bottom(self, _min: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)


class ComposeBox(QPlainTextEdit):
    """The text box: Ctrl+Enter sends."""

    sig_send = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compose")
        self.setPlaceholderText("Type a message… (Ctrl+Enter to send)")
        self.setMaximumHeight(84)
        self.setTabChangesFocus(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.submit()
            return
        super().keyPressEvent(event)

    def submit(self) -> None:
        text = self.toPlainText().strip()
        if text:
            self.clear()
            self.sig_send.emit(text)
