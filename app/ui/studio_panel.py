"""The copy studio panel: a brief form, brand voices, variants side by side with live analysis.

Everything slow runs off the UI thread: the panel asks the core with a request from
:mod:`app.studio.requests` (``bridge.ask``, through :func:`app.ui.jobs.request_job`) and the studio service
(:mod:`app.studio.service`, the same workflow as ``visage draft``) answers on the session's workers:
generation and rewrites on the LLM's own worker (so they queue behind a conversation reply instead of
overlapping it), drafts and voices on its I/O worker. The panel never holds a store. Only
:func:`app.studio.evaluate` runs here, on each hand edit: it is pure analysis (no model, no database, a
few milliseconds).

- Content type + that type's brief fields (platform only for ads and social posts, duration only for
  video scripts; the output fields and their hard limits are listed under the picker).
- Brand voice picker with a create/edit dialog (saved by name in the history database).
- Generate N variants with a Cancel button; candidates appear as they are ready, then the ranked
  variants replace them. "Generate with remote" shows when sync's remote copywriting is on; a remote
  failure falls back to the local model and the notice is shown.
- Each variant: editable fields with counts against the limits, an analysis panel, a clear FAILS
  banner when a hard limit is broken, rewrites (shorter / more formal / more playful / with keyword),
  save edit (a new version), version history, star, copy, read aloud (through the avatar).
- Export all shown drafts as Markdown, plain text or CSV.
- A Drafts tab beside the brief (:mod:`app.ui.drafts_browser`): search, starred only, open a draft (its
  brief and the variants of that brief come back as cards, with their versions), delete with undo.
- "Render clip…" on a card: the avatar the user chose in Settings says the variant's spoken form
  (:func:`app.studio.spoken.spoken_text`) into an MP4, through the same code as ``visage render --text``
  (:mod:`app.avatar_clip`), in a background job with progress and Cancel; then "Open folder".
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import VisageError
from app.studio import BrandVoice, Brief, Variant, content_types, evaluate, get_type, parse_brief
from app.studio import requests as rq
from app.studio.analysis import FieldValue
from app.studio.service import Drafted, Exported, Rewritten
from app.studio.types import ContentType
from app.ui.drafts_browser import DraftsBrowser
from app.ui.jobs import Job, request_job, thread_job, worker_job

log = logging.getLogger(__name__)

REWRITE_LABELS = {"shorter": "Shorter", "formal": "More formal", "playful": "More playful", "keyword": "With keyword…"}
FAIL_COLOUR = "#c0392b"
PASS_COLOUR = "#1e8449"
EDIT_DEBOUNCE_MS = 120
CLIP_FILTER = "MP4 video (*.mp4);;QuickTime movie (*.mov);;Matroska video (*.mkv)"
CLIP_SIZE = 512
BRIEF_TAB, DRAFTS_TAB = 0, 1


def split_list(text: str, *, sep: str = ",") -> list[str]:
    """Comma- (or line-) separated words as a clean list."""
    parts = text.replace("\n", sep).split(sep) if sep != "\n" else text.splitlines()
    return [p.strip() for p in parts if p.strip()]


# ------------------------------------------------------------------------------------------------ analysis


def count_text(stat: Any) -> tuple[str, bool]:
    """'23/30 chars · 4 words' for a field's stats, and whether it is over a limit."""
    if stat.items is not None:
        over = (stat.max_items is not None and stat.items > stat.max_items) or (
            stat.min_items is not None and stat.items < stat.min_items)
        limit = f"/{stat.max_items}" if stat.max_items is not None else ""
        return f"{stat.items}{limit} items · {stat.chars} chars", over
    over = (stat.max_chars is not None and stat.chars > stat.max_chars) or (
        stat.max_words is not None and stat.words > stat.max_words)
    limit = f"/{stat.max_chars}" if stat.max_chars is not None else ""
    words = f" · {stat.words}{f'/{stat.max_words}' if stat.max_words else ''} words"
    return f"{stat.chars}{limit} chars{words}", over


def analysis_html(variant: Variant) -> str:
    """The analysis panel of one variant as rich text."""
    a = variant.analysis
    rows: list[str] = []

    def row(name: str, value: str, bad: bool = False) -> None:
        colour = f' style="color:{FAIL_COLOUR}"' if bad else ""
        rows.append(f"<tr><td><b>{html.escape(name)}</b></td><td{colour}>{value}</td></tr>")

    row("Length", f"{a.chars} chars · {a.words} words · {a.sentences} sentences")
    ease = "–" if a.flesch_reading_ease is None else f"{a.flesch_reading_ease:.0f}"
    grade = "–" if a.flesch_kincaid_grade is None else f"{a.flesch_kincaid_grade:.1f}"
    row("Readability", f"Flesch ease {ease} · grade {grade}")
    row("Sentiment", f"{html.escape(a.sentiment.label)} ({a.sentiment.compound:+.2f})")
    if a.keywords:
        kws = ", ".join(f"{html.escape(k.keyword)} ×{k.count} ({k.density:.1f}%)" for k in a.keywords)
        row("Keywords", f"{a.keyword_coverage:.0%} covered: {kws}", bad=a.keyword_coverage < 1.0)
    else:
        row("Keywords", "none required")
    row("Banned words", html.escape(", ".join(a.banned_found)) or "none", bad=bool(a.banned_found))
    row("Passive voice", f"{len(a.passive_sentences)} sentence(s)", bad=bool(a.passive_sentences))
    row("Long sentences", f"{len(a.long_sentences)}", bad=bool(a.long_sentences))
    problems = "".join(
        f'<li style="color:{FAIL_COLOUR if p.hard else "#b9770e"}">{"✗" if p.hard else "!"} '
        f"{html.escape(p.message)}</li>" for p in variant.problems)
    repairs = "".join(f"<li>{html.escape(r)}</li>" for r in variant.repairs)
    out = f"<table cellspacing='2'>{''.join(rows)}</table>"
    if problems:
        out += f"<p style='margin:4px 0 0 0'><b>Problems</b></p><ul style='margin:0'>{problems}</ul>"
    if repairs:
        out += f"<p style='margin:4px 0 0 0'><b>Repaired automatically</b></p><ul style='margin:0'>{repairs}</ul>"
    return out


def verdict(variant: Variant) -> tuple[str, bool]:
    """The card's banner text and whether the variant fails a hard limit."""
    hard = [p for p in variant.problems if p.hard]
    if hard:
        return "✗ FAILS: " + "; ".join(p.message for p in hard[:2]) + (" …" if len(hard) > 2 else ""), True
    return f"✓ Meets every hard limit · score {variant.score:.0f}", False


# ------------------------------------------------------------------------------------------------ a variant


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


# ------------------------------------------------------------------------------------------------ voices


class VoiceDialog(QDialog):
    """Create or edit a brand voice; the result is validated by :class:`BrandVoice`."""

    def __init__(self, voice: BrandVoice | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Brand voice" if voice is None else f"Brand voice: {voice.name}")
        self.setMinimumWidth(460)
        self.result_voice: BrandVoice | None = None
        self.editing = voice is not None
        v = voice or BrandVoice(name="New voice")
        self.name = QLineEdit("" if voice is None else v.name)
        self.name.setPlaceholderText("the brand's name")
        self.description = QLineEdit(v.description)
        self.tone = QLineEdit(", ".join(v.tone))
        self.tone.setPlaceholderText("warm, witty, confident")
        self.do = QPlainTextEdit("\n".join(v.do))
        self.do.setPlaceholderText("one rule per line")
        self.dont = QPlainTextEdit("\n".join(v.dont))
        self.banned = QLineEdit(", ".join(v.banned))
        self.banned.setPlaceholderText("words that must never appear, comma-separated")
        self.samples = QPlainTextEdit("\n".join(v.samples))
        self.samples.setPlaceholderText("one short sample text per line")
        for edit in (self.do, self.dont, self.samples):
            edit.setMaximumHeight(80)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Description", self.description)
        form.addRow("Tone words", self.tone)
        form.addRow("Do", self.do)
        form.addRow("Don't", self.dont)
        form.addRow("Banned words", self.banned)
        form.addRow("Samples", self.samples)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {FAIL_COLOUR};")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addLayout(form)
        col.addWidget(self.error)
        col.addWidget(buttons)

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.text(), "description": self.description.text(), "tone": split_list(self.tone.text()),
            "do": split_list(self.do.toPlainText(), sep="\n"), "dont": split_list(self.dont.toPlainText(), sep="\n"),
            "banned": split_list(self.banned.text()), "samples": split_list(self.samples.toPlainText(), sep="\n"),
        }

    def accept(self) -> None:
        from app.studio import parse_voice

        try:
            self.result_voice = parse_voice(self.values())
        except VisageError as err:
            self.error.setText(str(err))
            self.error.show()
            return
        super().accept()


# ------------------------------------------------------------------------------------------------ the panel


class StudioPanel(QWidget):
    """The copy studio tab. ``bridge`` is the window's CoreBridge (its session runs all slow work)."""

    sig_read_aloud = Signal(str)
    """Text for the avatar to read (the window sends ReadAloud and shows the avatar)."""
    sig_generated = Signal(object)
    """The final variants of a generation (list[Variant]), once they are saved as drafts."""
    sig_busy = Signal(bool)

    def __init__(self, bridge: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.cards: list[VariantCard] = []
        self.voices: dict[str, BrandVoice] = {}
        self.job: Job | None = None
        self.brief: Brief | None = None
        self.voice: BrandVoice | None = None
        self.last_notice = ""
        self.last_export: Path | None = None
        self.opened_draft: int | None = None
        self.clip_job: Job | None = None
        self._clip_index = 0
        self.last_clip: Any = None
        """The ClipInfo of the last clip rendered."""
        self._types = content_types()

        # ---- brief form ----
        self.type_combo = QComboBox()
        for key, ctype in self._types.items():
            self.type_combo.addItem(ctype.label, key)
        self.type_combo.setCurrentIndex(max(0, self.type_combo.findData("product-description")))
        self.type_info = QLabel()
        self.type_info.setWordWrap(True)
        self.type_info.setStyleSheet("color: #7f8c8d;")
        self.platform = QComboBox()
        self.product = QLineEdit()
        self.product.setPlaceholderText("the product, service or topic")
        self.audience = QLineEdit()
        self.key_points = QPlainTextEdit()
        self.key_points.setPlaceholderText("one fact or benefit per line")
        self.key_points.setMaximumHeight(80)
        self.keywords = QLineEdit()
        self.keywords.setPlaceholderText("comma-separated; must appear")
        self.avoid = QLineEdit()
        self.avoid.setPlaceholderText("comma-separated; must not appear")
        self.tone = QLineEdit()
        self.tone.setPlaceholderText("friendly, confident")
        self.cta = QLineEdit()
        self.cta.setPlaceholderText("e.g. Shop now")
        self.length = QComboBox()
        self.length.addItems(["short", "medium", "long"])
        self.length.setCurrentText("medium")
        self.language = QLineEdit("English")
        self.duration = QSpinBox()
        self.duration.setRange(10, 180)
        self.duration.setValue(30)
        self.duration.setSuffix(" s")
        self.notes = QLineEdit()
        self.notes.setPlaceholderText("offer, date, place…")
        self.voice_combo = QComboBox()
        self.voice_combo.addItem("(no brand voice)", None)
        self.new_voice = QPushButton("New…")
        self.edit_voice = QPushButton("Edit…")
        self.count = QSpinBox()
        self.count.setRange(1, 5)
        self.count.setValue(3)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generate")
        self.remote_button = QPushButton("Generate with remote")
        self.remote_button.setToolTip("Draft on the remote API (falls back to the local model with a notice)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.export_button = QPushButton("Export…")
        self.export_button.setEnabled(False)
        self.status = QLabel("Fill in the brief and press Generate.")
        self.status.setObjectName("studio_status")
        self.status.setWordWrap(True)
        self.notice = QLabel()
        self.notice.setObjectName("studio_notice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("background: #fdebd0; color: #784212; border-radius: 4px; padding: 4px;")
        self.notice.hide()

        form = QFormLayout()
        form.addRow("Content type", self.type_combo)
        form.addRow("", self.type_info)
        self._platform_row = QLabel("Platform")
        form.addRow(self._platform_row, self.platform)
        form.addRow("Product / topic *", self.product)
        form.addRow("Audience", self.audience)
        form.addRow("Key points", self.key_points)
        form.addRow("Keywords", self.keywords)
        form.addRow("Words to avoid", self.avoid)
        form.addRow("Tone", self.tone)
        self._cta_label = QLabel("Call to action")
        form.addRow(self._cta_label, self.cta)
        form.addRow("Length", self.length)
        form.addRow("Language", self.language)
        self._duration_row = QLabel("Spoken length")
        form.addRow(self._duration_row, self.duration)
        form.addRow("Notes", self.notes)
        voice_row = QHBoxLayout()
        voice_row.addWidget(self.voice_combo, 1)
        voice_row.addWidget(self.new_voice)
        voice_row.addWidget(self.edit_voice)
        form.addRow("Brand voice", voice_row)
        form.addRow("Variants", self.count)
        left = QWidget()
        left_col = QVBoxLayout(left)
        left_col.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        left_col.addLayout(buttons)
        left_col.addWidget(self.remote_button)
        left_col.addWidget(self.status)
        left_col.addWidget(self.notice)
        left_col.addStretch(1)
        left_col.addWidget(self.export_button)
        left_scroll = QScrollArea()
        left_scroll.setWidgetResizable(True)
        left_scroll.setWidget(left)
        left_scroll.setMinimumWidth(380)
        left_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        # ---- the brief, or the saved drafts ----
        self.browser = DraftsBrowser(bridge)
        self.left_tabs = QTabWidget()
        self.left_tabs.setObjectName("studio_left_tabs")
        self.left_tabs.setDocumentMode(True)
        self.left_tabs.addTab(left_scroll, "Brief")
        self.left_tabs.addTab(self.browser, "Drafts")

        # ---- a clip being rendered (or the last one) ----
        self.clip_bar = QFrame()
        self.clip_bar.setObjectName("clip_bar")
        self.clip_bar.setStyleSheet("#clip_bar { border: 1px solid #9aa3b2; border-radius: 6px; }")
        clip_col = QVBoxLayout(self.clip_bar)
        clip_col.setContentsMargins(8, 6, 8, 6)
        clip_row = QHBoxLayout()
        self.clip_label = QLabel()
        self.clip_label.setObjectName("clip_status")
        self.clip_label.setWordWrap(True)
        self.clip_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.clip_progress = QProgressBar()
        self.clip_progress.setRange(0, 1000)
        self.clip_progress.setTextVisible(False)
        self.clip_progress.setFixedWidth(160)
        self.clip_cancel = QPushButton("Cancel")
        self.clip_open = QPushButton("Open folder")
        self.clip_open.setToolTip("Show the clip in the file manager")
        self.clip_close = QToolButton()
        self.clip_close.setText("✕")
        self.clip_close.setToolTip("Hide")
        clip_row.addWidget(self.clip_label, 1)
        clip_row.addWidget(self.clip_progress)
        clip_row.addWidget(self.clip_cancel)
        clip_row.addWidget(self.clip_open)
        clip_row.addWidget(self.clip_close)
        clip_col.addLayout(clip_row)
        self.clip_notice = QLabel()
        self.clip_notice.setObjectName("clip_notice")
        self.clip_notice.setWordWrap(True)
        self.clip_notice.setStyleSheet("background: #fdebd0; color: #784212; border-radius: 4px; padding: 4px;")
        self.clip_notice.hide()
        clip_col.addWidget(self.clip_notice)
        self.clip_bar.hide()

        # ---- variants side by side ----
        self.cards_host = QWidget()
        self.cards_row = QHBoxLayout(self.cards_host)
        self.cards_row.setContentsMargins(6, 6, 6, 6)
        self.cards_row.addStretch(0)  # takes the room only while there are no cards
        self.cards_scroll = right_scroll = QScrollArea()
        right_scroll.setWidgetResizable(True)
        right_scroll.setWidget(self.cards_host)
        right = QWidget()
        right_col = QVBoxLayout(right)
        right_col.setContentsMargins(0, 0, 0, 0)
        right_col.setSpacing(4)
        right_col.addWidget(self.clip_bar)
        right_col.addWidget(right_scroll, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.left_tabs)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([400, 900])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(split)

        # ---- wiring ----
        self.type_combo.currentIndexChanged.connect(self._type_changed)
        self.platform.currentIndexChanged.connect(self._update_type_info)
        self.generate_button.clicked.connect(lambda: self.generate(remote=False))
        self.remote_button.clicked.connect(lambda: self.generate(remote=True))
        self.cancel_button.clicked.connect(self.cancel)
        self.new_voice.clicked.connect(lambda: self.open_voice_dialog(None))
        self.edit_voice.clicked.connect(lambda: self.open_voice_dialog(self.selected_voice()))
        self.export_button.clicked.connect(self._ask_export)
        self.browser.sig_open.connect(self.open_draft)
        self.browser.sig_deleted.connect(self._draft_deleted)
        self.browser.sig_starred.connect(self._draft_starred)
        self.clip_cancel.clicked.connect(self.cancel_clip)
        self.clip_open.clicked.connect(self.open_clip_folder)
        self.clip_close.clicked.connect(self.clip_bar.hide)
        self._type_changed()
        self.update_remote(bridge.settings)
        self.refresh_voices()
        self.browser.refresh()

    # ---- the brief ----
    @property
    def ctype(self) -> ContentType:
        return self._types[str(self.type_combo.currentData())]

    def _type_changed(self) -> None:
        ctype = self.ctype
        self.platform.clear()
        for key, plat in ctype.platforms.items():
            self.platform.addItem(plat.label, key)
        if ctype.default_platform:
            self.platform.setCurrentIndex(max(0, self.platform.findData(ctype.default_platform)))
        has_platform = bool(ctype.platforms)
        self.platform.setVisible(has_platform)
        self._platform_row.setVisible(has_platform)
        video = ctype.words_per_second is not None
        self.duration.setVisible(video)
        self._duration_row.setVisible(video)
        self._cta_label.setText("Call to action *" if "cta" in ctype.required_brief else "Call to action")
        self._update_type_info()

    def _update_type_info(self) -> None:
        ctype = self.ctype
        try:
            from app.studio.types import limits_for

            limits = limits_for(ctype, self.platform.currentData() if ctype.platforms else None)
        except VisageError:
            limits = None
        parts = []
        for spec in ctype.fields:
            if spec.kind == "list":
                cap = limits.max_items.get(spec.name) if limits else spec.max_items
                parts.append(f"{spec.label} ({spec.min_items}–{cap} items)" if cap else spec.label)
            else:
                cap = limits.max_chars.get(spec.name) if limits else spec.max_chars
                parts.append(f"{spec.label} ≤ {cap}" if cap else spec.label)
        self.type_info.setText(f"{ctype.description}\nWrites: " + " · ".join(parts))

    def brief_data(self) -> dict[str, Any]:
        ctype = self.ctype
        data: dict[str, Any] = {
            "type": ctype.key, "product": self.product.text(), "audience": self.audience.text(),
            "key_points": split_list(self.key_points.toPlainText(), sep="\n"),
            "keywords": split_list(self.keywords.text()), "avoid": split_list(self.avoid.text()),
            "tone": self.tone.text(), "cta": self.cta.text(), "length": self.length.currentText(),
            "language": self.language.text().strip() or "English", "notes": self.notes.text(),
        }
        if ctype.platforms:
            data["platform"] = self.platform.currentData()
        if ctype.words_per_second is not None:
            data["duration_s"] = self.duration.value()
        voice = self.selected_voice()
        if voice is not None:
            data["voice"] = voice.name
        return data

    def set_brief(self, brief: Brief) -> None:
        """Fill the form from a brief (used by tests and the screenshot script)."""
        self.type_combo.setCurrentIndex(self.type_combo.findData(brief.type))
        if brief.platform:
            self.platform.setCurrentIndex(self.platform.findData(brief.platform))
        self.product.setText(brief.product)
        self.audience.setText(brief.audience)
        self.key_points.setPlainText("\n".join(brief.key_points))
        self.keywords.setText(", ".join(brief.keywords))
        self.avoid.setText(", ".join(brief.avoid))
        self.tone.setText(brief.tone)
        self.cta.setText(brief.cta)
        self.length.setCurrentText(brief.length)
        self.language.setText(brief.language)
        self.notes.setText(brief.notes)
        if brief.duration_s:
            self.duration.setValue(brief.duration_s)

    def selected_voice(self) -> BrandVoice | None:
        name = self.voice_combo.currentData()
        return self.voices.get(name) if name else None

    # ---- remote ----
    def update_remote(self, settings: Any) -> None:
        """Offer "Generate with remote" only when the user opted in to remote copywriting."""
        sync = settings.sync
        self.remote_button.setVisible(bool(sync.enabled and sync.use_remote_copywriting))

    # ---- generation ----
    def generate(self, *, remote: bool = False) -> Job | None:
        if self.job is not None and not self.job.finished:
            return None
        try:
            brief = parse_brief(self.brief_data(), source="The brief")
        except VisageError as err:
            self.show_status(str(err), error=True)
            return None
        voice = self.selected_voice()
        n = self.count.value()
        self.brief, self.voice = brief, voice
        self._clear_cards()
        self.notice.hide()
        request = rq.Generate(brief, n=n, voice=voice, remote=self.bridge.settings.sync if remote else None)
        self.set_busy(True)
        where = "the remote API" if remote else "the local model"
        self.show_status(f"Writing {n} variant(s) with {where}… (waits for the model while it is loading "
                         "or answering in the conversation)")
        self.job = request_job(self.bridge, "Generating copy", request, on_done=self._generated,
                               on_failed=self._failed, on_progress=self._candidate, on_cancelled=self._cancelled)
        return self.job

    def cancel(self) -> None:
        if self.job is not None and not self.job.finished:
            self.job.cancel()
            self.show_status("Cancelling…")

    def _candidate(self, variant: Variant) -> None:
        assert self.brief is not None
        card = VariantCard(variant, self.brief, self.voice, index=len(self.cards) + 1, candidate=True)
        self._add_card(card)
        self.show_status(f"Candidate {len(self.cards)} of {self.count.value() + 1} ready; ranking at the end…")

    def _generated(self, result: Drafted) -> None:
        variants, ids, notice, source = result.variants, result.ids, result.written.notice, result.written.source
        assert self.brief is not None
        self._clear_cards()
        for index, (variant, draft_id) in enumerate(zip(variants, ids, strict=True), 1):
            card = VariantCard(variant, self.brief, self.voice, index=index)
            card.draft_id = draft_id
            card.show_analysis(variant)
            self._add_card(card)
        failing = sum(1 for v in variants if not v.passes)
        seconds = sum(v.seconds for v in variants)
        extra = f" {failing} still fail(s) a hard limit (shown in red)." if failing else ""
        self.show_status(f"{len(variants)} variant(s) from the {source} model, best first, saved as drafts "
                         f"({seconds:.1f} s of model time).{extra}")
        if notice:
            self.last_notice = notice
            self.notice.setText(notice)
            self.notice.show()
        self.export_button.setEnabled(True)
        self.opened_draft = None
        self.set_busy(False)
        self.browser.refresh()
        self.sig_generated.emit(variants)

    def _failed(self, message: str) -> None:
        self.set_busy(False)
        self.show_status(message, error=True)

    def _cancelled(self) -> None:
        self.set_busy(False)
        self._clear_cards()
        self.show_status("Generation cancelled.")

    def set_busy(self, busy: bool) -> None:
        self.generate_button.setEnabled(not busy)
        self.remote_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.sig_busy.emit(busy)

    def show_status(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {FAIL_COLOUR};" if error else "")

    # ---- cards ----
    def _clear_cards(self) -> None:
        for card in self.cards:
            card.setParent(None)
            card.deleteLater()
        self.cards = []

    def _add_card(self, card: VariantCard) -> None:
        self.cards.append(card)
        self.cards_row.insertWidget(self.cards_row.count() - 1, card, 1)
        card.sig_read_aloud.connect(self.sig_read_aloud)
        card.sig_rewrite.connect(self.rewrite)
        card.sig_save.connect(self.save_edit)
        card.sig_star.connect(self.star)
        card.sig_history.connect(self.show_history)
        card.sig_render.connect(self._ask_render)

    def _ask(self, name: str, request: rq.StudioRequest, on_done: Any = None) -> Job:
        return request_job(self.bridge, name, request, on_done=on_done, on_failed=self._failed)

    def save_edit(self, card: VariantCard) -> Job | None:
        if card.draft_id is None:
            return None
        card.reanalyse()
        card.set_busy(True)
        return self._ask("Saving the edit", rq.SaveEdit(card.draft_id, card.variant),
                         on_done=lambda number: self._saved(card, number))

    def _saved(self, card: VariantCard, number: int) -> None:
        card.version = number
        card.dirty = False
        card.set_busy(False)
        card.show_analysis(card.variant)
        self.show_status(f"Saved as version {number}.")
        self.browser.refresh()

    def star(self, card: VariantCard, on: bool) -> Job | None:
        if card.draft_id is None:
            return None
        return self._ask("Starring the draft", rq.StarDraft(card.draft_id, on),
                         on_done=lambda _none: self.browser.refresh())

    def rewrite(self, card: VariantCard, how: str, keyword: str = "") -> Job | None:
        if card.dirty:
            card.reanalyse()
        request = rq.Rewrite(card.fields(), card.brief, how, keyword=keyword, voice=card.voice, draft_id=card.draft_id)
        card.set_busy(True, f"Rewriting ({REWRITE_LABELS[how].rstrip('…').lower()})…")
        return request_job(self.bridge, "Rewriting", request, on_done=lambda r: self._rewritten(card, r),
                           on_failed=lambda m: self._card_failed(card, m))

    def _rewritten(self, card: VariantCard, result: Rewritten) -> None:
        variant, number = result.variant, result.version
        if number is not None:
            card.version = number
        card.set_variant(variant)
        card.set_busy(False)
        self.show_status(f"Rewritten ({variant.source}); kept as version {card.version}.")
        if number is not None:
            self.browser.refresh()

    def _card_failed(self, card: VariantCard, message: str) -> None:
        card.set_busy(False)
        card.show_analysis(card.variant)
        self.show_status(message, error=True)

    def show_history(self, card: VariantCard) -> Job | None:
        if card.draft_id is None:
            return None
        return self._ask("Reading the versions", rq.ReadDraft(card.draft_id),
                         on_done=lambda d: self._history_menu(card, d))

    def _history_menu(self, card: VariantCard, draft: Any) -> None:
        menu = QMenu(card)
        menu.setObjectName("history_menu")
        for version in reversed(draft.versions):
            mark = "✓" if version.passes else "✗"
            action = menu.addAction(f"v{version.number} · {version.source} · {mark} · {version.created_at[:16]}")
            action.triggered.connect(lambda _=False, v=version: self._restore_version(card, v))
        card.history_menu = menu  # type: ignore[attr-defined]
        menu.popup(card.history_button.mapToGlobal(card.history_button.rect().bottomLeft()))

    def _restore_version(self, card: VariantCard, version: Any) -> None:
        variant = evaluate(version.fields, card.brief, card.voice, source=version.source)
        card.set_variant(variant)
        card.dirty = True
        card.show_analysis(variant)
        self.show_status(f"Showing version {version.number}; Save edit keeps it as the newest version.")

    # ---- saved drafts ----
    def show_drafts(self) -> None:
        """Bring the Drafts tab to the front (and read the list again)."""
        self.left_tabs.setCurrentIndex(DRAFTS_TAB)
        self.browser.refresh()

    def open_draft(self, draft_id: int) -> Job | None:
        """Reopen a saved draft: its brief fills the form and the variants of that brief come back as cards."""
        if self.job is not None and not self.job.finished:
            self.show_status("Wait for the generation to finish (or cancel it) before opening a draft.", error=True)
            return None
        unsaved = [c.index for c in self.cards if c.dirty and c.draft_id is not None]
        if unsaved:
            answer = QMessageBox.question(
                self, "Unsaved edits",
                f"Variant(s) {', '.join(map(str, unsaved))} have edits that are not saved. Open the other draft "
                "and drop those edits? (Press No, then Save edit, to keep them.)")
            if answer != QMessageBox.StandardButton.Yes:
                return None
        self.show_status("Opening the draft…")
        return self._ask("Opening the draft", rq.OpenDraft(draft_id), on_done=self._opened)

    def _opened(self, opened: Any) -> None:
        """Show a reopened draft (an :class:`app.studio.library.OpenedDraft`)."""
        brief, voice = opened.brief, opened.voice
        self.set_brief(brief)
        if voice is not None and voice.name not in self.voices:
            self.voices[voice.name] = voice
            self.voice_combo.addItem(voice.name, voice.name)
        self.voice_combo.setCurrentIndex(max(0, self.voice_combo.findData(voice.name) if voice else 0))
        self.brief, self.voice = brief, voice
        self._clear_cards()
        shown: VariantCard | None = None
        for index, item in enumerate(opened.variants, 1):
            card = VariantCard(item.variant, brief, voice, index=index)
            card.draft_id = item.draft_id
            card.version = item.version
            card.set_favourite(item.favourite)
            card.show_analysis(item.variant)
            card.setToolTip(item.title)
            self._add_card(card)
            if item.draft_id == opened.draft_id:
                shown = card
        self.opened_draft = opened.draft_id
        self.export_button.setEnabled(True)
        if opened.notices:
            self.last_notice = "\n".join(opened.notices)
            self.notice.setText(self.last_notice)
            self.notice.show()
        else:
            self.notice.hide()
        self.left_tabs.setCurrentIndex(BRIEF_TAB)
        title = next(v.title for v in opened.variants if v.draft_id == opened.draft_id)
        others = len(opened.variants) - 1
        siblings = f", with the {others} other variant(s) of its brief" if others else ""
        self.show_status(f"Opened “{title}”{siblings}. Edit, rewrite, star or export them; Generate writes new "
                         "variants from the brief.")
        if shown is not None:
            shown.setProperty("opened", True)
            QTimer.singleShot(0, lambda: self.cards_scroll.ensureWidgetVisible(shown))

    def _draft_deleted(self, draft_id: int) -> None:
        for card in list(self.cards):
            if card.draft_id == draft_id:
                self.cards.remove(card)
                card.setParent(None)
                card.deleteLater()
                self.show_status("The deleted draft was taken off the cards; Undo puts it back in the list.")
        if self.opened_draft == draft_id:
            self.opened_draft = None

    def _draft_starred(self, draft_id: int, on: bool) -> None:
        for card in self.cards:
            if card.draft_id == draft_id:
                card.set_favourite(on)

    # ---- video clips ----
    def default_clip_path(self, card: VariantCard) -> Path:
        """Where "Render clip…" proposes to save: the user's Videos folder, else ``<data>/clips``."""
        videos = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
        folder = Path(videos) if videos and Path(videos).is_dir() else Path(self.bridge.session.data_dir) / "clips"
        stem = card.brief.product if card.brief.product else "clip"
        slug = "-".join("".join(c if c.isalnum() else " " for c in stem.lower()).split())[:40] or "clip"
        return folder / f"{slug}-{card.brief.type}-{card.index}.mp4"

    def _ask_render(self, card: VariantCard) -> None:
        if self.clip_job is not None and not self.clip_job.finished:
            self._show_clip("A clip is already being rendered: wait for it, or press Cancel first.", error=True)
            return
        default = self.default_clip_path(card)
        if not default.parent.exists():
            try:
                default.parent.mkdir(parents=True, exist_ok=True)  # so the dialog can open there
            except OSError:
                default = Path.home() / default.name
        path, _filter = QFileDialog.getSaveFileName(self, "Render clip", str(default), CLIP_FILTER)
        if path:
            self.render_clip(card, Path(path))

    def render_clip(self, card: VariantCard, path: Path) -> Job | None:
        """Render ``card``'s variant as a video of the avatar to ``path`` in the background (progress, Cancel)."""
        from app.studio.spoken import spoken_text

        if self.clip_job is not None and not self.clip_job.finished:
            self._show_clip("A clip is already being rendered: wait for it, or press Cancel first.", error=True)
            return None
        if card.dirty:
            card.reanalyse()
        text = spoken_text(card.fields(), card.brief.type)
        if not text.strip():
            self._show_clip(f"Variant {card.index} has nothing to say: write some text in it first.", error=True)
            return None
        if not path.suffix:
            path = path.with_suffix(".mp4")
        settings = self.bridge.settings
        avatar, tts = settings.avatar.model_copy(), settings.tts.model_copy()

        def work(job: Job) -> tuple[Any, list[str], str]:
            from app.avatar_clip import avatar_from_settings, render_text_clip
            from engines.avatar.clip import check_output

            check_output(path)  # a bad path fails at once, before the avatar and the voice load
            chosen = avatar_from_settings(avatar, CLIP_SIZE)
            for notice in chosen.notices:
                job.progress(("notice", notice))
            info = render_text_clip(text, chosen.renderer, path, tts, cancel=job.cancel_event,
                                    on_progress=lambda f, what: job.progress(("progress", f, what)))
            return info, chosen.notices, chosen.what

        self.clip_notice.hide()
        self._clip_index = card.index
        self._show_clip(f"Rendering variant {card.index} as a clip… Loading the avatar…", busy=True)
        self.clip_job = worker_job("Rendering a clip", work, on_done=self._clip_done, on_failed=self._clip_failed,
                                   on_progress=self._clip_progress, on_cancelled=self._clip_cancelled)
        return self.clip_job

    def cancel_clip(self) -> None:
        if self.clip_job is not None and not self.clip_job.finished:
            self.clip_job.cancel()
            self.clip_cancel.setEnabled(False)
            self.clip_label.setText("Cancelling the clip…")

    def _show_clip(self, text: str, *, busy: bool = False, error: bool = False, done: bool = False) -> None:
        self.clip_bar.show()
        self.clip_label.setText(text)
        self.clip_label.setStyleSheet(f"color: {FAIL_COLOUR};" if error else "")
        self.clip_progress.setVisible(busy)
        if busy:
            self.clip_progress.setValue(0)
        self.clip_cancel.setVisible(busy)
        self.clip_cancel.setEnabled(busy)
        self.clip_open.setVisible(done)
        self.clip_close.setVisible(not busy)

    def _clip_progress(self, item: tuple[Any, ...]) -> None:
        if item[0] == "notice":
            self.clip_notice.setText(item[1])
            self.clip_notice.show()
            return
        _kind, fraction, what = item
        self.clip_progress.setValue(round(1000 * fraction))
        self.clip_label.setText(f"Rendering variant {self._clip_index} as a clip… {what}")

    def _clip_done(self, result: tuple[Any, list[str], str]) -> None:
        info, notices, what = result
        self.last_clip = info
        self._show_clip(f"Clip saved: {info.path} ({info.duration_s:.1f} s, {info.size[0]}×{info.size[1]}, "
                        f"{what}).", done=True)
        if notices:
            self.clip_notice.setText("\n".join(notices))
            self.clip_notice.show()

    def _clip_failed(self, message: str) -> None:
        self._show_clip(f"The clip was not made. {message}", error=True)

    def _clip_cancelled(self) -> None:
        self._show_clip("Clip cancelled; no file was written.")

    def open_clip_folder(self) -> bool:
        """Show the last clip's folder in the file manager; says so when the desktop cannot."""
        if self.last_clip is None:
            return False
        folder = Path(self.last_clip.path).parent
        if QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            return True
        self._show_clip(f"Could not open a file manager here. The clip is at {self.last_clip.path}.", error=True,
                        done=True)
        return False

    # ---- export ----
    def _ask_export(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export drafts", "drafts.md", "Markdown (*.md);;Plain text (*.txt);;CSV (*.csv)")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> Job | None:
        """Write the shown drafts' current versions to ``path`` (.md, .txt or .csv) in the background."""
        ids = [c.draft_id for c in self.cards if c.draft_id is not None]
        if not ids:
            self.show_status("Nothing to export yet: generate some variants first.", error=True)
            return None
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("md", "txt", "csv"):
            self.show_status("Export as .md, .txt or .csv.", error=True)
            return None
        return self._ask("Exporting drafts", rq.ExportDrafts(tuple(ids), fmt, path), on_done=self._exported)

    def _exported(self, exported: Exported) -> None:
        self.last_export = exported.path
        self.show_status(f"Exported to {exported.path}.")

    # ---- brand voices ----
    def refresh_voices(self, select: str | None = None) -> Job:
        return self._ask("Reading the brand voices", rq.ListVoices(),
                         on_done=lambda voices: self._set_voices(voices, select))

    def _set_voices(self, voices: dict[str, BrandVoice], select: str | None) -> None:
        current = select or self.voice_combo.currentData()
        self.voices = voices
        self.voice_combo.blockSignals(True)
        self.voice_combo.clear()
        self.voice_combo.addItem("(no brand voice)", None)
        for name in voices:
            self.voice_combo.addItem(name, name)
        index = self.voice_combo.findData(current) if current else 0
        self.voice_combo.setCurrentIndex(max(index, 0))
        self.voice_combo.blockSignals(False)
        self.edit_voice.setEnabled(bool(voices))

    def open_voice_dialog(self, voice: BrandVoice | None) -> VoiceDialog:
        dialog = VoiceDialog(voice, parent=self)
        dialog.accepted.connect(lambda: self.save_voice(dialog.result_voice, replace=dialog.editing))
        dialog.open()
        return dialog

    def save_voice(self, voice: BrandVoice | None, *, replace: bool = False) -> Job | None:
        if voice is None:
            return None
        return self._ask("Saving the brand voice", rq.SaveVoice(voice, replace=replace), on_done=self._voice_saved)

    def _voice_saved(self, name: str) -> None:
        self.show_status(f"Brand voice {name!r} saved.")
        self.refresh_voices(select=name)


__all__ = ["StudioPanel", "VariantCard", "VoiceDialog", "analysis_html", "thread_job"]
