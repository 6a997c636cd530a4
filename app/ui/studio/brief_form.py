"""The copy studio's brief form: content type (with the fields and limits it writes), that type's brief
fields (platform only for ads and social posts, spoken length only for video scripts), the brand voice
picker and how many variants to write. It only shows and reads the brief: :meth:`BriefForm.brief_data`
is what :func:`app.studio.parse_brief` checks."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.core.errors import VisageError
from app.studio import BrandVoice, Brief, content_types
from app.studio.types import ContentType
from app.ui.studio.voice_dialog import split_list


class BriefForm(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.voices: dict[str, BrandVoice] = {}
        self._types = content_types()
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

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
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
        self.type_combo.currentIndexChanged.connect(self._type_changed)
        self.platform.currentIndexChanged.connect(self._update_type_info)
        self._type_changed()

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

    def set_voices(self, voices: dict[str, BrandVoice], select: str | None = None) -> None:
        """Offer ``voices`` in the picker, keeping (or choosing ``select``) the selection."""
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

    def show_voice(self, voice: BrandVoice | None) -> None:
        """Select ``voice`` (offered first if the picker does not have it yet; None: no brand voice)."""
        if voice is not None and voice.name not in self.voices:
            self.voices[voice.name] = voice
            self.voice_combo.addItem(voice.name, voice.name)
        self.voice_combo.setCurrentIndex(max(0, self.voice_combo.findData(voice.name) if voice else 0))
