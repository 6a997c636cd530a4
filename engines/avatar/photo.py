"""Tier-1 avatar: the user's own portrait, its mouth region warped per frame.

Choosing a photo (:func:`create_photo_avatar`) finds the face ONCE (:mod:`engines.avatar.face`) and
stores, in the avatar's folder (``<data>/avatars/<name>/``): a copy of the photo, ``face.json`` (lip
contours, jaw line, chin, eyes and FaceMesh's 468 landmarks, with the photo's sha256) and
``preview.png`` (the photo with the detected mouth and jaw drawn, for the user to confirm).
:func:`load_photo_avatar` reads that folder back without running any detection.

Per frame, :class:`PhotoAvatar` opens the mouth with one backward map over a small region of the lower
face (nose to below the chin, cheek to cheek), evaluated in closed form with numpy and applied with
``cv2.remap``; everything outside that region is the untouched photo. With ``s`` the vertical distance
of a pixel from the lip seam:

- below the seam the lower lip and the chin move down by the jaw drop ``L`` (the lips' part follows
  the mouth's lens shape, the chin the jaw line's width), fading out under the chin into the neck;
- above it the upper lip rises a little (``U``), fading out toward the nose;
- between them, inside the mouth corners, the gap is painted: a dark mouth interior with a hint of
  upper (and lower) teeth; outside the corners the skin stretches instead;
- ``width`` / ``round`` pull the lips in or out horizontally around the mouth centre.

The photo's own mouth is the rest pose: a photo with parted lips stays parted at rest (the warp only
opens). Idle life is a slow, small breathing drift of the whole frame (no blinks: a photo has no
eyelids to move). Cost: about 0.5–1 ms per 512×512 frame on one core (``bench/avatar_fps.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from engines.avatar.base import IdleMotion
from engines.avatar.errors import AvatarConfigError, NotAnImageError, PhotoError
from engines.avatar.face import FaceGeometry, FaceLandmarker, detect_face, read_image
from engines.avatar.visemes import MouthParams

logger = logging.getLogger(__name__)

FACE_JSON = "face.json"
PREVIEW = "preview.png"
FORMAT_VERSION = 1
#: frame side / face width: head-and-shoulders framing
FRAME_FACES = 2.8
_INTERIOR = (34, 26, 62)  # BGR: dark red-brown mouth cavity
_TONGUE = (70, 58, 128)
_TEETH = (214, 224, 232)
_TEETH_LOW = (180, 190, 200)


def _squeeze_amount(m: MouthParams) -> float:
    """Horizontal squeeze of the lips: > 0 narrows them (rounded lips), < 0 widens them."""
    return 0.28 * min(max(m.round, 0.0), 1.0) - 0.3 * (min(max(m.width, 0.0), 1.0) - 0.5)


def _smoothstep(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


class PhotoAvatar:
    """An :class:`~engines.avatar.base.AvatarRenderer` that animates the mouth of a portrait photo.

    ``photo`` is the BGR image the ``geometry`` was found in; the frame (``size``×``size``) is a square
    crop around the face. ``idle=False`` freezes the breathing drift (every pixel outside the mouth
    region then stays the photo's).
    """

    def __init__(self, photo: np.ndarray, geometry: FaceGeometry, size: int = 512, *, idle: bool = True,
                 seed: int = 7) -> None:
        if not isinstance(size, int) or isinstance(size, bool) or not 128 <= size <= 2048 or size % 2:
            raise AvatarConfigError(
                f"Avatar size must be an even number of pixels between 128 and 2048, got {size!r}.",
                hint="Use e.g. size=512 (the video encoder needs even dimensions).",
            )
        self.size: tuple[int, int] = (size, size)
        self._base, m = _frame_crop(photo, geometry, size)
        self.geometry = geometry.transformed(m)
        self.idle = IdleMotion(seed, sway_px=1.2, sway_deg=0.5, breath_px=1.0) if idle else None
        self._work = self._base.copy()
        self._setup_warp()

    # ------------------------------------------------------------------------------------ set-up
    def _setup_warp(self) -> None:
        g = self.geometry
        n = self.size[0]
        mw = g.mouth_width
        self._mw = mw
        fw = g.face_width
        jaw = g.jaw
        corners = g.corners
        self._cx = float((corners[0, 0] + corners[1, 0]) / 2.0)
        self._hw = max(float(corners[1, 0] - corners[0, 0]) / 2.0, 2.0)
        self._lmax = 0.32 * mw  # jaw drop at open = 1 (px)
        self._umax = 0.10 * mw  # upper lip lift at open = 1
        self._fade = 0.30 * fw  # below the chin the drop fades out over this
        nose_y = float(g.nose_bottom[1])
        chin_y = float(jaw[:, 1].max())
        margin = 3
        x0 = max(0, math.floor(jaw[:, 0].min()) - margin)
        x1 = min(n, math.ceil(jaw[:, 0].max()) + margin + 1)
        y0 = max(0, math.floor(nose_y) - margin)
        y1 = min(n, math.ceil(chin_y + self._lmax + self._fade) + margin + 1)
        self._roi = (x0, y0, x1 - x0, y1 - y0)
        xs = np.arange(x0, x1, dtype=np.float64)
        ys = np.arange(y0, y1, dtype=np.float64)

        mid = (g.upper_inner + g.lower_inner) / 2.0
        seam = np.interp(xs, mid[:, 0], mid[:, 1])
        self._xs = xs
        self._yu = np.interp(xs, g.upper_inner[:, 0], g.upper_inner[:, 1])
        self._yl = np.interp(xs, g.lower_inner[:, 0], g.lower_inner[:, 1])
        lens = np.sqrt(np.clip(1.0 - ((xs - self._cx) / self._hw) ** 2, 0.0, 1.0))
        self._lens = lens
        # jaw window: 1 over the chin, 0 at the jaw line's sides
        chin_x = float(g.chin[0])
        half = max(chin_x - float(jaw[0, 0]), float(jaw[-1, 0]) - chin_x, 4.0)
        hj = 1.0 - _smoothstep((np.abs(xs - chin_x) / half - 0.35) / 0.6)
        hj = np.maximum(hj, lens)
        # lower jaw line per column (bottom half of the jaw contour)
        low = jaw[4:17]
        jaw_y = np.interp(xs, low[:, 0], low[:, 1])
        s = ys[:, None] - seam[None, :]
        self._s = s.astype(np.float32)
        chin_s = (jaw_y - seam)[None, :]
        lipchin = max(float(chin_y - seam[np.argmin(np.abs(xs - self._cx))]), 4.0)
        kr = 0.30 * mw
        # lower part: displacement per unit of L and its ramp off the seam
        b = _smoothstep(s / lipchin)
        self._low_l = lens[None, :]  # at the lips
        self._low_gain = (lens[None, :] + (hj - lens)[None, :] * b).astype(np.float32)
        self._low_ramp_base = (kr * (1.0 - lens))[None, :]
        self._chin_s = chin_s
        self._hj = hj[None, :]
        self._below = s >= 0
        # upper part
        self._up_ramp_base = (kr * (1.0 - lens))[None, :]
        nose_s = max(float(seam[np.argmin(np.abs(xs - self._cx))] - nose_y), 4.0)
        self._nose_s = nose_s
        # horizontal squeeze around the mouth centre (lips rounding / widening), zero at the ROI edges
        dx = (xs - self._cx)[None, :]
        bump = (1.0 - _smoothstep((np.abs(dx) / self._hw - 1.2) / 1.2)) * np.exp(-((s / (0.75 * mw)) ** 2))
        bump *= _smoothstep((s + nose_s) / (0.6 * nose_s))
        # every displacement is zero on the region's border, so the warp never shows a seam
        ex = np.minimum(xs - x0, x1 - 1 - xs)
        ey = np.minimum(ys - y0, y1 - 1 - ys)
        self._edge = (_smoothstep(ey[:, None] / 6.0) * _smoothstep(ex[None, :] / 6.0)).astype(np.float32)
        self._squeeze = (dx * bump * self._edge).astype(np.float32)
        self._gx = np.broadcast_to(xs[None, :], s.shape).astype(np.float32)
        self._gy = np.broadcast_to(ys[:, None], s.shape).astype(np.float32)
        self._span = np.nonzero(lens > 0)[0]

    # ------------------------------------------------------------------------------------ frames
    def _maps(self, m: MouthParams) -> tuple[np.ndarray, np.ndarray, float, float]:
        o = min(max(m.open, 0.0), 1.0) * (1.0 - 0.6 * min(max(m.press, 0.0), 1.0))
        big_l = o * self._lmax
        big_u = o * self._umax
        s = self._s
        # lower: src_s = s - D * ramp
        dl0 = big_l * self._low_l
        ramp_l = np.minimum(s / (dl0 + self._low_ramp_base + 1e-3), 1.0)
        fade = 1.0 - _smoothstep((s - self._chin_s - big_l * self._hj) / self._fade)
        d_low = big_l * self._low_gain * ramp_l * fade
        # upper: src_s = s + Du * tri
        du = big_u * self._low_l
        r_u = du + self._up_ramp_base + 1e-3
        tri = np.where(-s <= r_u, -s / r_u, np.clip((self._nose_s + s) / np.maximum(self._nose_s - r_u, 1.0), 0, 1))
        dy = np.where(self._below, -d_low, du * tri) * self._edge
        map_y = (self._gy + dy).astype(np.float32)
        e = _squeeze_amount(m)
        map_x = self._gx + np.float32(e) * self._squeeze if abs(e) > 1e-3 else self._gx
        return map_x, map_y, big_l, big_u

    def render(self, mouth: MouthParams, t: float) -> np.ndarray:
        """The photo with the mouth in pose ``mouth`` and the breathing drift of time ``t``: H×W×3 BGR."""
        frame = self._work
        np.copyto(frame, self._base)
        o = mouth.open * (1.0 - 0.6 * mouth.press)
        e = _squeeze_amount(mouth)
        if o > 0.005 or abs(e) > 1e-3:
            x, y, w, h = self._roi
            map_x, map_y, big_l, big_u = self._maps(mouth)
            roi = frame[y : y + h, x : x + w]
            cv2.remap(self._base, map_x, map_y, cv2.INTER_LINEAR, dst=roi, borderMode=cv2.BORDER_REPLICATE)
            if big_l + big_u >= 0.8:
                self._draw_interior(frame, mouth, big_l, big_u)
        if self.idle is None:
            return frame.copy()
        pose = self.idle.pose(t)
        n = self.size[0]
        k = n / 512.0
        mat = cv2.getRotationMatrix2D((n / 2.0, n * 0.95), 0.35 * pose.angle_deg, 1.0 + 0.0015 * pose.breath)
        mat[0, 2] += 0.5 * pose.dx * k
        mat[1, 2] += 0.5 * pose.dy * k
        return cv2.warpAffine(frame, mat, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def _draw_interior(self, frame: np.ndarray, m: MouthParams, big_l: float, big_u: float) -> None:
        idx = self._span
        if len(idx) < 3:
            return
        lens = self._lens[idx]
        # the interior follows the lips' horizontal squeeze (inverse of the backward map at the seam)
        xs = self._cx + (self._xs[idx] - self._cx) / (1.0 + _squeeze_amount(m))
        top = self._yu[idx] - big_u * lens
        bottom = self._yl[idx] + big_l * lens
        gap = bottom - top
        if float(gap.max()) < 1.0:
            return
        xs2 = np.concatenate([xs, xs[::-1]])

        def poly(a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
            pts = np.stack([xs2, np.concatenate([a, b[::-1]])], axis=1)
            return [np.round(pts * 16).astype(np.int32).reshape(-1, 1, 2)]

        cv2.fillPoly(frame, poly(top, bottom), _INTERIOR, cv2.LINE_AA, 4)
        gmax = float(gap.max())
        if gmax > 6.0:  # tongue on the floor of the mouth
            tongue = np.maximum(bottom - 0.25 * gap * np.clip(lens * 1.5, 0, 1) ** 2, top)
            cv2.fillPoly(frame, poly(tongue, bottom), _TONGUE, cv2.LINE_AA, 4)
        te = min(max(m.teeth, 0.0), 1.0)
        upper_h = max(te, 0.35) * min(0.45 * gap.max(), 0.14 * self._mw) * np.sqrt(lens)
        if float(upper_h.max()) >= 1.0:
            cv2.fillPoly(frame, poly(top, np.minimum(top + upper_h, bottom)), _TEETH, cv2.LINE_AA, 4)
        lower_h = max(te - 0.5, 0.0) * min(0.3 * gmax, 0.12 * self._mw) * lens**2
        if float(lower_h.max()) >= 1.0:
            cv2.fillPoly(frame, poly(np.maximum(bottom - lower_h, top), bottom), _TEETH_LOW, cv2.LINE_AA, 4)

    def mouth_region(self) -> tuple[int, int, int, int]:
        """(x, y, w, h) in frame pixels that contains every pixel the mouth/jaw warp can change."""
        x, y, w, h = self._roi
        pad = 4
        if self.idle is not None:
            pad += math.ceil(abs(self.idle.sway_px) + 0.0015 * self.size[0]
                             + self.size[0] * math.sin(math.radians(0.35 * self.idle.sway_deg)) + 1)
        n = self.size[0]
        x0, y0 = max(0, x - pad), max(0, y - pad)
        return (x0, y0, min(n, x + w + pad) - x0, min(n, y + h + pad) - y0)

    def preview(self) -> np.ndarray:
        """The framed photo with the detected lips (outer green, inner yellow), jaw line and chin drawn."""
        img = self._base.copy()
        g = self.geometry

        def line(pts: np.ndarray, colour: tuple[int, int, int], closed: bool = False) -> None:
            p = np.round(pts * 16).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(img, [p], closed, colour, max(1, self.size[0] // 256), cv2.LINE_AA, 4)

        line(np.vstack([g.upper_outer, g.lower_outer[::-1]]), (80, 220, 80), closed=True)
        line(g.upper_inner, (40, 220, 240))
        line(g.lower_inner, (40, 220, 240))
        line(g.jaw, (240, 200, 40))
        for p, colour in ((g.corners[0], (60, 60, 255)), (g.corners[1], (60, 60, 255)), (g.chin, (255, 60, 200))):
            cv2.circle(img, (round(p[0]), round(p[1])), max(3, self.size[0] // 128), colour, -1, cv2.LINE_AA)
        x, y, w, h = self._roi
        cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), (200, 200, 200), 1)
        return img


def _frame_crop(photo: np.ndarray, g: FaceGeometry, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A ``size``² head-and-shoulders crop of ``photo`` and the 2×3 map from photo to frame pixels."""
    h, w = photo.shape[:2]
    fw = max(g.face_width, 1.0)
    side = min(FRAME_FACES * fw, float(min(h, w)))
    cx = float(g.mouth_center[0])
    cy = float((g.eyes[:, 1].mean() + g.chin[1]) / 2.0) + 0.15 * fw
    x0 = min(max(cx - side / 2.0, 0.0), w - side)
    y0 = min(max(cy - side / 2.0, 0.0), h - side)
    k = size / side
    m = np.array([[k, 0.0, -x0 * k], [0.0, k, -y0 * k]])
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC
    base = cv2.warpAffine(photo, m, (size, size), flags=interp, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(base), m


# ------------------------------------------------------------------------------------ avatar folders


@dataclass(frozen=True)
class PhotoAvatarRecord:
    """What :func:`create_photo_avatar` stored."""

    folder: Path
    photo: Path
    face_json: Path
    preview: Path
    geometry: FaceGeometry
    method: str


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def avatar_folder_for(photo: Path, avatars_root: Path) -> Path:
    """The folder a photo's avatar is cached in: ``<avatars_root>/<photo stem>-<sha256[:10]>``."""
    photo = Path(photo)
    try:
        sha = _sha256_file(photo)
    except OSError as err:
        raise NotAnImageError(f"Cannot read the photo {photo}: {err.strerror}.",
                              hint="Check the path, or choose another photo.") from None
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in photo.stem)[:40] or "photo"
    return Path(avatars_root) / f"{stem}-{sha[:10]}"


def create_photo_avatar(
    photo: Path,
    folder: Path,
    *,
    points: tuple[tuple[float, float], tuple[float, float], tuple[float, float]] | None = None,
    size: int = 512,
    marker: FaceLandmarker | None = None,
) -> PhotoAvatarRecord:
    """Find the face in ``photo`` once and store the avatar (photo copy, face.json, preview) in ``folder``.

    ``points`` = (left mouth corner, right mouth corner, chin) in photo pixels skips detection: the
    way out when a photo has no detectable face, several faces or a small one. Raises a
    :class:`~engines.avatar.errors.PhotoError` subclass whose hint lists the ways out. Writing is
    atomic: a half-written folder never replaces a good one.
    """
    photo = Path(photo)
    image = read_image(photo)
    landmarks: list[list[float]] | None = None
    if points is not None:
        try:
            geometry = FaceGeometry.from_points(*points)
        except (TypeError, ValueError) as err:
            raise PhotoError(
                f"The hand-placed points {points!r} cannot be a mouth and chin: {err}.",
                hint="Give (left corner, right corner, chin) in photo pixels, the chin below the mouth.",
            ) from None
        h, w = image.shape[:2]
        pts = np.asarray(points, dtype=np.float64)
        if np.any(pts < 0) or np.any(pts[:, 0] >= w) or np.any(pts[:, 1] >= h):
            raise PhotoError(f"A hand-placed point lies outside the {w}×{h} photo.",
                             hint="Give the points in pixels of the photo itself (x right, y down).")
        method = "manual"
    else:
        fit = detect_face(image, source=str(photo), marker=marker)
        geometry = fit.geometry
        landmarks = np.round(fit.landmarks, 2).tolist()
        method = "landmarks"
    avatar = PhotoAvatar(image, geometry, size, idle=False)
    folder = Path(folder)
    suffix = photo.suffix.lower() if photo.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp", ".webp") else ".png"
    record = {
        "version": FORMAT_VERSION,
        "photo": f"photo{suffix}",
        "photo_sha256": _sha256_file(photo),
        "source": str(photo.resolve()),
        "image_size": [int(image.shape[1]), int(image.shape[0])],
        "method": method,
        "detector": "opencv haar cascade + mediapipe 0.10.21 face_landmark.tflite (ai-edge-litert)"
        if method == "landmarks" else "hand-placed mouth corners and chin",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "geometry": geometry.to_dict(),
        "points": [[float(v) for v in pt] for pt in points] if points is not None else None,
        "landmarks": landmarks,
    }
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    except OSError as err:
        raise AvatarConfigError(f"Cannot create the avatar folder {folder}: {err.strerror}.",
                                hint="Choose a data folder you can write to (--data-dir).") from None
    try:
        shutil.copyfile(photo, tmp / record["photo"])
        (tmp / FACE_JSON).write_text(json.dumps(record, indent=1), encoding="utf-8")
        if not cv2.imwrite(str(tmp / PREVIEW), avatar.preview()):
            raise OSError(f"cannot write {PREVIEW}")
        tmp.chmod(0o755)
        old = None
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AvatarConfigError(f"Cannot write the avatar to {folder}: {err}.",
                                hint="Choose a data folder you can write to, with free space.") from None
    logger.info("photo avatar %s: face by %s (mouth box %s)", folder, method, geometry.mouth_box())
    return PhotoAvatarRecord(folder, folder / record["photo"], folder / FACE_JSON, folder / PREVIEW, geometry, method)


def read_face_json(folder: Path) -> dict[str, Any]:
    """The parsed ``face.json`` of an avatar folder (AvatarConfigError when missing or malformed)."""
    path = Path(folder) / FACE_JSON
    hint = "Choose the photo again (`visage render --avatar PHOTO`), or use the default avatar."
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AvatarConfigError(f"{folder} is not a photo avatar (no {FACE_JSON}).", hint=hint) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise AvatarConfigError(f"Cannot read {path}: {err}.", hint=hint) from None
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise AvatarConfigError(f"{path} has an unknown format.", hint=hint)
    return data


def load_photo_avatar(folder: Path, size: int = 512, *, idle: bool = True) -> PhotoAvatar:
    """The avatar stored by :func:`create_photo_avatar`, from its cached face (no detection runs)."""
    folder = Path(folder)
    data = read_face_json(folder)
    hint = "Choose the photo again (`visage render --avatar PHOTO`), or use the default avatar."
    try:
        geometry = FaceGeometry.from_dict(data["geometry"])
        photo = folder / str(data["photo"])
        sha = str(data["photo_sha256"])
    except (KeyError, TypeError, ValueError) as err:
        raise AvatarConfigError(f"{folder / FACE_JSON} is damaged ({err}).", hint=hint) from None
    with contextlib.suppress(OSError):
        if _sha256_file(photo) != sha:
            raise AvatarConfigError(f"The photo in {folder} changed since its face was found.", hint=hint)
    image = read_image(photo)
    return PhotoAvatar(image, geometry, size, idle=idle)


def ensure_photo_avatar(
    photo: Path,
    avatars_root: Path,
    *,
    points: tuple[tuple[float, float], tuple[float, float], tuple[float, float]] | None = None,
    size: int = 512,
) -> tuple[PhotoAvatar, PhotoAvatarRecord | None]:
    """Reuse the cached avatar of ``photo`` (same content, same way of placing the face), else create it.

    Returns the renderer and the new record (``None`` when the cache was used).
    """
    folder = avatar_folder_for(photo, avatars_root)
    want = "manual" if points is not None else "landmarks"
    if (folder / FACE_JSON).is_file():
        try:
            data = read_face_json(folder)
            same_points = points is None or data.get("points") == [[float(v) for v in pt] for pt in points]
            if data.get("method") == want and same_points:
                return load_photo_avatar(folder, size), None
        except AvatarConfigError as err:
            logger.warning("ignoring the cached avatar %s: %s", folder, err.message)
    record = create_photo_avatar(photo, folder, points=points, size=size)
    return load_photo_avatar(folder, size), record
