"""Settings > Avatar: the default character or "Use my photo".

Choosing a photo finds the face once in a background thread (``engines.avatar.photo``), then shows
``preview.png`` (the photo with the detected mouth and jaw drawn) for the user to confirm. A photo that
cannot be used (no face, several, too small, not an image) shows the message and the ways out:
choose another photo, place the mouth corners and chin by clicking on the photo
(:class:`PointPicker` → ``FaceGeometry.from_points``), or keep the default character. The choice is
saved as ``[avatar]`` in config.toml when the dialog is accepted; the avatar widget then renders it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core.config import AvatarSettings
from app.ui.jobs import Job, thread_job

log = logging.getLogger(__name__)

POINT_NAMES = ("left mouth corner", "right mouth corner", "bottom of the chin")
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp)"
Points = tuple[tuple[float, float], tuple[float, float], tuple[float, float]]


def make_photo_avatar(photo: Path, avatars_root: Path, points: Points | None = None) -> dict[str, Any]:
    """Find the face (or use ``points``) and store the avatar; runs in a background thread.

    Returns ``{"ok": True, "folder", "preview", "method"}`` or, when the photo cannot be used,
    ``{"ok": False, "message", "hint", "kind"}`` (a PhotoError is an answer for the user, not a crash).
    """
    from engines.avatar.errors import NotAnImageError, PhotoError
    from engines.avatar.photo import avatar_folder_for, create_photo_avatar

    try:
        folder = avatar_folder_for(photo, avatars_root)
        if points is not None:
            folder = folder.with_name(folder.name + "-manual")
        record = create_photo_avatar(photo, folder, points=points, size=512)
    except PhotoError as err:
        return {"ok": False, "message": err.message, "hint": err.hint or "", "kind": type(err).__name__,
                "image": not isinstance(err, NotAnImageError)}
    return {"ok": True, "folder": record.folder, "preview": record.preview, "method": record.method}


class PointPicker(QWidget):
    """The photo, scaled to fit; three clicks place the left and right mouth corners and the chin."""

    sig_changed = Signal(int)
    """How many of the three points are placed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("point_picker")
        self.image = QImage()
        self.points: list[tuple[float, float]] = []
        self.setMinimumSize(260, 260)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)

    def set_image(self, path: Path) -> bool:
        self.image = QImage(str(path))
        self.points = []
        self.update()
        self.sig_changed.emit(0)
        return not self.image.isNull()

    def _frame(self) -> tuple[float, float, float]:
        """(scale, x offset, y offset) of the photo in the widget."""
        if self.image.isNull():
            return 1.0, 0.0, 0.0
        s = min(self.width() / self.image.width(), self.height() / self.image.height())
        return s, (self.width() - self.image.width() * s) / 2, (self.height() - self.image.height() * s) / 2

    def to_photo(self, x: float, y: float) -> tuple[float, float]:
        s, ox, oy = self._frame()
        return (x - ox) / s, (y - oy) / s

    def to_widget(self, px: float, py: float) -> QPointF:
        s, ox, oy = self._frame()
        return QPointF(ox + px * s, oy + py * s)

    def place(self, px: float, py: float) -> None:
        """Place the next point at photo pixel (px, py) (a click does this)."""
        if self.image.isNull():
            return
        if len(self.points) == 3:
            self.points = []
        px = min(max(px, 0.0), self.image.width() - 1.0)
        py = min(max(py, 0.0), self.image.height() - 1.0)
        self.points.append((px, py))
        self.update()
        self.sig_changed.emit(len(self.points))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        self.place(*self.to_photo(pos.x(), pos.y()))

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.image.isNull():
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no photo")
            p.end()
            return
        s, ox, oy = self._frame()
        p.drawImage(QRectF(ox, oy, self.image.width() * s, self.image.height() * s), self.image)
        colours = (QColor("#ff4d4d"), QColor("#ff4d4d"), QColor("#e056fd"))
        for i, (px, py) in enumerate(self.points):
            c = self.to_widget(px, py)
            p.setPen(QPen(QColor("white"), 2))
            p.setBrush(colours[i])
            p.drawEllipse(c, 6, 6)
            p.drawText(c + QPointF(9, -6), ("L", "R", "chin")[i])
        p.end()


class AvatarPage(QWidget):
    """The Avatar page of the settings dialog."""

    sig_state = Signal(str)
    """'detecting' | 'preview' | 'problem' | 'manual' | 'default' — for tests and the dialog."""

    def __init__(self, settings: AvatarSettings, avatars_root: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.avatars_root = Path(avatars_root)
        self.photo_folder: str | None = settings.photo_folder
        self.photo: Path | None = None
        self.job: Job | None = None
        self.state = "default"
        self.use_default = QRadioButton("Default character")
        self.use_photo = QRadioButton("My photo")
        self.use_photo.setEnabled(bool(settings.photo_folder))
        photo_on = settings.renderer == "photo" and bool(settings.photo_folder)
        (self.use_photo if photo_on else self.use_default).setChecked(True)
        self.choose = QPushButton("Use my photo…")
        self.message = QLabel("Pick a portrait: Visage finds the face once and animates its mouth.")
        self.message.setObjectName("avatar_message")
        self.message.setWordWrap(True)
        self.preview = QLabel()
        self.preview.setObjectName("avatar_preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(260, 260)
        self.picker = PointPicker()
        self.picker.hide()
        self.another = QPushButton("Choose another photo")
        self.by_hand = QPushButton("Place mouth and chin by hand")
        self.keep_default = QPushButton("Keep the default")
        self.use_points = QPushButton("Use these points")
        self.use_points.setEnabled(False)
        self.ways_out = QWidget()
        row = QHBoxLayout(self.ways_out)
        row.setContentsMargins(0, 0, 0, 0)
        for b in (self.another, self.by_hand, self.keep_default, self.use_points):
            row.addWidget(b)
        self.ways_out.hide()
        self.use_points.hide()
        choice = QHBoxLayout()
        choice.addWidget(self.use_default)
        choice.addWidget(self.use_photo)
        choice.addStretch(1)
        choice.addWidget(self.choose)
        col = QVBoxLayout(self)
        col.addLayout(choice)
        col.addWidget(self.message)
        col.addWidget(self.preview, 1)
        col.addWidget(self.picker, 1)
        col.addWidget(self.ways_out)
        self.choose.clicked.connect(self.ask_photo)
        self.another.clicked.connect(self.ask_photo)
        self.by_hand.clicked.connect(self.start_manual)
        self.keep_default.clicked.connect(self.keep_the_default)
        self.use_points.clicked.connect(self.submit_points)
        self.picker.sig_changed.connect(self._points_changed)
        if settings.photo_folder:
            self._show_preview(Path(settings.photo_folder) / "preview.png")

    # ---- choosing ----
    def ask_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a portrait", "", IMAGE_FILTER)
        if path:
            self.choose_photo(Path(path))

    def choose_photo(self, photo: Path, points: Points | None = None) -> Job:
        """Find the face in ``photo`` (or use ``points``) in the background."""
        self.photo = Path(photo)
        self._set_state("detecting")
        self.message.setText("Finding the face…" if points is None else "Placing the mouth…")
        self.message.setStyleSheet("")
        for w in (self.choose, self.ways_out, self.use_points):
            w.setEnabled(False)
        self.job = thread_job("Finding the face", make_photo_avatar, self.photo, self.avatars_root, points,
                              on_done=self._found, on_failed=self._failed)
        return self.job

    def _found(self, result: dict[str, Any]) -> None:
        for w in (self.choose, self.ways_out):
            w.setEnabled(True)
        if not result["ok"]:
            self._problem(result["message"], result["hint"], can_place=result["image"])
            return
        self.photo_folder = str(result["folder"])
        self.use_photo.setEnabled(True)
        self.use_photo.setChecked(True)
        self.picker.hide()
        self.ways_out.hide()
        how = "the mouth you placed" if result["method"] == "manual" else "the detected mouth (green) and jaw"
        self.message.setText(f"This is your avatar, with {how}. Press OK to use it.")
        self.message.setStyleSheet("color: #1e8449;")
        self._show_preview(Path(result["preview"]))
        self._set_state("preview")

    def _failed(self, message: str) -> None:
        for w in (self.choose, self.ways_out):
            w.setEnabled(True)
        self._problem(message, "", can_place=False)

    def _problem(self, message: str, hint: str, *, can_place: bool) -> None:
        self.message.setText(
            f"{message}\nWays out: choose another photo, place the mouth corners and chin by hand, "
            "or keep the default character.")
        self.message.setToolTip(hint)
        self.message.setStyleSheet("color: #c0392b;")
        self.preview.clear()
        self.preview.show()
        self.picker.hide()
        self.by_hand.setEnabled(can_place)
        self.ways_out.show()
        self.use_points.hide()
        self._set_state("problem")

    def start_manual(self) -> None:
        """Show the photo for three clicks: left mouth corner, right mouth corner, chin."""
        if self.photo is None or not self.picker.set_image(self.photo):
            self._problem("That file cannot be shown as a photo.", "", can_place=False)
            return
        self.preview.hide()
        self.picker.show()
        self.use_points.show()
        self.use_points.setEnabled(False)
        self.message.setText(f"Click the {POINT_NAMES[0]}, then the {POINT_NAMES[1]}, then the {POINT_NAMES[2]}.")
        self.message.setStyleSheet("")
        self._set_state("manual")

    def _points_changed(self, n: int) -> None:
        self.use_points.setEnabled(n == 3)
        if n < 3:
            self.message.setText(f"Click the {POINT_NAMES[n]}.")
        else:
            self.message.setText("Press “Use these points” (or click again to start over).")

    def submit_points(self) -> Job | None:
        if self.photo is None or len(self.picker.points) != 3:
            return None
        p = self.picker.points
        return self.choose_photo(self.photo, points=(p[0], p[1], p[2]))

    def keep_the_default(self) -> None:
        self.use_default.setChecked(True)
        self.picker.hide()
        self.ways_out.hide()
        self.preview.show()
        self.message.setText("Keeping the default character.")
        self.message.setStyleSheet("")
        self._set_state("default")

    def _show_preview(self, path: Path) -> None:
        pixmap = QPixmap(str(path))
        if not pixmap.isNull():
            self.preview.setPixmap(pixmap.scaled(300, 300, Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))
            self.preview.show()

    def _set_state(self, state: str) -> None:
        self.state = state
        self.sig_state.emit(state)

    # ---- values for the dialog ----
    def values(self) -> dict[str, Any]:
        photo = self.use_photo.isChecked() and self.photo_folder is not None
        return {"renderer": "photo" if photo else "character", "photo_folder": self.photo_folder}
