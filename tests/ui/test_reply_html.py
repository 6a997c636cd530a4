"""A reply cannot load a local file into the window: Markdown is rendered without HTML (Qt's MarkdownNoHTML)
and without images, so ``<img src="file:///…">`` shows as the text the model wrote (offscreen, pytest-qt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from app.ui.chat import MessageBubble

RED = QColor(255, 0, 0)


@pytest.fixture
def red_png(tmp_path: Path) -> Path:
    """A local image that would be unmistakable on screen: 120 x 120 pure red."""
    image = QImage(120, 120, QImage.Format.Format_RGB32)
    image.fill(RED)
    path = tmp_path / "secret.png"
    assert image.save(str(path))
    return path


def red_pixels(bubble: MessageBubble) -> int:
    shot = bubble.grab().toImage()
    return sum(shot.pixelColor(x, y) == RED for x in range(0, shot.width(), 2) for y in range(0, shot.height(), 2))


def show(qtbot, bubble: MessageBubble) -> MessageBubble:  # type: ignore[no-untyped-def]
    qtbot.addWidget(bubble)
    bubble.resize(520, 400)
    bubble.show()
    qtbot.waitExposed(bubble)
    return bubble


@pytest.mark.parametrize("markup", ['<img src="{uri}">', '<p><img src="{uri}" width="120"></p>', "![pic]({uri})"])
def test_an_image_in_a_reply_is_not_loaded(qtbot, red_png: Path, markup: str) -> None:  # type: ignore[no-untyped-def]
    reply = f"Here it is: {markup.format(uri=red_png.as_uri())} **done**."
    bubble = show(qtbot, MessageBubble("assistant", reply))
    assert red_pixels(bubble) == 0
    html = bubble.label.text()
    assert "<img" not in html and red_png.as_uri() in html  # what the model wrote is shown, as text
    assert "font-weight:700" in html  # the Markdown itself still renders


def test_a_streamed_reply_is_rendered_the_same_way(qtbot, red_png: Path) -> None:  # type: ignore[no-untyped-def]
    bubble = show(qtbot, MessageBubble("assistant"))
    for piece in ["Look ", f'<img src="{red_png.as_uri()}"', "> here"]:
        bubble.append(piece)
    qtbot.waitUntil(lambda: "here" in bubble.label.text(), timeout=5_000)
    assert red_pixels(bubble) == 0 and "&lt;img" in bubble.label.text()
    bubble.finish(bubble.text, False, None)
    assert red_pixels(bubble) == 0 and "&lt;img" in bubble.label.text()
