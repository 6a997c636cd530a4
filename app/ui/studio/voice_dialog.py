"""The brand voice dialog: create or edit a voice (tone words, do/don't, banned words, samples)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import VisageError
from app.studio import BrandVoice
from app.ui.studio.analysis_view import FAIL_COLOUR


def split_list(text: str, *, sep: str = ",") -> list[str]:
    """Comma- (or line-) separated words as a clean list."""
    parts = text.replace("\n", sep).split(sep) if sep != "\n" else text.splitlines()
    return [p.strip() for p in parts if p.strip()]


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
