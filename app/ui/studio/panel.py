"""The copy studio panel: a brief form, brand voices, variants side by side with live analysis.

The tab puts together the pieces in this package and runs the workflow's steps: :mod:`.brief_form`
(the brief, the voice picker), :mod:`.cards_row` (the variants and what their buttons do),
:mod:`.variant_card`, :mod:`.voice_dialog`, :mod:`.clip_bar` (a card as a video of the avatar) and the
Drafts tab (:mod:`app.ui.drafts_browser`).

Everything slow runs off the UI thread: the panel asks the core with a request from
:mod:`app.studio.requests` (``bridge.ask``, through :func:`app.ui.jobs.request_job`) and the studio service
(:mod:`app.studio.service`, the same workflow as ``visage draft``) answers on the session's workers:
generation and rewrites on the LLM's own worker (so they queue behind a conversation reply instead of
overlapping it), drafts and voices on its I/O worker. The panel never holds a store. Only
:func:`app.studio.evaluate` runs here, on each hand edit: it is pure analysis (no model, no database, a
few milliseconds).

- Generate N variants with a Cancel button; candidates appear as they are ready, then the ranked
  variants replace them. "Generate with remote" shows when sync's remote copywriting is on; a remote
  failure falls back to the local model and the notice is shown.
- Export all shown drafts as Markdown, plain text or CSV.
- The Drafts tab: search, starred only, open a draft (its brief and the variants of that brief come back
  as cards, with their versions), delete with undo.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import VisageError
from app.studio import BrandVoice, Brief, Variant, parse_brief
from app.studio import requests as rq
from app.studio.library import OpenedDraft
from app.studio.service import Drafted, Exported
from app.ui.drafts_browser import DraftsBrowser
from app.ui.jobs import Job, request_job
from app.ui.studio.analysis_view import FAIL_COLOUR, NOTICE_STYLE
from app.ui.studio.brief_form import BriefForm
from app.ui.studio.cards_row import CardsRow
from app.ui.studio.clip_bar import ClipBar
from app.ui.studio.variant_card import VariantCard
from app.ui.studio.voice_dialog import VoiceDialog

log = logging.getLogger(__name__)

BRIEF_TAB, DRAFTS_TAB = 0, 1


class StudioPanel(QWidget):
    """The copy studio tab. ``bridge`` is the window's CoreBridge (the studio's work runs behind it)."""

    sig_read_aloud = Signal(str)
    """Text for the avatar to read (the window sends ReadAloud and shows the avatar)."""
    sig_generated = Signal(object)
    """The final variants of a generation (list[Variant]), once they are saved as drafts."""
    sig_busy = Signal(bool)

    def __init__(self, bridge: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.job: Job | None = None
        self.brief: Brief | None = None
        self.voice: BrandVoice | None = None
        self.last_notice = ""
        self.last_export: Path | None = None
        self.opened_draft: int | None = None

        # ---- the brief form (its fields are reachable here too: tests and the screenshot script) ----
        self.form = f = BriefForm()
        self.type_combo, self.platform, self.product, self.audience = f.type_combo, f.platform, f.product, f.audience
        self.key_points, self.keywords, self.avoid, self.tone = f.key_points, f.keywords, f.avoid, f.tone
        self.cta, self.length, self.language, self.duration = f.cta, f.length, f.language, f.duration
        self.notes, self.voice_combo, self.count = f.notes, f.voice_combo, f.count
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
        self.notice.setStyleSheet(NOTICE_STYLE)
        self.notice.hide()
        left = QWidget()
        left_col = QVBoxLayout(left)
        left_col.addWidget(self.form)
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

        # ---- a clip being rendered (or the last one), above the variants side by side ----
        self.clip_bar = ClipBar(bridge)
        self.clip_label, self.clip_progress, self.clip_notice = (self.clip_bar.label, self.clip_bar.progress,
                                                                 self.clip_bar.notice)
        self.clip_cancel, self.clip_open = self.clip_bar.cancel_button, self.clip_bar.open_button
        self.cards_scroll = CardsRow(bridge)
        right = QWidget()
        right_col = QVBoxLayout(right)
        right_col.setContentsMargins(0, 0, 0, 0)
        right_col.setSpacing(4)
        right_col.addWidget(self.clip_bar)
        right_col.addWidget(self.cards_scroll, 1)

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
        self.generate_button.clicked.connect(lambda: self.generate(remote=False))
        self.remote_button.clicked.connect(lambda: self.generate(remote=True))
        self.cancel_button.clicked.connect(self.cancel)
        f.new_voice.clicked.connect(lambda: self.open_voice_dialog(None))
        f.edit_voice.clicked.connect(lambda: self.open_voice_dialog(self.selected_voice()))
        self.export_button.clicked.connect(self._ask_export)
        self.browser.sig_open.connect(self.open_draft)
        self.browser.sig_deleted.connect(self._draft_deleted)
        self.browser.sig_starred.connect(self.cards_scroll.show_favourite)
        self.cards_scroll.sig_status.connect(lambda text, error: self.show_status(text, error=error))
        self.cards_scroll.sig_failed.connect(self._failed)
        self.cards_scroll.sig_changed.connect(self.browser.refresh)
        self.cards_scroll.sig_read_aloud.connect(self.sig_read_aloud)
        self.cards_scroll.sig_render.connect(self.clip_bar.ask_render)
        self.update_remote(bridge.settings)
        self.refresh_voices()
        self.browser.refresh()

    @property
    def cards(self) -> list[VariantCard]:
        """The variants shown, left to right."""
        return self.cards_scroll.cards

    @property
    def voices(self) -> dict[str, BrandVoice]:
        return self.form.voices

    @property
    def clip_job(self) -> Job | None:
        return self.clip_bar.job

    @property
    def last_clip(self) -> Any:
        """The ClipInfo of the last clip rendered."""
        return self.clip_bar.last_clip

    def set_brief(self, brief: Brief) -> None:
        """Fill the form from a brief (used by tests and the screenshot script)."""
        self.form.set_brief(brief)

    def brief_data(self) -> dict[str, Any]:
        return self.form.brief_data()

    def selected_voice(self) -> BrandVoice | None:
        return self.form.selected_voice()

    def rewrite(self, card: VariantCard, how: str, keyword: str = "") -> Job | None:
        """Rewrite a card's variant on the model (shorter, formal, playful, keyword) as its next version."""
        return self.cards_scroll.rewrite(card, how, keyword)

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
        self.cards_scroll.clear()
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
        self.cards_scroll.add(card)
        self.show_status(f"Candidate {len(self.cards)} of {self.count.value() + 1} ready; ranking at the end…")

    def _generated(self, result: Drafted) -> None:
        variants, ids, notice, source = result.variants, result.ids, result.written.notice, result.written.source
        assert self.brief is not None
        self.cards_scroll.clear()
        for index, (variant, draft_id) in enumerate(zip(variants, ids, strict=True), 1):
            card = VariantCard(variant, self.brief, self.voice, index=index)
            card.draft_id = draft_id
            card.show_analysis(variant)
            self.cards_scroll.add(card)
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
        self.cards_scroll.clear()
        self.show_status("Generation cancelled.")

    def set_busy(self, busy: bool) -> None:
        self.generate_button.setEnabled(not busy)
        self.remote_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.sig_busy.emit(busy)

    def show_status(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {FAIL_COLOUR};" if error else "")

    def _ask(self, name: str, request: rq.StudioRequest, on_done: Any = None) -> Job:
        return request_job(self.bridge, name, request, on_done=on_done, on_failed=self._failed)

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

    def _opened(self, opened: OpenedDraft) -> None:
        """Show a reopened draft, with the other variants of its brief."""
        brief, voice = opened.brief, opened.voice
        self.set_brief(brief)
        self.form.show_voice(voice)
        self.brief, self.voice = brief, voice
        self.cards_scroll.clear()
        shown: VariantCard | None = None
        for index, item in enumerate(opened.variants, 1):
            card = VariantCard(item.variant, brief, voice, index=index)
            card.draft_id = item.draft_id
            card.version = item.version
            card.set_favourite(item.favourite)
            card.show_analysis(item.variant)
            card.setToolTip(item.title)
            self.cards_scroll.add(card)
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
        if self.cards_scroll.drop(draft_id):
            self.show_status("The deleted draft was taken off the cards; Undo puts it back in the list.")
        if self.opened_draft == draft_id:
            self.opened_draft = None

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
                         on_done=lambda voices: self.form.set_voices(voices, select))

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
