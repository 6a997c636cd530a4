"""The copy studio's variants side by side, and what each card's buttons do: save the hand edit as a new
version, star, rewrite on the model (shorter / more formal / more playful / with a keyword), and the
version history (pick one to show it again; Save edit keeps it as the newest).

Each action is a request to the studio service through the bridge (``bridge.ask``); the row reports back
with signals and the panel shows the words."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QMenu, QScrollArea, QWidget

from app.studio import evaluate
from app.studio import requests as rq
from app.studio.service import Rewritten
from app.ui.jobs import Job, request_job
from app.ui.studio.variant_card import REWRITE_LABELS, VariantCard


class CardsRow(QScrollArea):
    sig_status = Signal(str, bool)
    """(text, error): what the last action did, for the panel's status line."""
    sig_failed = Signal(str)
    """A store request failed (its message says what to do)."""
    sig_changed = Signal()
    """A draft changed in the history (a version, a star): the drafts list is read again."""
    sig_read_aloud = Signal(str)
    sig_render = Signal(object)
    """(card): render its variant as a clip."""

    def __init__(self, bridge: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.cards: list[VariantCard] = []
        self.host = QWidget()
        self.row = QHBoxLayout(self.host)
        self.row.setContentsMargins(6, 6, 6, 6)
        self.row.addStretch(0)  # takes the room only while there are no cards
        self.setWidgetResizable(True)
        self.setWidget(self.host)

    # ---- the cards ----
    def clear(self) -> None:
        for card in self.cards:
            card.setParent(None)
            card.deleteLater()
        self.cards = []

    def add(self, card: VariantCard) -> None:
        self.cards.append(card)
        self.row.insertWidget(self.row.count() - 1, card, 1)
        card.sig_read_aloud.connect(self.sig_read_aloud)
        card.sig_rewrite.connect(self.rewrite)
        card.sig_save.connect(self.save_edit)
        card.sig_star.connect(self.star)
        card.sig_history.connect(self.show_history)
        card.sig_render.connect(self.sig_render)

    def drop(self, draft_id: int) -> bool:
        """Take the cards of a deleted draft off the row; whether there were any."""
        dropped = False
        for card in list(self.cards):
            if card.draft_id == draft_id:
                self.cards.remove(card)
                card.setParent(None)
                card.deleteLater()
                dropped = True
        return dropped

    def show_favourite(self, draft_id: int, on: bool) -> None:
        for card in self.cards:
            if card.draft_id == draft_id:
                card.set_favourite(on)

    # ---- what the buttons do ----
    def _ask(self, name: str, request: rq.StudioRequest, on_done: Any = None) -> Job:
        return request_job(self.bridge, name, request, on_done=on_done, on_failed=self.sig_failed.emit)

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
        self.sig_status.emit(f"Saved as version {number}.", False)
        self.sig_changed.emit()

    def star(self, card: VariantCard, on: bool) -> Job | None:
        if card.draft_id is None:
            return None
        return self._ask("Starring the draft", rq.StarDraft(card.draft_id, on),
                         on_done=lambda _none: self.sig_changed.emit())

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
        self.sig_status.emit(f"Rewritten ({variant.source}); kept as version {card.version}.", False)
        if number is not None:
            self.sig_changed.emit()

    def _card_failed(self, card: VariantCard, message: str) -> None:
        card.set_busy(False)
        card.show_analysis(card.variant)
        self.sig_status.emit(message, True)

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
        self.sig_status.emit(f"Showing version {version.number}; Save edit keeps it as the newest version.",
                             False)
