"""The sidebar: conversations (new, rename, pin, delete) and a search box over every message."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import (
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

from app.store.records import ConversationSummary, SearchHit

PIN = "★ "  # marks a pinned conversation (a glyph every desktop font has)
ID_ROLE = Qt.ItemDataRole.UserRole
PINNED_ROLE = Qt.ItemDataRole.UserRole + 1
MESSAGE_ROLE = Qt.ItemDataRole.UserRole + 2
TITLE_ROLE = Qt.ItemDataRole.UserRole + 3


HIT_STYLE = "background:#ffe27a;color:#1d1d1f"
"""How a search hit is highlighted (here and in the studio's drafts browser)."""


def highlight(snippet: str) -> str:
    """The store's ``[hit]`` marks as HTML highlights (the rest escaped)."""
    escaped = html.escape(snippet)
    return re.sub(r"\[([^\[\]]*)\]", rf'<span style="{HIT_STYLE}">\1</span>', escaped)


class Sidebar(QWidget):
    sig_new = Signal()
    sig_open = Signal(int)
    sig_rename = Signal(int, str)
    sig_pin = Signal(int, bool)
    sig_delete = Signal(int)
    sig_search = Signal(str)
    sig_open_hit = Signal(int, int)  # conversation_id, message_id
    sig_export = Signal(object)  # a conversation id, or None for all conversations

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 12, 10, 10)
        layout.setSpacing(8)
        top = QHBoxLayout()
        brand = QLabel("Visage")
        brand.setObjectName("brand")
        top.addWidget(brand)
        top.addStretch(1)
        self.new_button = QPushButton("+ New")
        self.new_button.setObjectName("new_button")
        self.new_button.setToolTip("New conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.sig_new)
        top.addWidget(self.new_button)
        layout.addLayout(top)
        self.search_box = QLineEdit()
        self.search_box.setObjectName("search")
        self.search_box.setPlaceholderText("Search all messages (Ctrl+F)")
        self.search_box.setClearButtonEnabled(True)
        layout.addWidget(self.search_box)
        self.conversations = QListWidget()
        self.conversations.setObjectName("conversations")
        self.conversations.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.conversations.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.conversations.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.conversations.customContextMenuRequested.connect(self._menu)
        self.conversations.itemClicked.connect(self._clicked)
        self.conversations.itemChanged.connect(self._edited)
        layout.addWidget(self.conversations, 1)
        self.results_label = QLabel()
        self.results_label.setObjectName("results_label")
        self.results = QListWidget()
        self.results.setObjectName("results")
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.itemClicked.connect(self._hit_clicked)
        layout.addWidget(self.results_label)
        layout.addWidget(self.results, 1)
        self.results.hide()
        self.results_label.hide()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(lambda: self.sig_search.emit(self.search_box.text()))
        self.search_box.textChanged.connect(self._query_changed)
        self.search_box.returnPressed.connect(lambda: self.sig_search.emit(self.search_box.text()))
        self.current_id: int | None = None
        self._filling = False

    # ---- conversations ----
    def set_conversations(self, items: list[ConversationSummary]) -> None:
        self._filling = True
        self.conversations.clear()
        for conv in items:
            item = QListWidgetItem((PIN if conv.pinned else "") + conv.title)
            item.setData(ID_ROLE, conv.id)
            item.setData(PINNED_ROLE, conv.pinned)
            item.setData(TITLE_ROLE, conv.title)
            item.setToolTip(f"{conv.title}\n{conv.message_count} messages · double-click or F2 to rename")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.conversations.addItem(item)
            if conv.id == self.current_id:
                item.setSelected(True)
                self.conversations.setCurrentItem(item)
        self._filling = False

    def item_for(self, conversation_id: int) -> QListWidgetItem | None:
        for i in range(self.conversations.count()):
            item = self.conversations.item(i)
            if item.data(ID_ROLE) == conversation_id:
                return item
        return None

    def select(self, conversation_id: int | None) -> None:
        self.current_id = conversation_id
        self.conversations.clearSelection()
        if conversation_id is not None and (item := self.item_for(conversation_id)) is not None:
            self._filling = True
            self.conversations.setCurrentItem(item)
            self._filling = False

    def _clicked(self, item: QListWidgetItem) -> None:
        self.sig_open.emit(int(item.data(ID_ROLE)))

    def _edited(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        title = item.text().removeprefix(PIN).strip()
        if title and title != item.data(TITLE_ROLE):
            self.sig_rename.emit(int(item.data(ID_ROLE)), title)

    def rename(self, conversation_id: int) -> None:
        item = self.item_for(conversation_id)
        if item is not None:
            self._filling = True
            item.setText(item.data(TITLE_ROLE))
            self._filling = False
            self.conversations.editItem(item)

    def _menu(self, pos: QPoint) -> None:
        item = self.conversations.itemAt(pos)
        if item is None:
            return
        cid = int(item.data(ID_ROLE))
        pinned = bool(item.data(PINNED_ROLE))
        menu = QMenu(self)
        menu.addAction("Rename", lambda: self.rename(cid))
        menu.addAction("Unpin" if pinned else "Pin to top", lambda: self.sig_pin.emit(cid, not pinned))
        menu.addAction("Export…", lambda: self.sig_export.emit(cid))
        menu.addAction("Export all conversations…", lambda: self.sig_export.emit(None))
        menu.addSeparator()
        menu.addAction("Delete", lambda: self.sig_delete.emit(cid))
        menu.exec(self.conversations.viewport().mapToGlobal(pos))

    # ---- search ----
    def focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    def _query_changed(self, text: str) -> None:
        if not text.strip():
            self.results.hide()
            self.results_label.hide()
            self.conversations.show()
            return
        self._debounce.start()

    def set_results(self, query: str, hits: list[SearchHit]) -> None:
        if query != self.search_box.text() or not query.strip():
            return  # an older query's answer
        self.results.clear()
        self.conversations.hide()
        self.results.show()
        self.results_label.show()
        self.results_label.setText(f"{len(hits)} result{'s' if len(hits) != 1 else ''} for “{query}”")
        for hit in hits:
            item = QListWidgetItem()
            item.setData(ID_ROLE, hit.conversation_id)
            item.setData(MESSAGE_ROLE, hit.message_id)
            who = "You" if hit.role == "user" else "Visage"
            label = QLabel(
                f"<div style='font-weight:600'>{html.escape(hit.conversation_title)}</div>"
                f"<div>{who}: {highlight(hit.snippet)}</div>"
            )
            label.setObjectName("hit")
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setContentsMargins(6, 4, 6, 4)
            self.results.addItem(item)
            self.results.setItemWidget(item, label)
            item.setSizeHint(label.sizeHint())

    def hit_labels(self) -> list[str]:
        out = []
        for i in range(self.results.count()):
            widget = self.results.itemWidget(self.results.item(i))
            if isinstance(widget, QLabel):
                out.append(widget.text())
        return out

    def _hit_clicked(self, item: QListWidgetItem) -> None:
        self.sig_open_hit.emit(int(item.data(ID_ROLE)), int(item.data(MESSAGE_ROLE)))
