"""The studio's clip bar: "Render clip…" on a card makes an MP4 of the user's avatar saying the variant's
spoken form (:func:`app.studio.spoken.spoken_text`), through the same code as ``visage render --text``
(:mod:`app.avatar_clip`), in a background job with progress and Cancel; then "Open folder"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.jobs import Job, worker_job
from app.ui.studio.analysis_view import FAIL_COLOUR, NOTICE_STYLE
from app.ui.studio.variant_card import VariantCard

CLIP_FILTER = "MP4 video (*.mp4);;QuickTime movie (*.mov);;Matroska video (*.mkv)"
CLIP_SIZE = 512


class ClipBar(QFrame):
    """A clip being rendered (or the last one). ``bridge`` is the window's CoreBridge (its settings and data
    folder); the rendering runs in a worker thread with its own voice and avatar, never on the Qt thread."""

    def __init__(self, bridge: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.job: Job | None = None
        self._index = 0
        self.last_clip: Any = None
        """The ClipInfo of the last clip rendered."""
        self.setObjectName("clip_bar")
        self.setStyleSheet("#clip_bar { border: 1px solid #9aa3b2; border-radius: 6px; }")
        clip_col = QVBoxLayout(self)
        clip_col.setContentsMargins(8, 6, 8, 6)
        clip_row = QHBoxLayout()
        self.label = QLabel()
        self.label.setObjectName("clip_status")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(160)
        self.cancel_button = QPushButton("Cancel")
        self.open_button = QPushButton("Open folder")
        self.open_button.setToolTip("Show the clip in the file manager")
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Hide")
        clip_row.addWidget(self.label, 1)
        clip_row.addWidget(self.progress)
        clip_row.addWidget(self.cancel_button)
        clip_row.addWidget(self.open_button)
        clip_row.addWidget(self.close_button)
        clip_col.addLayout(clip_row)
        self.notice = QLabel()
        self.notice.setObjectName("clip_notice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(NOTICE_STYLE)
        self.notice.hide()
        clip_col.addWidget(self.notice)
        self.hide()
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button.clicked.connect(self.open_folder)
        self.close_button.clicked.connect(self.hide)

    def default_path(self, card: VariantCard) -> Path:
        """Where "Render clip…" proposes to save: the user's Videos folder, else ``<data>/clips``."""
        videos = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
        folder = Path(videos) if videos and Path(videos).is_dir() else Path(self.bridge.data_dir) / "clips"
        stem = card.brief.product if card.brief.product else "clip"
        slug = "-".join("".join(c if c.isalnum() else " " for c in stem.lower()).split())[:40] or "clip"
        return folder / f"{slug}-{card.brief.type}-{card.index}.mp4"

    def ask_render(self, card: VariantCard) -> None:
        if self.job is not None and not self.job.finished:
            self.show_text("A clip is already being rendered: wait for it, or press Cancel first.", error=True)
            return
        default = self.default_path(card)
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

        if self.job is not None and not self.job.finished:
            self.show_text("A clip is already being rendered: wait for it, or press Cancel first.", error=True)
            return None
        if card.dirty:
            card.reanalyse()
        text = spoken_text(card.fields(), card.brief.type)
        if not text.strip():
            self.show_text(f"Variant {card.index} has nothing to say: write some text in it first.", error=True)
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

        self.notice.hide()
        self._index = card.index
        self.show_text(f"Rendering variant {card.index} as a clip… Loading the avatar…", busy=True)
        self.job = worker_job("Rendering a clip", work, on_done=self._done, on_failed=self._failed,
                                   on_progress=self._progress, on_cancelled=self._cancelled)
        return self.job

    def cancel(self) -> None:
        if self.job is not None and not self.job.finished:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText("Cancelling the clip…")

    def show_text(self, text: str, *, busy: bool = False, error: bool = False, done: bool = False) -> None:
        self.show()
        self.label.setText(text)
        self.label.setStyleSheet(f"color: {FAIL_COLOUR};" if error else "")
        self.progress.setVisible(busy)
        if busy:
            self.progress.setValue(0)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.open_button.setVisible(done)
        self.close_button.setVisible(not busy)

    def _progress(self, item: tuple[Any, ...]) -> None:
        if item[0] == "notice":
            self.notice.setText(item[1])
            self.notice.show()
            return
        _kind, fraction, what = item
        self.progress.setValue(round(1000 * fraction))
        self.label.setText(f"Rendering variant {self._index} as a clip… {what}")

    def _done(self, result: tuple[Any, list[str], str]) -> None:
        info, notices, what = result
        self.last_clip = info
        self.show_text(f"Clip saved: {info.path} ({info.duration_s:.1f} s, {info.size[0]}×{info.size[1]}, "
                        f"{what}).", done=True)
        if notices:
            self.notice.setText("\n".join(notices))
            self.notice.show()

    def _failed(self, message: str) -> None:
        self.show_text(f"The clip was not made. {message}", error=True)

    def _cancelled(self) -> None:
        self.show_text("Clip cancelled; no file was written.")

    def open_folder(self) -> bool:
        """Show the last clip's folder in the file manager; says so when the desktop cannot."""
        if self.last_clip is None:
            return False
        folder = Path(self.last_clip.path).parent
        if QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            return True
        self.show_text(f"Could not open a file manager here. The clip is at {self.last_clip.path}.", error=True,
                        done=True)
        return False
