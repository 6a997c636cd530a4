"""Settings > Avatar: "Use my photo" on the shipped portrait, and on a photo without a face (message,
ways out, mouth corners and chin placed by clicking); the avatar widget then renders the photo."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import Qt

from app.core.config import AvatarSettings
from app.ui.avatar_widget import AvatarWidget
from app.ui.photo_avatar import AvatarPage
from engines.avatar.photo import read_face_json
from engines.avatar.visemes import SHAPE_PARAMS

ASTRONAUT = Path(__file__).resolve().parents[2] / "assets" / "avatars" / "astronaut" / "astronaut.png"


def test_use_my_photo_shows_the_detected_mouth_and_the_widget_renders_it(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = AvatarPage(AvatarSettings(), tmp_path / "avatars")
    qtbot.addWidget(page)
    assert page.values() == {"renderer": "character", "photo_folder": None}
    with qtbot.waitSignal(page.sig_state, timeout=30_000, check_params_cb=lambda s: s != "detecting"):
        page.choose_photo(ASTRONAUT)
    assert page.state == "preview", page.message.text()
    assert page.preview.pixmap() is not None and not page.preview.pixmap().isNull()
    assert "detected mouth" in page.message.text()
    values = page.values()
    assert values["renderer"] == "photo"
    folder = Path(values["photo_folder"])
    assert (folder / "preview.png").is_file() and read_face_json(folder)["method"] == "landmarks"

    widget = AvatarWidget(lambda: 0.0, size=256)
    qtbot.addWidget(widget)
    assert widget.use_avatar(AvatarSettings(**values)) is not None
    qtbot.waitUntil(lambda: widget.kind == "photo", timeout=10_000)
    widget.tick()
    closed = widget._frame.copy()  # type: ignore[union-attr]
    widget.current_mouth = lambda: SHAPE_PARAMS["D"]  # type: ignore[method-assign]
    widget.tick()
    assert widget._frame.shape == (256, 256, 3) and np.abs(widget._frame.astype(int) - closed).sum() > 0  # type: ignore[union-attr]
    widget.timer.stop()


def test_a_photo_without_a_face_offers_the_ways_out_and_manual_points(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wall = np.tile(np.linspace(90, 200, 240, dtype=np.uint8)[:, None, None], (1, 200, 3))  # a plain wall
    photo = tmp_path / "wall.png"
    assert cv2.imwrite(str(photo), wall)
    page = AvatarPage(AvatarSettings(), tmp_path / "avatars")
    qtbot.addWidget(page)
    page.show()
    with qtbot.waitSignal(page.sig_state, timeout=30_000, check_params_cb=lambda s: s != "detecting"):
        page.choose_photo(photo)
    assert page.state == "problem"
    text = page.message.text()
    assert "No face was found" in text and "choose another photo" in text and "by hand" in text
    assert "keep the default" in text and page.ways_out.isVisible() and page.by_hand.isEnabled()

    # place the mouth corners and chin by clicking on the photo
    qtbot.mouseClick(page.by_hand, Qt.MouseButton.LeftButton)
    assert page.state == "manual" and page.picker.isVisible() and not page.use_points.isEnabled()
    for px, py in ((70.0, 150.0), (130.0, 150.0), (100.0, 215.0)):
        at = page.picker.to_widget(px, py).toPoint()
        qtbot.mouseClick(page.picker, Qt.MouseButton.LeftButton, pos=at)
    assert len(page.picker.points) == 3 and page.use_points.isEnabled()
    for (px, py), want in zip(page.picker.points, ((70, 150), (130, 150), (100, 215)), strict=True):
        assert abs(px - want[0]) < 2 and abs(py - want[1]) < 2
    with qtbot.waitSignal(page.sig_state, timeout=30_000, check_params_cb=lambda s: s != "detecting"):
        qtbot.mouseClick(page.use_points, Qt.MouseButton.LeftButton)
    assert page.state == "preview", page.message.text()
    folder = Path(page.values()["photo_folder"])
    assert read_face_json(folder)["method"] == "manual" and "the mouth you placed" in page.message.text()

    # "keep the default" goes back to the character
    page.keep_the_default()
    assert page.values()["renderer"] == "character"


def test_not_an_image(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    page = AvatarPage(AvatarSettings(), tmp_path / "avatars")
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.sig_state, timeout=30_000, check_params_cb=lambda s: s != "detecting"):
        page.choose_photo(bad)
    assert page.state == "problem" and not page.by_hand.isEnabled()
