"""The copy studio's drafts browser: saved drafts newest first (starred on top), full-text search with
highlighted hits, a starred-only filter, open, star and delete with undo.

Like the chat sidebar: a search box (debounced) over the store's full-text index, results with the
matched words highlighted. Every read and write is a request to the studio service
(:mod:`app.studio.requests`, through ``bridge.ask`` as a :func:`app.ui.jobs.request_job`), answered on the
session's I/O worker; only the answers are shown here. Long lists come
a page at a time ("Show more").
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.store.drafts import MARK_END, MARK_START
from app.studio import get_type
from app.studio import requests as rq
from app.studio.service import DraftPage
from app.ui.jobs import Job, request_job
from app.ui.sidebar import HIT_STYLE

log = logging.getLogger(__name__)

PAGE = 50
"""Drafts per page of the list (and most search results shown)."""
SEARCH_DEBOUNCE_MS = 200
UNDO_MS = 10_000
ID_ROLE = Qt.ItemDataRole.UserRole
TITLE_ROLE = Qt.ItemDataRole.UserRole + 1
STAR_ROLE = Qt.ItemDataRole.UserRole + 2
ITEM_PADDING = QSize(2 * 8, 2 * 7 + 2 * 1)
"""What the theme's ``QListWidget::item`` padding (7 px 8 px) and margin (1 px) take around an entry."""


def when(stamp: str) -> str:
    """An ISO time stamp from the store as local 'DD Mon YYYY HH:MM'."""
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%d %b %Y %H:%M")
    except ValueError:
        return stamp[:16]


def type_label(key: str) -> str:
    try:
        return get_type(key).label
    except Exception:  # a type that is no longer shipped: show its key
        return key


def marked(text: str) -> str:
    """Text from the store's search with its matched words (between MARK_START and MARK_END) highlighted."""
    out = html.escape(" ".join(text.split()))
    return out.replace(MARK_START, f'<span style="{HIT_STYLE}">').replace(MARK_END, "</span>")


def entry_html(title: str, type_: str, stamp: str, favourite: bool, body: str, *, extra: str = "") -> str:
    """One list entry: the title (★ when starred), type · date (· extra), and a preview or a search snippet.

    ``title`` and ``body`` are HTML already (escaped, hits highlighted).
    """
    star = "★ " if favourite else ""
    meta = " · ".join(p for p in (html.escape(type_label(type_)), when(stamp), extra) if p)
    return (f"<div style='font-weight:600'>{star}{title}</div>"
            f"<div style='color:#7f8c8d'>{meta}</div><div>{body}</div>")


class DraftsBrowser(QWidget):
    """Saved drafts. ``bridge`` is the window's CoreBridge: its session runs the store calls."""

    sig_open = Signal(int)
    """A draft to open in the studio (its id)."""
    sig_deleted = Signal(int)
    """A draft went to the trash (its id)."""
    sig_restored = Signal(int)
    """A deleted draft came back (undo)."""
    sig_starred = Signal(int, bool)

    def __init__(self, bridge: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drafts_browser")
        self.bridge = bridge
        self.query = ""
        self.starred_only = False
        self.total = 0
        self.loaded = 0
        self.searching = False
        self.jobs: list[Job] = []
        self._generation = 0  # answers of older requests are dropped
        self._deleted: tuple[int, str] | None = None

        col = QVBoxLayout(self)
        col.setContentsMargins(6, 6, 6, 6)
        col.setSpacing(6)
        self.search_box = QLineEdit()
        self.search_box.setObjectName("drafts_search")
        self.search_box.setPlaceholderText("Search drafts (titles and texts)")
        self.search_box.setClearButtonEnabled(True)
        self.starred = QCheckBox("★ Starred only")
        self.starred.setObjectName("drafts_starred")
        top = QHBoxLayout()
        top.addWidget(self.search_box, 1)
        top.addWidget(self.starred)
        col.addLayout(top)
        self.summary = QLabel("Reading the drafts…")
        self.summary.setObjectName("drafts_summary")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #7f8c8d;")
        col.addWidget(self.summary)
        self.list = QListWidget()
        self.list.setObjectName("drafts_list")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setToolTip("Click a draft to open it with the other variants of its brief")
        self.list.viewport().installEventFilter(self)
        col.addWidget(self.list, 1)
        self.more_button = QPushButton("Show more")
        self.more_button.setObjectName("drafts_more")
        self.more_button.hide()
        col.addWidget(self.more_button)
        actions = QHBoxLayout()
        self.open_button = QPushButton("Open")
        self.star_button = QPushButton("★ Star")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Move the selected draft to the trash (Delete); Undo brings it back")
        for button in (self.open_button, self.star_button, self.delete_button):
            button.setEnabled(False)
            actions.addWidget(button)
        col.addLayout(actions)
        self.undo_bar = QWidget()
        self.undo_bar.setObjectName("drafts_undo_bar")
        undo_row = QHBoxLayout(self.undo_bar)
        undo_row.setContentsMargins(6, 2, 2, 2)
        self.undo_label = QLabel()
        self.undo_label.setWordWrap(True)
        self.undo_button = QPushButton("Undo")
        undo_row.addWidget(self.undo_label, 1)
        undo_row.addWidget(self.undo_button)
        self.undo_bar.setStyleSheet("#drafts_undo_bar { background: #fdebd0; border-radius: 4px; }"
                                    " QLabel { color: #784212; }")
        self.undo_bar.hide()
        col.addWidget(self.undo_bar)
        self.error = QLabel()
        self.error.setObjectName("drafts_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b;")
        self.error.hide()
        col.addWidget(self.error)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.refresh)
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.setInterval(UNDO_MS)
        self._undo_timer.timeout.connect(self.undo_bar.hide)

        self.search_box.textChanged.connect(lambda _t: self._debounce.start())
        self.search_box.returnPressed.connect(self.refresh)
        self.starred.toggled.connect(self._starred_toggled)
        self.list.itemClicked.connect(lambda item: self.sig_open.emit(int(item.data(ID_ROLE))))
        self.list.currentItemChanged.connect(self._selection_changed)
        self.list.customContextMenuRequested.connect(self._menu)
        self.more_button.clicked.connect(self.load_more)
        self.open_button.clicked.connect(lambda: self._with_selected(self.sig_open.emit))
        self.star_button.clicked.connect(lambda: self._with_selected(self._toggle_star))
        self.delete_button.clicked.connect(lambda: self._with_selected(self.delete))
        self.undo_button.clicked.connect(self.undo)
        delete_key = QShortcut(QKeySequence.StandardKey.Delete, self.list)
        delete_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete_key.activated.connect(lambda: self._with_selected(self.delete))

    # ---- background work ----
    def _job(self, name: str, request: rq.StudioRequest, on_done: Callable[[Any], None]) -> Job:
        job = request_job(self.bridge, name, request, on_done=on_done, on_failed=self._failed)
        self.jobs = [j for j in self.jobs if not j.finished] + [job]
        return job

    def _failed(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    # ---- reading ----
    def refresh(self) -> Job:
        """Read the first page again (the list, or the search results for the text in the box)."""
        self._debounce.stop()
        self._generation += 1
        generation = self._generation
        query = self.search_box.text().strip()
        starred = self.starred.isChecked()
        return self._job("Reading the drafts", rq.BrowseDrafts(query, starred, PAGE),
                         lambda page: self._show(generation, query, starred, page, append=False))

    def load_more(self) -> Job | None:
        if self.searching or self.loaded >= self.total:
            return None
        generation, offset, starred = self._generation, self.loaded, self.starred_only
        self.more_button.setEnabled(False)
        return self._job("Reading more drafts", rq.BrowseDrafts("", starred, PAGE, offset),
                         lambda page: self._show(generation, "", starred, page, append=True))

    def _show(self, generation: int, query: str, starred: bool, page: DraftPage, *, append: bool) -> None:
        if generation != self._generation:
            return  # the user typed on or changed the filter: a newer answer is coming
        rows, total = page.rows, page.total
        self.error.hide()
        self.query, self.starred_only, self.searching = query, starred, bool(query)
        if not append:
            self.list.clear()
        for row in rows:
            self._add_row(row)
        self.loaded = self.list.count()
        self.more_button.setEnabled(True)
        which = "starred drafts" if starred else "drafts"
        if query:
            self.total = len(rows)
            if not rows:
                self.summary.setText(f"No {which} match “{query}”.")
            elif len(rows) >= PAGE:
                self.summary.setText(f"The best {PAGE} {which} matching “{query}”: type more words to narrow it.")
            else:
                self.summary.setText(f"{len(rows)} {which if len(rows) != 1 else which[:-1]} matching “{query}”.")
            self.more_button.hide()
        else:
            self.total = total
            if total == 0:
                self.summary.setText("No starred drafts yet: star a variant with ☆." if starred else
                                     "No drafts yet: generate some in the Brief tab.")
            elif self.loaded < total:
                self.summary.setText(f"Showing {self.loaded} of {total} {which}, starred first, then newest.")
            else:
                self.summary.setText(f"{total} {which if total != 1 else which[:-1]}, starred first, then newest.")
            self.more_button.setVisible(self.loaded < total)
        self._selection_changed(self.list.currentItem())

    def _add_row(self, row: Any) -> None:
        if hasattr(row, "text_snippet"):  # a search hit: the matched words highlighted in the title and text
            draft_id, title, body = row.draft_id, marked(row.title_marked or row.title), marked(row.text_snippet)
            extra = ""
        else:
            draft_id, title = row.id, html.escape(row.title)
            preview = " ".join(row.text.split())
            body = html.escape(preview[:140] + ("…" if len(preview) > 140 else ""))
            mark = "" if row.passes is None else ("✓" if row.passes else "✗ fails")
            extra = " ".join(p for p in (f"v{row.versions}", mark) if p)
        item = QListWidgetItem()
        item.setData(ID_ROLE, draft_id)
        item.setData(TITLE_ROLE, row.title)
        item.setData(STAR_ROLE, row.favourite)
        label = QLabel(entry_html(title, row.type, row.updated_at, row.favourite, body, extra=extra))
        label.setObjectName("draft_entry")
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setContentsMargins(6, 4, 6, 4)
        self.list.addItem(item)
        self.list.setItemWidget(item, label)
        self._fit(item, label)

    def _fit(self, item: QListWidgetItem, label: QLabel) -> None:
        """The entry as tall as its wrapped text at the list's width (no empty band under short entries)."""
        label.ensurePolished()  # the theme's font, not the default one, decides the height
        width = max(160, self.list.viewport().width() - 4)
        text_width = width - ITEM_PADDING.width()
        item.setSizeHint(QSize(width, label.heightForWidth(text_width) + ITEM_PADDING.height()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.list.viewport() and event.type() == QEvent.Type.Resize:
            for i in range(self.list.count()):
                item = self.list.item(i)
                widget = self.list.itemWidget(item)
                if isinstance(widget, QLabel):
                    self._fit(item, widget)
        return super().eventFilter(watched, event)

    def entries(self) -> list[str]:
        """The rich text of each shown entry (tests, screenshots)."""
        out = []
        for i in range(self.list.count()):
            widget = self.list.itemWidget(self.list.item(i))
            if isinstance(widget, QLabel):
                out.append(widget.text())
        return out

    def ids(self) -> list[int]:
        return [int(self.list.item(i).data(ID_ROLE)) for i in range(self.list.count())]

    def item_for(self, draft_id: int) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            if self.list.item(i).data(ID_ROLE) == draft_id:
                return self.list.item(i)
        return None

    # ---- acting on drafts ----
    def _starred_toggled(self, _on: bool) -> None:
        self.refresh()

    def _selection_changed(self, item: QListWidgetItem | None, _previous: Any = None) -> None:
        for button in (self.open_button, self.star_button, self.delete_button):
            button.setEnabled(item is not None)
        if item is not None:
            self.star_button.setText("☆ Unstar" if item.data(STAR_ROLE) else "★ Star")

    def _with_selected(self, action: Callable[[int], Any]) -> None:
        item = self.list.currentItem()
        if item is not None:
            action(int(item.data(ID_ROLE)))

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        draft_id = int(item.data(ID_ROLE))
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.sig_open.emit(draft_id))
        menu.addAction("Unstar" if item.data(STAR_ROLE) else "Star", lambda: self._toggle_star(draft_id))
        menu.addSeparator()
        menu.addAction("Delete", lambda: self.delete(draft_id))
        menu.exec(self.list.viewport().mapToGlobal(pos))

    def _toggle_star(self, draft_id: int) -> Job | None:
        item = self.item_for(draft_id)
        if item is None:
            return None
        return self.set_star(draft_id, not bool(item.data(STAR_ROLE)))

    def set_star(self, draft_id: int, on: bool) -> Job:
        def done(_none: None) -> None:
            self.sig_starred.emit(draft_id, on)
            self.refresh()

        return self._job("Starring the draft", rq.StarDraft(draft_id, on), done)

    def delete(self, draft_id: int) -> Job:
        """Move a draft to the trash; the undo bar offers to bring it back for 10 seconds."""
        item = self.item_for(draft_id)
        title = str(item.data(TITLE_ROLE)) if item is not None else f"draft {draft_id}"
        return self._job("Deleting the draft", rq.DeleteDraft(draft_id),
                         lambda _none: self._was_deleted(draft_id, title))

    def _was_deleted(self, draft_id: int, title: str) -> None:
        self._deleted = (draft_id, title)
        self.undo_label.setText(f"Deleted “{title}”.")
        self.undo_button.setEnabled(True)
        self.undo_bar.show()
        self._undo_timer.start()
        self.sig_deleted.emit(draft_id)
        self.refresh()

    def undo(self) -> Job | None:
        if self._deleted is None:
            return None
        draft_id, title = self._deleted
        self._deleted = None
        self.undo_button.setEnabled(False)

        def done(_none: None) -> None:
            self._undo_timer.stop()
            self.undo_bar.hide()
            self.sig_restored.emit(draft_id)
            self.refresh()

        self.undo_label.setText(f"Bringing back “{title}”…")
        return self._job("Restoring the draft", rq.RestoreDraft(draft_id), done)


__all__ = ["PAGE", "DraftsBrowser", "entry_html", "marked", "when"]
