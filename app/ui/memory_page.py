"""Settings › Memory: the facts about the user that every conversation knows, to read, add, edit and forget.

Changes are saved at once (not on OK): each goes to the store in a background job (``app.ui.jobs``), and
the list is read back from the store afterwards, so what is shown is what the model will be told.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.jobs import thread_job

log = logging.getLogger(__name__)

FACT_ID = Qt.ItemDataRole.UserRole


class MemoryPage(QWidget):
    def __init__(self, memory: Any | None, parent: QWidget | None = None) -> None:
        """``memory``: an ``app.store.memory.MemoryStore``; None while the history is not open."""
        super().__init__(parent)
        self.memory = memory
        intro = QLabel("Visage tells the model these facts in every conversation. Say “remember that …” "
                       "in a conversation to add one by voice. Double-click a fact to change it.")
        intro.setWordWrap(True)
        self.facts = QListWidget()
        self.facts.setObjectName("memory_facts")
        self.facts.itemChanged.connect(self._edited)
        self.new_fact = QLineEdit()
        self.new_fact.setPlaceholderText("e.g. My name is Sam. / I prefer short answers.")
        self.new_fact.returnPressed.connect(self.add)
        self.add_button = QPushButton("Remember")
        self.add_button.clicked.connect(self.add)
        self.forget_button = QPushButton("Forget")
        self.forget_button.clicked.connect(self.forget)
        self.undo_button = QPushButton("Undo")
        self.undo_button.clicked.connect(self.undo)
        self.undo_button.hide()
        self.status = QLabel()
        self.status.setObjectName("memory_status")
        self.status.setWordWrap(True)
        add_row = QHBoxLayout()
        add_row.addWidget(self.new_fact, 1)
        add_row.addWidget(self.add_button)
        actions = QHBoxLayout()
        actions.addWidget(self.forget_button)
        actions.addWidget(self.undo_button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.facts, 1)
        layout.addLayout(add_row)
        layout.addLayout(actions)
        layout.addWidget(self.status)
        self._forgotten: int | None = None
        self.last_job: Any = None
        if memory is None:
            self.status.setText("The history is not open yet; try again in a moment.")
            for widget in (self.new_fact, self.add_button, self.forget_button, self.facts):
                widget.setEnabled(False)
        else:
            QTimer.singleShot(0, self.reload)

    # ---- store jobs ----
    def _run(self, name: str, fn: Any, *args: Any, then: Any = None) -> None:
        def done(result: Any) -> None:
            if then is not None:
                then(result)
            self.reload()

        self.last_job = thread_job(name, fn, *args, on_done=done, on_failed=self._failed)

    def reload(self) -> None:
        if self.memory is not None:
            self.last_job = thread_job("read the memory", self.memory.list, on_done=self._show, on_failed=self._failed)

    def _show(self, facts: list[Any]) -> None:
        self.facts.blockSignals(True)
        self.facts.clear()
        for fact in facts:
            item = QListWidgetItem(fact.text)
            item.setData(FACT_ID, fact.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            if fact.source == "said":
                item.setToolTip("You asked Visage to remember this in a conversation.")
            self.facts.addItem(item)
        self.facts.blockSignals(False)
        self.forget_button.setEnabled(bool(facts))

    def _failed(self, message: str) -> None:
        self.status.setText(message)
        self.reload()  # show what is really stored (an edit that failed goes back to its old text)

    # ---- actions ----
    def add(self) -> None:
        text = self.new_fact.text()
        if self.memory is None or not text.strip():
            return
        self.status.clear()

        def added(fact: Any) -> None:
            self.new_fact.clear()
            self.status.setText(f"Remembered: {fact.text}")

        self._run("remember the fact", self.memory.add, text, then=added)

    def _edited(self, item: QListWidgetItem) -> None:
        if self.memory is not None:
            self.status.clear()
            self._run("change the fact", self.memory.update, int(item.data(FACT_ID)), item.text())

    def forget(self) -> None:
        item = self.facts.currentItem()
        if self.memory is None or item is None:
            return

        def forgotten(fact: Any) -> None:
            self._forgotten = fact.id
            self.status.setText(f"Forgot: {fact.text}")
            self.undo_button.show()

        self._run("forget the fact", self.memory.remove, int(item.data(FACT_ID)), then=forgotten)

    def undo(self) -> None:
        if self.memory is None or self._forgotten is None:
            return
        fact_id, self._forgotten = self._forgotten, None
        self.undo_button.hide()
        self._run("restore the fact", self.memory.restore, fact_id,
                  then=lambda fact: self.status.setText(f"Remembered again: {fact.text}"))
