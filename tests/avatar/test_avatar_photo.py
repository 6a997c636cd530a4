"""Photo avatar (tier 1) on a real public-domain portrait: face found once, cached, mouth warped per frame."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from engines.avatar import face as face_mod
from engines.avatar.errors import (
    AvatarConfigError,
    FaceTooSmallError,
    NoFaceError,
    NotAnImageError,
    PhotoError,
    SeveralFacesError,
)
from engines.avatar.face import MIN_FACE_PX, FaceLandmarker, read_image
from engines.avatar.photo import (
    FACE_JSON,
    PhotoAvatar,
    PhotoAvatarRecord,
    create_photo_avatar,
    ensure_photo_avatar,
    load_photo_avatar,
)
from engines.avatar.visemes import SHAPE_PARAMS, MouthParams
from engines.models import face_model_path

ASTRONAUT = Path(__file__).resolve().parents[2] / "assets" / "avatars" / "astronaut" / "astronaut.png"
#: measured by hand on the photo (512×512): middle of the lips and their width, in photo pixels
MOUTH_CENTRE = (223.0, 145.0)
OPEN = SHAPE_PARAMS["D"]
REST = SHAPE_PARAMS["X"]


@pytest.fixture(scope="module")
def marker() -> FaceLandmarker:
    if not face_model_path().is_file():
        pytest.fail("the face models are missing: run `visage setup-models` (scripts/setup.sh)")
    return FaceLandmarker()


@pytest.fixture(scope="module")
def record(marker: FaceLandmarker, tmp_path_factory: pytest.TempPathFactory) -> PhotoAvatarRecord:
    return create_photo_avatar(ASTRONAUT, tmp_path_factory.mktemp("avatars") / "astronaut", marker=marker)


@pytest.fixture(scope="module")
def avatar(record: PhotoAvatarRecord) -> PhotoAvatar:
    return load_photo_avatar(record.folder)


def _write(path: Path, img: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), img)
    return path


# ------------------------------------------------------------------------------------ detection


def test_the_face_is_found_with_a_sane_mouth(record: PhotoAvatarRecord) -> None:
    g = record.geometry
    assert record.method == "landmarks" and g.score > 0.9
    cx, cy = g.mouth_center
    assert abs(cx - MOUTH_CENTRE[0]) < 8 and abs(cy - MOUTH_CENTRE[1]) < 8, (cx, cy)
    assert 35 < g.mouth_width < 60
    left, right = g.corners
    assert left[0] < cx < right[0]
    x, y, w, h = g.mouth_box()
    fx, fy, fw, fh = g.face_box()
    assert fx < x and x + w < fx + fw and fy < y and y + h < fy + fh, "mouth inside the face"
    assert g.chin[1] > y + h + 10, "chin below the lips"
    assert np.all(g.upper_outer[:, 1] <= g.lower_outer[:, 1] + 0.5), "upper lip above lower lip"
    assert MIN_FACE_PX < g.face_width < 130


def test_face_json_and_preview_are_stored_with_a_copy_of_the_photo(record: PhotoAvatarRecord) -> None:
    data = json.loads(record.face_json.read_text(encoding="utf-8"))
    assert data["method"] == "landmarks" and len(data["landmarks"]) == 468
    assert record.photo.read_bytes() == ASTRONAUT.read_bytes()
    preview = cv2.imread(str(record.preview))
    plain = load_photo_avatar(record.folder, idle=False).render(REST, 0.0)
    assert preview.shape == plain.shape
    changed = np.any(preview != plain, axis=2)
    ys, xs = np.nonzero(changed)
    assert changed.sum() > 300, "lips and jaw are drawn"
    # the drawing is on the face, not spread over the photo
    assert 150 < xs.mean() < 360 and 150 < ys.mean() < 400


def test_reloading_uses_the_cache_without_detecting(record: PhotoAvatarRecord, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("detection ran again")

    monkeypatch.setattr(face_mod, "detect_face", boom)
    monkeypatch.setattr(FaceLandmarker, "run", boom)
    monkeypatch.setattr(FaceLandmarker, "__init__", boom)
    again = load_photo_avatar(record.folder, idle=False)
    fresh = PhotoAvatar(read_image(ASTRONAUT), record.geometry, idle=False)
    assert np.array_equal(again.geometry.jaw, fresh.geometry.jaw)
    assert np.array_equal(again.render(OPEN, 0.5), fresh.render(OPEN, 0.5))


def test_ensure_reuses_the_cached_avatar(tmp_path: Path, record: PhotoAvatarRecord,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    photo = shutil.copy(ASTRONAUT, tmp_path / "me.png")
    first, made = ensure_photo_avatar(Path(photo), tmp_path / "avatars")
    assert made is not None and (made.folder / FACE_JSON).is_file()
    monkeypatch.setattr(face_mod, "detect_face", lambda *a, **k: pytest.fail("detection ran again"))
    second, again = ensure_photo_avatar(Path(photo), tmp_path / "avatars")
    assert again is None
    assert np.array_equal(first.render(OPEN, 1.0), second.render(OPEN, 1.0))


def test_a_changed_photo_is_not_used_with_a_stale_face(tmp_path: Path, record: PhotoAvatarRecord) -> None:
    folder = shutil.copytree(record.folder, tmp_path / "copy")
    img = read_image(folder / "photo.png")
    _write(folder / "photo.png", cv2.flip(img, 1))
    with pytest.raises(AvatarConfigError, match="changed"):
        load_photo_avatar(folder)


def test_a_folder_without_face_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AvatarConfigError, match=r"not a photo avatar") as caught:
        load_photo_avatar(tmp_path)
    assert "default avatar" in (caught.value.hint or "")


# ------------------------------------------------------------------------------------ rendering


def test_open_and_closed_differ_only_in_the_mouth_region(avatar: PhotoAvatar) -> None:
    t = 1.37
    closed = avatar.render(REST, t)
    opened = avatar.render(OPEN, t)
    assert closed.shape == (512, 512, 3) and closed.dtype == np.uint8
    x, y, w, h = avatar.mouth_region()
    inside = np.zeros(closed.shape[:2], bool)
    inside[y : y + h, x : x + w] = True
    diff = np.any(closed != opened, axis=2)
    assert diff[inside].sum() > 500, "the mouth opened"
    assert not diff[~inside].any(), "nothing outside the mouth/jaw region changed"
    assert w * h < 0.25 * 512 * 512


def test_open_mouth_is_dark_inside(avatar: PhotoAvatar, record: PhotoAvatarRecord) -> None:
    still = load_photo_avatar(record.folder, idle=False)
    g = still.geometry
    cx, cy = (int(v) for v in g.mouth_center)
    r = max(2, int(g.mouth_width * 0.1))

    def centre_luma(img: np.ndarray) -> float:
        return float(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)[cy - r : cy + r, cx - r : cx + r].mean())

    # this photo smiles with its teeth showing: bright at rest, a dark mouth cavity when open
    assert centre_luma(still.render(REST, 0.0)) > 120
    assert centre_luma(still.render(OPEN, 0.0)) < 90


def test_rest_pose_without_idle_is_the_photo_itself(record: PhotoAvatarRecord) -> None:
    still = load_photo_avatar(record.folder, idle=False)
    a = still.render(REST, 0.0)
    b = still.render(MouthParams(open=0.0, width=0.5, round=0.0, teeth=1.0, press=1.0), 3.0)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, still.render(SHAPE_PARAMS["F"], 0.0)), "rounded lips change the mouth"


def test_frames_are_deterministic_and_idle_moves(avatar: PhotoAvatar) -> None:
    assert np.array_equal(avatar.render(OPEN, 2.0), avatar.render(OPEN, 2.0))
    assert not np.array_equal(avatar.render(REST, 0.0), avatar.render(REST, 2.1)), "breathing drift"


# ------------------------------------------------------------------------------------ bad photos


def test_no_face(tmp_path: Path, marker: FaceLandmarker) -> None:
    img = np.full((480, 640, 3), 200, np.uint8)
    cv2.circle(img, (320, 240), 90, (40, 120, 200), -1)
    with pytest.raises(NoFaceError) as caught:
        create_photo_avatar(_write(tmp_path / "plain.png", img), tmp_path / "a", marker=marker)
    hint = caught.value.hint or ""
    assert "another photo" in hint and "by hand" in hint and "default avatar" in hint
    assert not (tmp_path / "a").exists()


def test_several_faces(tmp_path: Path, marker: FaceLandmarker) -> None:
    img = read_image(ASTRONAUT)
    two = np.hstack([img, cv2.flip(img, 1)])
    with pytest.raises(SeveralFacesError) as caught:
        create_photo_avatar(_write(tmp_path / "two.png", two), tmp_path / "a", marker=marker)
    assert len(caught.value.boxes) == 2
    assert caught.value.boxes[0][0] < 512 <= caught.value.boxes[1][0] or caught.value.boxes[1][0] < 512
    assert "2 faces" in caught.value.message


def test_too_small_a_face(tmp_path: Path, marker: FaceLandmarker) -> None:
    canvas = np.full((600, 600, 3), 128, np.uint8)
    canvas[50:350, 50:350] = cv2.resize(read_image(ASTRONAUT), (300, 300), interpolation=cv2.INTER_AREA)
    with pytest.raises(FaceTooSmallError) as caught:
        create_photo_avatar(_write(tmp_path / "tiny.png", canvas), tmp_path / "a", marker=marker)
    assert 30 < caught.value.face_px < MIN_FACE_PX
    assert "closer" in (caught.value.hint or "")


@pytest.mark.parametrize("content", [b"this is not a picture", b"", b"\x89PNG\r\n\x1a\n broken"])
def test_not_an_image(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(NotAnImageError):
        create_photo_avatar(path, tmp_path / "a")


def test_missing_photo(tmp_path: Path) -> None:
    with pytest.raises(NotAnImageError, match="Cannot read"):
        create_photo_avatar(tmp_path / "nope.jpg", tmp_path / "a")


def test_hand_placed_points_rescue_a_photo_without_a_detectable_face(tmp_path: Path) -> None:
    img = np.full((400, 400, 3), 170, np.uint8)
    cv2.ellipse(img, (200, 200), (110, 150), 0, 0, 360, (150, 180, 220), -1)  # a face-coloured oval
    cv2.ellipse(img, (200, 270), (40, 8), 0, 0, 360, (90, 90, 180), -1)  # lips
    rec = create_photo_avatar(_write(tmp_path / "drawn.png", img), tmp_path / "a",
                              points=((160, 270), (240, 270), (200, 340)))
    assert rec.method == "manual"
    av = load_photo_avatar(rec.folder, idle=False)
    closed, opened = av.render(REST, 0.0), av.render(OPEN, 0.0)
    x, y, w, h = av.mouth_region()
    diff = np.any(closed != opened, axis=2)
    assert diff.sum() > 300 and diff.sum() == diff[y : y + h, x : x + w].sum()


@pytest.mark.parametrize(
    "points",
    [((200, 270), (201, 270), (200, 340)), ((160, 270), (240, 270), (200, 200)), ((160, 270), (240, 270), (200, 999))],
)
def test_impossible_hand_placed_points_are_refused(tmp_path: Path, points: tuple) -> None:
    img = np.full((400, 400, 3), 170, np.uint8)
    with pytest.raises(PhotoError):
        create_photo_avatar(_write(tmp_path / "p.png", img), tmp_path / "a", points=points)
