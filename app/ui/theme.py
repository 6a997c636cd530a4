"""Light and dark themes (Fusion style + one style sheet); "system" follows the desktop's colour scheme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")

_COLOURS = {
    "light": {
        "window": "#f5f6f8", "panel": "#ffffff", "sidebar": "#eef0f4", "text": "#1d1d1f", "muted": "#6b7280",
        "user": "#2f6fdf", "user_text": "#ffffff", "bot": "#ffffff", "border": "#dfe3ea", "accent": "#2f6fdf",
        "flash": "#fff3c4", "banner": "#fff4d6", "banner_text": "#6b4b00", "input": "#ffffff",
    },
    "dark": {
        "window": "#15171c", "panel": "#1d2027", "sidebar": "#111318", "text": "#e8eaef", "muted": "#9aa3b2",
        "user": "#3a78e6", "user_text": "#ffffff", "bot": "#262a33", "border": "#2e333d", "accent": "#5b95f5",
        "flash": "#4a4020", "banner": "#3b3220", "banner_text": "#f3d58a", "input": "#20242c",
    },
}


def resolve(theme: str) -> str:
    if theme in ("light", "dark"):
        return theme
    scheme = QGuiApplication.styleHints().colorScheme()
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def style_sheet(name: str) -> str:
    c = _COLOURS[name]
    return f"""
    QMainWindow, QWidget#central {{ background: {c['window']}; color: {c['text']}; }}
    QWidget#sidebar {{ background: {c['sidebar']}; border-right: 1px solid {c['border']}; }}
    QLabel#brand {{ font-size: 18px; font-weight: 700; color: {c['text']}; }}
    QLineEdit#search, QPlainTextEdit#compose, QPlainTextEdit#bubble_editor {{
        background: {c['input']}; color: {c['text']}; border: 1px solid {c['border']};
        border-radius: 10px; padding: 6px 8px; }}
    QListWidget {{ background: transparent; border: none; color: {c['text']}; outline: none; }}
    QListWidget::item {{ padding: 7px 8px; border-radius: 8px; margin: 1px 0; }}
    QListWidget::item:selected {{ background: {c['accent']}; color: white; }}
    QListWidget::item:hover:!selected {{ background: {c['border']}; }}
    QLabel#results_label {{ color: {c['muted']}; font-size: 12px; }}
    QScrollArea#chat, QWidget#chat_inner {{ background: {c['panel']}; border: none; }}
    QWidget#stage {{ background: {c['panel']}; border-radius: 16px; }}
    QLabel#chat_empty {{ color: {c['muted']}; font-size: 14px; padding: 30px; }}
    QFrame#bubble_user {{ background: {c['user']}; border-radius: 14px; }}
    QFrame#bubble_user QLabel {{ color: {c['user_text']}; }}
    QFrame#bubble_assistant {{ background: {c['bot']}; border: 1px solid {c['border']}; border-radius: 14px; }}
    QFrame[flash="true"] {{ background: {c['flash']}; }}
    QLabel#bubble_text {{ font-size: 14px; color: {c['text']}; }}
    QFrame#bubble_user QLabel#bubble_text {{ color: {c['user_text']}; }}
    QLabel#bubble_meta {{ color: {c['muted']}; font-size: 11px; }}
    QFrame#bubble_user QLabel#bubble_meta {{ color: #dbe6ff; }}
    QToolButton#bubble_action {{ color: {c['muted']}; font-size: 11px; border: none; padding: 1px 5px; }}
    QFrame#bubble_user QToolButton#bubble_action {{ color: #dbe6ff; }}
    QToolButton#bubble_action:hover {{ color: {c['accent']}; }}
    QLabel#banner {{ background: {c['banner']}; color: {c['banner_text']}; border-radius: 10px; padding: 8px 12px; }}
    QWidget#undo_bar {{ background: {c['banner']}; border-radius: 10px; }}
    QWidget#undo_bar QLabel {{ color: {c['banner_text']}; }}
    QLabel#state {{ font-weight: 600; padding: 2px 10px; border-radius: 10px; }}
    QPushButton {{ border: 1px solid {c['border']}; border-radius: 10px; padding: 6px 12px;
        background: {c['panel']}; color: {c['text']}; }}
    QPushButton:hover {{ border-color: {c['accent']}; }}
    QPushButton#talk {{ background: {c['accent']}; color: white; border: none; font-weight: 600; padding: 8px 16px; }}
    QPushButton#talk:pressed, QPushButton#talk[held="true"] {{ background: #d9434a; }}
    QPushButton#talk:disabled, QPushButton#hands_free:disabled {{ background: {c['border']}; color: {c['muted']}; }}
    QPushButton#hands_free:checked {{ background: #1f9d6b; color: white; border: none; }}
    QStatusBar {{ background: {c['sidebar']}; color: {c['muted']}; border-top: 1px solid {c['border']}; }}
    QStatusBar QLabel {{ color: {c['muted']}; }}
    QProgressBar {{ border: 1px solid {c['border']}; border-radius: 6px; height: 10px; text-align: center;
        background: {c['panel']}; color: {c['text']}; font-size: 10px; }}
    QProgressBar::chunk {{ background: {c['accent']}; border-radius: 5px; }}
    """


STATE_COLOURS = {
    "loading": "#9aa3b2",
    "idle": "#9aa3b2",
    "listening": "#1f9d6b",
    "transcribing": "#c78a00",
    "thinking": "#7a5af5",
    "speaking": "#2f6fdf",
}


def apply_theme(app: QApplication, theme: str) -> str:
    """Apply ``theme`` (system/light/dark) to the whole application; returns the one used."""
    name = resolve(theme)
    app.setStyle("Fusion")
    c = _COLOURS[name]
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor(c["window"]))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(c["text"]))
    palette.setColor(QPalette.ColorRole.Base, QColor(c["input"]))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor(c["panel"]))
    palette.setColor(QPalette.ColorRole.Text, QColor(c["text"]))
    palette.setColor(QPalette.ColorRole.Button, QColor(c["panel"]))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor(c["text"]))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(c["accent"]))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(c["muted"]))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor(c["panel"]))
    palette.setColor(QPalette.ColorRole.ToolTipText, QColor(c["text"]))
    app.setPalette(palette)
    app.setStyleSheet(style_sheet(name))
    return name
