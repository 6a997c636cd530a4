"""The usage dashboard: turns per day, latency percentiles per stage, drafts per type, time saved.

Numbers come from :class:`app.sync.LocalAnalytics` (computed from the local database only, never sent),
read in a background thread with its own read-only SQLite connection; charts are drawn with QPainter
(no QtCharts dependency). "Time saved" is an estimate and labelled as one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.ui.jobs import Job, thread_job

log = logging.getLogger(__name__)

SERIES_COLOURS = ("#4f7cff", "#f39c12", "#27ae60")
STAGE_NAMES = {
    "transcript_s": "transcript", "first_token_s": "first token", "first_audio_s": "first audio",
    "asr_s": "speech recognition", "llm_first_token_s": "LLM first token", "total_s": "whole turn",
}


class BarChart(QWidget):
    """Vertical bars, one group per label, one bar per series; values written above the bars."""

    def __init__(self, title: str, series: Sequence[str] = ("",), unit: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.series = list(series)
        self.unit = unit
        self.data: list[tuple[str, list[float]]] = []
        self.setMinimumHeight(190)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_data(self, data: Sequence[tuple[str, Sequence[float]]]) -> None:
        self.data = [(label, [float(v) for v in values]) for label, values in data]
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        text_colour = self.palette().color(self.foregroundRole())
        w, h = self.width(), self.height()
        p.setPen(text_colour)
        p.drawText(QRectF(0, 0, w, 20), Qt.AlignmentFlag.AlignLeft, self.title)
        legend_x = w
        if len(self.series) > 1:
            for i, name in reversed(list(enumerate(self.series))):
                legend_x -= 10 + p.fontMetrics().horizontalAdvance(name) + 14
                p.fillRect(QRectF(legend_x, 5, 10, 10), QColor(SERIES_COLOURS[i % len(SERIES_COLOURS)]))
                p.drawText(QRectF(legend_x + 14, 0, 200, 20), Qt.AlignmentFlag.AlignLeft, name)
        top, bottom, left = 34.0, h - 34.0, 8.0
        if not self.data or bottom - top < 20:
            p.drawText(QRectF(0, top, w, bottom - top), Qt.AlignmentFlag.AlignCenter, "no data yet")
            p.end()
            return
        peak = max((v for _, values in self.data for v in values), default=0.0) or 1.0
        group_w = (w - 2 * left) / len(self.data)
        bar_w = max(2.0, min(40.0, group_w * 0.8 / max(1, len(self.series))))
        grid = QPen(QColor(127, 127, 127, 90))
        p.setPen(grid)
        p.drawLine(int(left), int(bottom), int(w - left), int(bottom))
        step = max(1, len(self.data) // 10)  # at most ~10 labels under the axis
        for gi, (label, values) in enumerate(self.data):
            x0 = left + gi * group_w + (group_w - bar_w * len(values)) / 2
            for si, value in enumerate(values):
                bh = (bottom - top) * value / peak
                rect = QRectF(x0 + si * bar_w, bottom - bh, bar_w - 1, bh)
                p.fillRect(rect, QColor(SERIES_COLOURS[si % len(SERIES_COLOURS)]))
                if value and (len(self.data) <= 12 or value == peak):
                    p.setPen(text_colour)
                    text = f"{value:g}{self.unit}" if value < 1000 else f"{value:,.0f}{self.unit}"
                    p.drawText(QRectF(rect.center().x() - 40, rect.top() - 16, 80, 14),
                               Qt.AlignmentFlag.AlignHCenter, text)
            if gi % step == 0:
                p.setPen(text_colour)
                p.drawText(QRectF(left + gi * group_w - 20, bottom + 4, group_w + 40, 28),
                           Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap, label)
        p.end()


def _tile(title: str) -> tuple[QFrame, QLabel]:
    frame = QFrame()
    frame.setFrameShape(QFrame.Shape.StyledPanel)
    col = QVBoxLayout(frame)
    head = QLabel(title)
    head.setStyleSheet("color: #7f8c8d;")
    value = QLabel("–")
    value.setStyleSheet("font-size: 20px; font-weight: 600;")
    value.setWordWrap(True)
    col.addWidget(head)
    col.addWidget(value)
    return frame, value


class DashboardPanel(QWidget):
    """Local usage numbers. ``db_path`` returns the database file (None while the store is not open)."""

    def __init__(self, db_path: Callable[[], Path | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self.summary: dict[str, Any] | None = None
        self.job: Job | None = None
        self.days = QSpinBox()
        self.days.setRange(1, 365)
        self.days.setValue(30)
        self.days.setSuffix(" days")
        self.refresh_button = QPushButton("Refresh")
        self.status = QLabel("Computed on this computer from your history; never sent anywhere.")
        self.status.setObjectName("dashboard_status")
        self.status.setWordWrap(True)
        t1, self.turns_total = _tile("Replies")
        t2, self.first_audio = _tile("Median time to first audio")
        t3, self.drafts_total = _tile("Copy drafts")
        t4, self.time_saved = _tile("Time saved (estimate)")
        self.time_saved.setToolTip("An estimate, not a measurement: drafts kept × minutes to write one by hand.")
        self.turns_chart = BarChart("Replies per day")
        self.latency_chart = BarChart("Latency per stage (ms)", series=("p50", "p95"))
        self.drafts_chart = BarChart("Drafts per content type")

        top = QHBoxLayout()
        top.addWidget(QLabel("Last"))
        top.addWidget(self.days)
        top.addWidget(self.refresh_button)
        top.addWidget(self.status, 1)
        tiles = QHBoxLayout()
        for tile in (t1, t2, t3, t4):
            tiles.addWidget(tile, 1)
        grid = QGridLayout()
        grid.addWidget(self.turns_chart, 0, 0, 1, 2)
        grid.addWidget(self.latency_chart, 1, 0)
        grid.addWidget(self.drafts_chart, 1, 1)
        col = QVBoxLayout(self)
        col.addLayout(top)
        col.addLayout(tiles)
        col.addLayout(grid, 1)
        self.refresh_button.clicked.connect(self.refresh)
        self.days.valueChanged.connect(lambda _v: self.refresh())

    def refresh(self) -> Job | None:
        """Read the numbers again in a background thread."""
        path = self.db_path()
        if path is None:
            self.status.setText("The history is still opening; refresh in a moment.")
            return None
        if self.job is not None and not self.job.finished:
            return self.job
        from app.sync import LocalAnalytics

        self.status.setText("Reading…")
        self.job = thread_job("Reading usage numbers", LocalAnalytics(path).summary, self.days.value(),
                              on_done=self.show_summary, on_failed=self._failed)
        return self.job

    def _failed(self, message: str) -> None:
        self.status.setText(message)
        self.status.setStyleSheet("color: #c0392b;")

    def show_summary(self, summary: dict[str, Any]) -> None:
        self.summary = summary
        self.status.setStyleSheet("")
        self.status.setText("Computed on this computer from your history; never sent anywhere.")
        turns = summary["turns_per_day"]
        self.turns_total.setText(f"{sum(t['turns'] for t in turns)} in {summary['days']} days")
        self.turns_chart.set_data([(t["day"][5:], [t["turns"]]) for t in turns])
        stages = summary["stage_latency_ms"]
        audio = next((s for s in stages if s["stage"] == "first_audio_s"), None)
        self.first_audio.setText(f"{audio['p50_ms']:.0f} ms (p95 {audio['p95_ms']:.0f} ms)" if audio else "–")
        self.latency_chart.set_data([(STAGE_NAMES.get(s["stage"], s["stage"]), [s["p50_ms"], s["p95_ms"]])
                                     for s in stages])
        drafts = summary["drafts_per_type"]
        self.drafts_total.setText(str(sum(drafts.values())))
        self.drafts_chart.set_data([(name, [count]) for name, count in drafts.items()])
        minutes = summary["time_saved_minutes"]
        hours = f"≈ {minutes / 60:.1f} h" if minutes >= 60 else f"≈ {minutes:.0f} min"
        self.time_saved.setText(f"{hours}\n(estimate: {summary['time_saved_assumption']})")

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.refresh()
