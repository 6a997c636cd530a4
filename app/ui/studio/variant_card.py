"""One variant on the copy studio's cards row: its fields (editable, with counts against the limits), the
live analysis, a FAILS banner when a hard limit is broken, and its actions (rewrite, save edit, history,
star, copy, read aloud, render clip). The card only shows and asks: the panel runs the work."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.studio import BrandVoice, Brief, Variant, evaluate, get_type
from app.studio.analysis import FieldValue
from app.studio.types import ContentType
from app.ui.studio.analysis_view import FAIL_COLOUR, PASS_COLOUR, analysis_html, count_text, verdict

REWRITE_LABELS = {"shorter": "Shorter", "formal": "More formal", "playful": "More playful", "keyword": "With keyword…"}
EDIT_DEBOUNCE_MS = 120


class VariantCard(QFrame):
    """One variant: its fields (editable), counts, analysis, and actions."""

    sig_rewrite = Signal(object, str, str)
    """(card, how, keyword)"""
    sig_save = Signal(object)
    """(card): save the hand edit as a new version"""
    sig_star = Signal(object, bool)
    sig_read_aloud = Signal(str)
    sig_history = Signal(object)
    """(card): show the version history"""
    sig_render = Signal(object)
    """(card): render the variant as a video clip of the avatar"""

    def __init__(self, variant: Variant, brief: Brief, voice: BrandVoice | None, *, index: int,
                 candidate: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("variant_card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(240)
        self.brief = brief
        self.voice = voice
        self.ctype: ContentType = get_type(brief.type)
        self.variant = variant
        self.draft_id: int | None = None
        self.version = 1
        self.favourite = False
        self.dirty = False
        self.candidate = candidate
        self.editors: dict[str, QLineEdit | QPlainTextEdit] = {}
        self.counts: dict[str, QLabel] = {}
        self._loading = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(EDIT_DEBOUNCE_MS)
        self._timer.timeout.connect(self.reanalyse)

        col = QVBoxLayout(self)
        col.setContentsMargins(10, 8, 10, 8)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: 600;")
        self.banner = QLabel()
        self.banner.setObjectName("verdict")
        self.banner.setWordWrap(True)
        col.addWidget(self.title)
        col.addWidget(self.banner)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # labels above: the text gets the width
        for spec in self.ctype.fields:
            editor: QLineEdit | QPlainTextEdit
            if spec.kind == "list" or spec.multiline or (spec.max_chars or 0) > 60:
                editor = QPlainTextEdit()
                big = spec.kind == "list" or spec.multiline or (spec.max_chars or 0) > 200
                editor.setMaximumHeight(120 if big else 64)
                if spec.kind == "list":
                    editor.setPlaceholderText("one per line")
                editor.textChanged.connect(self._edited)
            else:
                editor = QLineEdit()
                editor.textChanged.connect(self._edited)
            editor.setObjectName(f"field_{spec.name}")
            count = QLabel()
            count.setObjectName(f"count_{spec.name}")
            box = QWidget()
            box_col = QVBoxLayout(box)
            box_col.setContentsMargins(0, 0, 0, 0)
            box_col.setSpacing(1)
            box_col.addWidget(editor)
            box_col.addWidget(count)
            form.addRow(spec.label, box)
            self.editors[spec.name] = editor
            self.counts[spec.name] = count
        col.addLayout(form)
        self.analysis = QLabel()
        self.analysis.setObjectName("analysis")
        self.analysis.setWordWrap(True)
        self.analysis.setTextFormat(Qt.TextFormat.RichText)
        col.addWidget(self.analysis)
        col.addStretch(1)

        actions = QHBoxLayout()
        self.rewrite_button = QToolButton()
        self.rewrite_button.setText("Rewrite ▾")
        self.rewrite_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.rewrite_button)
        self.rewrite_actions = {}
        for how, label in REWRITE_LABELS.items():
            action = menu.addAction(label)
            action.triggered.connect(lambda _=False, h=how: self._ask_rewrite(h))
            self.rewrite_actions[how] = action
        self.rewrite_button.setMenu(menu)
        self.save_button = QPushButton("Save edit")
        self.save_button.setToolTip("Keep this hand edit as a new version of the draft")
        self.save_button.clicked.connect(lambda: self.sig_save.emit(self))
        self.history_button = QPushButton("History")
        self.history_button.clicked.connect(lambda: self.sig_history.emit(self))
        self.star_button = QPushButton("☆")
        self.star_button.setToolTip("Star this draft (favourites)")
        self.star_button.setCheckable(True)
        self.star_button.toggled.connect(self._starred)
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self.copy)
        self.read_button = QPushButton("Read aloud")
        self.read_button.setToolTip("The avatar reads this variant")
        self.read_button.clicked.connect(lambda: self.sig_read_aloud.emit(self.variant.text))
        self.render_button = QPushButton("Render clip…")
        self.render_button.setObjectName("render_clip")
        self.render_button.setToolTip("Save a video of your avatar saying this variant")
        self.render_button.clicked.connect(lambda: self.sig_render.emit(self))
        for w in (self.rewrite_button, self.save_button, self.history_button):
            actions.addWidget(w)
        actions.addStretch(1)
        more = QHBoxLayout()
        for w in (self.star_button, self.copy_button):
            more.addWidget(w)
        more.addStretch(1)
        speech = QHBoxLayout()
        for w in (self.read_button, self.render_button):
            speech.addWidget(w)
        speech.addStretch(1)
        col.addLayout(actions)
        col.addLayout(more)
        col.addLayout(speech)
        self.index = index
        self.set_variant(variant)
        self.set_busy(candidate)

    # ---- showing ----
    @property
    def failing(self) -> bool:
        return not self.variant.passes

    def set_variant(self, variant: Variant, *, source: str | None = None) -> None:
        self._loading = True
        try:
            for name, editor in self.editors.items():
                value = variant.fields.get(name, "")
                text = "\n".join(value) if isinstance(value, list) else str(value)
                if isinstance(editor, QLineEdit):
                    editor.setText(text)
                    editor.setCursorPosition(0)
                else:
                    editor.setPlainText(text)
        finally:
            self._loading = False
        self.dirty = False
        self.show_analysis(variant)
        if source is not None:
            self.variant = self.variant.model_copy(update={"source": source})

    def show_analysis(self, variant: Variant) -> None:
        self.variant = variant
        what = "Candidate" if self.candidate else "Variant"
        version = f" · v{self.version}" if self.draft_id is not None else ""
        self.title.setText(f"{what} {self.index} · {variant.source}{version}{' · edited' if self.dirty else ''}")
        text, failing = verdict(variant)
        self.banner.setText(text)
        colour = FAIL_COLOUR if failing else PASS_COLOUR
        self.banner.setStyleSheet(f"color: white; background: {colour}; border-radius: 4px; padding: 3px 6px;")
        self.setProperty("failing", failing)
        self.setStyleSheet(f"#variant_card {{ border: 2px solid {colour if failing else '#9aa3b2'}; "
                           "border-radius: 8px; }")
        for name, label in self.counts.items():
            stat = variant.analysis.fields.get(name)
            if stat is None:
                continue
            text, over = count_text(stat)
            label.setText(text)
            label.setStyleSheet(f"color: {FAIL_COLOUR}; font-weight: 600;" if over else "color: #7f8c8d;")
        self.analysis.setText(analysis_html(variant))

    def set_busy(self, busy: bool, note: str = "") -> None:
        for w in (self.rewrite_button, self.save_button, self.history_button, self.star_button, self.render_button):
            w.setEnabled(not busy and not self.candidate)
        if note:
            self.title.setText(note)

    def set_favourite(self, on: bool) -> None:
        self.favourite = on
        self.star_button.blockSignals(True)
        self.star_button.setChecked(on)
        self.star_button.setText("★" if on else "☆")
        self.star_button.blockSignals(False)

    # ---- editing ----
    def fields(self) -> dict[str, FieldValue]:
        out: dict[str, FieldValue] = {}
        for spec in self.ctype.fields:
            editor = self.editors[spec.name]
            text = editor.text() if isinstance(editor, QLineEdit) else editor.toPlainText()
            out[spec.name] = [line.strip() for line in text.splitlines() if line.strip()] \
                if spec.kind == "list" else text
        return out

    def _edited(self) -> None:
        if self._loading:
            return
        self.dirty = True
        self._timer.start()

    def reanalyse(self) -> None:
        """Live analysis of the hand edit (pure analysis, no model, no database)."""
        self._timer.stop()
        self.show_analysis(evaluate(self.fields(), self.brief, self.voice, source="edited"))

    def _ask_rewrite(self, how: str) -> None:
        keyword = ""
        if how == "keyword":
            keyword, ok = QInputDialog.getText(self, "Rewrite with a keyword", "Keyword or phrase to work in:")
            if not ok or not keyword.strip():
                return
        self.sig_rewrite.emit(self, how, keyword.strip())

    def _starred(self, on: bool) -> None:
        self.set_favourite(on)
        self.sig_star.emit(self, on)

    def copy(self) -> None:
        if self._timer.isActive():
            self.reanalyse()
        QApplication.clipboard().setText(self.variant.text)
