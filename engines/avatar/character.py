"""Tier-0 avatar: a friendly 2D cartoon character drawn with OpenCV.

Everything static (background, hair, face, eyes, body) is drawn once, 4× supersampled and reduced
with area averaging (smooth anti-aliased edges). Per frame only the eyelids and the mouth are redrawn,
into small regions of a pre-rendered head layer (premultiplied BGR + alpha); the head then sways with
one ``warpAffine`` of its box and is composited over the background, and the body is laid on top
(the collar covers the neck as the head moves). Geometry is designed at 512×512 and scaled.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import cv2
import numpy as np

from engines.avatar.base import IdleMotion
from engines.avatar.errors import AvatarConfigError
from engines.avatar.style import AvatarStyle, load_style
from engines.avatar.visemes import MouthParams

logger = logging.getLogger(__name__)

D = 512.0  # design size
SS = 4  # supersampling of static layers
MOUTH_SS = 2  # supersampling of the per-frame mouth
_SHIFT = 4  # fixed-point bits for sub-pixel cv2 drawing
_ONE = 1 << _SHIFT

# design-space geometry (pixels at 512×512)
HEAD_BOX = (84, 44, 428, 476)  # x0, y0, x1, y1 of the swaying head layer (with margin)
PIVOT = (256.0, 432.0)  # head tilts around the base of the neck
FACE_C = (256.0, 236.0)
EYES = ((206.0, 244.0), (306.0, 244.0))
EYE_AXES = (21.0, 24.0)
EYE_ROI_HALF = (34, 36)
MOUTH_C = (256.0, 332.0)
MOUTH_ROI = (190, 296, 132, 92)  # x, y, w, h (design px) containing every mouth pose
BODY_Y0 = 392
REST_LID = 0.12  # upper lids cover the top of the eyes a little when open


def _catmull_rom(points: list[tuple[float, float]], closed: bool = True, n: int = 12) -> np.ndarray:
    """Smooth curve through control points (centripetal-free uniform Catmull–Rom)."""
    p = np.asarray(points, dtype=np.float64)
    p = np.vstack([p[-1], p, p[0], p[1]]) if closed else np.vstack([p[0], p, p[-1]])
    out = []
    u = np.linspace(0.0, 1.0, n, endpoint=False)[:, None]
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(
            0.5
            * (2 * p1 + (-p0 + p2) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u**2 + (-p0 + 3 * p1 - 3 * p2 + p3) * u**3)
        )
    if not closed:
        out.append(p[-2][None, :])
    return np.vstack(out)


def _ellipse_pts(c: tuple[float, float], ax: tuple[float, float], a0: float, a1: float, n: int) -> np.ndarray:
    th = np.radians(np.linspace(a0, a1, n))
    return np.stack([c[0] + ax[0] * np.cos(th), c[1] + ax[1] * np.sin(th)], axis=1)


_CIRCLE24 = _ellipse_pts((0.0, 0.0), (1.0, 1.0), 0, 360, 24)


class _Painter:
    """Draws design-space shapes onto an image at ``k`` pixels per design pixel, offset by ``origin``."""

    def __init__(self, img: np.ndarray, k: float, origin: tuple[float, float] = (0.0, 0.0)) -> None:
        self.img = img
        self.k = k
        self.ox, self.oy = origin

    def _p(self, pts: np.ndarray) -> np.ndarray:
        q = (np.asarray(pts, dtype=np.float64) - (self.ox, self.oy)) * self.k * _ONE
        return np.round(q).astype(np.int32).reshape(-1, 1, 2)

    def poly(self, pts: np.ndarray, colour: tuple[int, ...]) -> None:
        cv2.fillPoly(self.img, [self._p(pts)], colour, cv2.LINE_AA, _SHIFT)

    def line(self, pts: np.ndarray, colour: tuple[int, ...], width: float, closed: bool = False) -> None:
        thickness = max(1, round(width * self.k))
        cv2.polylines(self.img, [self._p(pts)], closed, colour, thickness, cv2.LINE_AA, _SHIFT)

    def ellipse(self, c: tuple[float, float], ax: tuple[float, float], colour: tuple[int, ...]) -> None:
        self.poly(_ellipse_pts(c, ax, 0, 360, 96), colour)

    def tapered(self, pts: np.ndarray, w0: float, w1: float, colour: tuple[int, ...]) -> None:
        """A stroke along ``pts`` whose width goes from ``w0`` to ``w1`` (brows, lashes)."""
        pts = np.asarray(pts, dtype=np.float64)
        d = np.gradient(pts, axis=0)
        nrm = np.stack([-d[:, 1], d[:, 0]], axis=1)
        nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-9)
        w = np.linspace(w0, w1, len(pts))[:, None] / 2.0
        self.poly(np.vstack([pts + nrm * w, (pts - nrm * w)[::-1]]), colour)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], u: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * u) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


class CartoonAvatar:
    """The default character ("Nova"): an :class:`~engines.avatar.base.AvatarRenderer` of tier 0.

    ``size`` is the side of the square frame in pixels (even, 128–2048). ``style`` is an
    ``avatar.toml`` path or an :class:`AvatarStyle`; ``None`` uses ``assets/avatars/default``.
    """

    def __init__(self, size: int = 512, *, style: AvatarStyle | Path | str | None = None) -> None:
        if not isinstance(size, int) or isinstance(size, bool) or not 128 <= size <= 2048 or size % 2:
            raise AvatarConfigError(
                f"Avatar size must be an even number of pixels between 128 and 2048, got {size!r}.",
                hint="Use e.g. size=512 (the video encoder needs even dimensions).",
            )
        self.style = style if isinstance(style, AvatarStyle) else load_style(None if style is None else Path(style))
        self.size: tuple[int, int] = (size, size)
        self._s = size / D
        idle = self.style.idle
        self.idle = IdleMotion(
            idle.seed,
            blink_every=(idle.blink_min_s, idle.blink_max_s),
            double_blink_p=idle.double_blink_p,
            sway_px=idle.sway_px,
            sway_deg=idle.sway_deg,
            breath_px=idle.breath_px,
        )
        s = self._s
        x0, y0, x1, y1 = HEAD_BOX
        self._hb = (round(x0 * s), round(y0 * s), round(x1 * s), round(y1 * s))
        self._bg = self._draw_background()
        self._head_clean, self._head_alpha = self._draw_head()
        self._head_work = self._head_clean.copy()
        self._body_bgr, self._body_inv3, self._body_y0 = self._draw_body()
        hx, hy = self._hb[0], self._hb[1]
        self._eye_rois = []
        for ex, ey in EYES:
            rx, ry = EYE_ROI_HALF
            self._eye_rois.append(
                (round((ex - rx) * s) - hx, round((ey - ry) * s) - hy, round(2 * rx * s), round(2 * ry * s))
            )
        mx, my, mw, mh = MOUTH_ROI
        self._mouth_roi = (round(mx * s) - hx, round(my * s) - hy, round(mw * s), round(mh * s))
        self._mouth_up = np.empty((self._mouth_roi[3] * MOUTH_SS, self._mouth_roi[2] * MOUTH_SS, 3), np.uint8)
        hw_, hh_ = self._hb[2] - self._hb[0], self._hb[3] - self._hb[1]
        self._buf = {
            "head": np.empty((hh_, hw_, 3), np.uint8),
            "alpha": np.empty((hh_, hw_), np.uint8),
            "inv3": np.empty((hh_, hw_, 3), np.uint8),
            "tmp": np.empty((hh_, hw_, 3), np.uint8),
            "body_tmp": np.empty_like(self._body_bgr),
        }
        self._mouth_down = np.empty((self._mouth_roi[3], self._mouth_roi[2], 3), np.uint8)
        self._lid_colour = self.style.colors.skin
        self._lid_v = np.linspace(-1.0, 1.0, 33)
        self._lid_arc_big = np.sqrt(np.clip(1.0 - self._lid_v**2, 0.0, 1.0))
        stretch = (EYE_AXES[0] + 4.0) / EYE_AXES[0]
        self._lid_arc_small = np.sqrt(np.clip(1.0 - (self._lid_v * stretch) ** 2, 0.0, 1.0))
        self._lip_light = _mix(self.style.colors.lips, (255, 255, 255), 0.35)
        # relaxed upper lids (a friendlier look than fully round eyes), baked into the clean head
        for e, roi in zip(EYES, self._eye_rois, strict=True):
            self._draw_lid(e, roi, REST_LID, self._head_clean)
        self._head_work = self._head_clean.copy()
        self._teeth_low = _mix(self.style.colors.teeth, self.style.colors.mouth_inside, 0.12)

    # -------------------------------------------------------------------------------- static layers
    def _draw_background(self) -> np.ndarray:
        n = self.size[0]
        c = self.style.colors
        top = np.array(c.background_top, np.float32)
        bot = np.array(c.background_bottom, np.float32)
        g = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None, None]
        bg = np.broadcast_to(top + (bot - top) * g, (n, n, 3)).astype(np.float32)
        halo = np.zeros((n, n), np.float32)
        cv2.circle(halo, (round(256 * self._s), round(236 * self._s)), round(175 * self._s), 1.0, -1, cv2.LINE_AA)
        halo = cv2.GaussianBlur(halo, (0, 0), 40 * self._s) * 0.8
        bg += (np.array(c.halo, np.float32) - bg) * halo[..., None]
        return np.ascontiguousarray(np.clip(bg + 0.5, 0, 255).astype(np.uint8))

    def _layer(self, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray, _Painter, _Painter]:
        x0, y0, x1, y1 = box
        w, h = (x1 - x0) * SS, (y1 - y0) * SS
        col = np.zeros((h, w, 3), np.uint8)
        alpha = np.zeros((h, w), np.uint8)
        k = self._s * SS
        origin = (x0 / self._s, y0 / self._s)
        return col, alpha, _Painter(col, k, origin), _Painter(alpha, k, origin)

    def _reduce(self, img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        x0, y0, x1, y1 = box
        return cv2.resize(img, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)

    def _draw_head(self) -> tuple[np.ndarray, np.ndarray]:
        c = self.style.colors
        col, alpha, p, a = self._layer(self._hb)

        def both(fn: str, *args: object, colour: tuple[int, int, int]) -> None:
            getattr(p, fn)(*args, colour)
            getattr(a, fn)(*args, (255,))

        fx, fy = FACE_C
        # back hair (behind everything of the head)
        back = _catmull_rom(
            [
                (256, 76),
                (352, 98),
                (402, 178),
                (408, 272),
                (398, 350),
                (370, 372),
                (330, 352),
                (256, 360),
                (182, 352),
                (142, 372),
                (114, 350),
                (104, 272),
                (110, 178),
                (160, 98),
            ],
        )
        both("poly", back, colour=c.hair)
        # neck
        neck = np.array([(222, 320), (290, 320), (294, 470), (218, 470)], np.float64)
        both("poly", neck, colour=c.skin)
        p.poly(_catmull_rom([(220, 356), (256, 392), (292, 356), (292, 378), (256, 408), (220, 378)]), c.skin_shadow)
        # face: egg shape with a soft chin
        th = np.linspace(0, 2 * np.pi, 240, endpoint=False)
        sn = np.sin(th)
        rx = np.where(sn > 0, 118 * (1 - 0.22 * sn**2), 118.0)
        ry = np.where(sn > 0, 146.0, 136.0)
        face = np.stack([fx + rx * np.cos(th), fy + ry * sn], axis=1)
        both("poly", face, colour=c.skin)
        # cheeks (blurred blush blended into the skin)
        blush = np.zeros(col.shape[:2], np.uint8)
        bp = _Painter(blush, p.k, (p.ox, p.oy))
        for sx in (-1, 1):
            bp.ellipse((256 + sx * 80, 300), (24, 14), (255,))
        blush = cv2.GaussianBlur(blush, (0, 0), 9 * p.k)
        wgt = (blush.astype(np.float32) / 255.0 * 0.45)[..., None]
        col[:] = np.clip(col + (np.array(c.blush, np.float32) - col) * wgt, 0, 255).astype(np.uint8)
        # nose
        p.tapered(_catmull_rom([(249, 288), (256, 294), (263, 288)], closed=False, n=10), 2.2, 2.2, c.skin_shadow)
        p.ellipse((258, 282), (3.5, 2.5), _mix(c.skin, (255, 255, 255), 0.45))
        # eyebrows
        for sx in (-1, 1):
            ex, _ = EYES[0 if sx < 0 else 1]
            brow = _catmull_rom(
                [(ex - sx * 27, 203), (ex - sx * 8, 195), (ex + sx * 14, 195), (ex + sx * 30, 204)],
                closed=False,
                n=10,
            )
            p.tapered(brow, 5.5, 3.0, c.brows)
        # eyes (open)
        for e in EYES:
            self._draw_open_eye(p, e)
        # front hair: fringe with side locks framing the face
        fringe = _catmull_rom(
            [
                (128, 236),
                (132, 160),
                (176, 106),
                (256, 90),
                (336, 106),
                (380, 160),
                (384, 236),
                (392, 320),
                (378, 348),
                (364, 300),
                (358, 220),
                (346, 178),
                (322, 166),
                (300, 182),
                (282, 158),
                (252, 176),
                (232, 150),
                (204, 176),
                (176, 168),
                (162, 188),
                (154, 220),
                (148, 300),
                (134, 348),
                (120, 320),
            ],
            n=14,
        )
        both("poly", fringe, colour=c.hair)
        shine = _catmull_rom([(190, 120), (240, 104), (290, 108)], closed=False, n=12)
        p.tapered(shine, 3.0, 7.0, c.hair_highlight)
        p.tapered(_catmull_rom([(300, 112), (330, 124), (350, 146)], closed=False, n=10), 6.0, 2.0, c.hair_highlight)
        # ahoge: one playful strand on top
        p.tapered(_catmull_rom([(262, 94), (268, 66), (290, 56)], closed=False, n=12), 6.0, 1.5, c.hair)
        a.tapered(_catmull_rom([(262, 94), (268, 66), (290, 56)], closed=False, n=12), 6.0, 1.5, (255,))

        return self._reduce(col, self._hb), self._reduce(alpha, self._hb)

    def _draw_open_eye(self, p: _Painter, e: tuple[float, float]) -> None:
        c = self.style.colors
        ex, ey = e
        ax, ay = EYE_AXES
        p.ellipse(e, (ax, ay), c.sclera)
        p.ellipse((ex, ey + 3), (15.0, 16.0), c.iris)
        p.ellipse((ex, ey + 5), (11.0, 11.0), _mix(c.iris, c.pupil, 0.35))
        p.ellipse((ex, ey + 4), (7.0, 7.5), c.pupil)
        p.ellipse((ex + 5.5, ey - 3), (4.5, 4.5), (255, 255, 255))
        p.ellipse((ex - 5, ey + 9), (2.0, 2.0), (255, 255, 255))
        # upper lash line with an outer flick, thin lower line
        side = 1 if ex > 256 else -1
        upper = _ellipse_pts(e, (ax + 1, ay + 1), 190, 350, 40)
        if side < 0:
            upper = upper[::-1]
        p.tapered(upper, 3.0, 5.5, c.lashes)
        tip = upper[-1]
        p.tapered(np.array([tip, tip + np.array([side * 6.0, -5.0])]), 4.0, 1.0, c.lashes)
        p.line(_ellipse_pts(e, (ax - 2, ay), 40, 140, 20), _mix(c.skin_shadow, c.lashes, 0.25), 1.2)

    def _draw_body(self) -> tuple[np.ndarray, np.ndarray, int]:
        c = self.style.colors
        n = self.size[0]
        y0 = round(BODY_Y0 * self._s)
        box = (0, y0, n, n + 4)
        col, alpha, p, a = self._layer(box)
        body = _catmull_rom(
            [
                (-80, 600),
                (-60, 486),
                (20, 446),
                (100, 424),
                (180, 410),
                (256, 406),
                (332, 410),
                (412, 424),
                (492, 446),
                (572, 486),
                (592, 600),
            ],
        )
        p.poly(body, c.shirt)
        a.poly(body, (255,))
        for sx in (-1, 1):
            fold = _catmull_rom(
                [(256 + sx * 146, 530), (256 + sx * 142, 490), (256 + sx * 128, 456)], closed=False, n=10
            )
            p.tapered(fold, 5.0, 1.0, c.shirt_shadow)
        # neck opening: cut the shirt, then a collar band along its lower rim
        hole = _ellipse_pts((256, 398), (52, 30), 0, 360, 96)
        p.poly(hole, (0, 0, 0))
        a.poly(hole, (0,))
        rim = _ellipse_pts((256, 400), (54, 31), 8, 172, 48)
        p.tapered(rim, 9.0, 9.0, c.collar)
        a.tapered(rim, 9.0, 9.0, (255,))
        bgr = self._reduce(col, box)
        inv = cv2.bitwise_not(self._reduce(alpha, box))
        return bgr, cv2.cvtColor(inv, cv2.COLOR_GRAY2BGR), y0

    # -------------------------------------------------------------------------------- per frame
    def render(self, mouth: MouthParams, t: float, *, out: np.ndarray | None = None) -> np.ndarray:
        """BGR frame (H×W×3 uint8): the mouth in pose ``mouth``, idle life (blink, breath, sway) at ``t``.

        A new array is returned unless ``out`` (a C-contiguous H×W×3 uint8 array) is given to draw into.
        """
        pose = self.idle.pose(t)
        work = self._head_work
        clean = self._head_clean
        for x, y, w, h in self._eye_rois:
            work[y : y + h, x : x + w] = clean[y : y + h, x : x + w]
        if pose.eyelid > 0.01:
            for e, roi in zip(EYES, self._eye_rois, strict=True):
                self._draw_lid(e, roi, REST_LID + (1.0 - REST_LID) * pose.eyelid, work)
        self._draw_mouth(mouth)

        if out is None:
            frame = self._bg.copy()
        else:
            if out.shape != self._bg.shape or out.dtype != np.uint8 or not out.flags["C_CONTIGUOUS"]:
                raise AvatarConfigError(
                    f"render(out=...) needs a C-contiguous {self._bg.shape} uint8 array, got {out.shape} {out.dtype}.",
                    hint="Allocate it with np.empty((height, width, 3), np.uint8), or leave out=None.",
                )
            np.copyto(out, self._bg)
            frame = out
        s = self._s
        hx0, hy0, hx1, hy1 = self._hb
        m = cv2.getRotationMatrix2D((PIVOT[0] * s - hx0, PIVOT[1] * s - hy0), pose.angle_deg, 1.0)
        m[0, 2] += pose.dx * s
        m[1, 2] += pose.dy * s
        size = (hx1 - hx0, hy1 - hy0)
        b = self._buf
        cv2.warpAffine(work, m, size, dst=b["head"], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        cv2.warpAffine(
            self._head_alpha, m, size, dst=b["alpha"], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
        cv2.bitwise_not(b["alpha"], dst=b["alpha"])
        cv2.cvtColor(b["alpha"], cv2.COLOR_GRAY2BGR, dst=b["inv3"])
        roi = frame[hy0:hy1, hx0:hx1]
        cv2.multiply(roi, b["inv3"], dst=b["tmp"], scale=1.0 / 255.0)
        cv2.add(b["tmp"], b["head"], dst=roi)

        # body on top, rising a little with each breath
        n = self.size[0]
        dyb = round(-pose.breath * self.idle.breath_px * 0.6 * s)
        top = self._body_y0 + dyb
        rows = n - top
        dst = frame[top:n]
        tmp = b["body_tmp"][:rows]
        cv2.multiply(dst, self._body_inv3[:rows], dst=tmp, scale=1.0 / 255.0)
        cv2.add(tmp, self._body_bgr[:rows], dst=dst)
        return frame

    def _draw_lid(self, e: tuple[float, float], roi: tuple[int, int, int, int], level: float, head: np.ndarray) -> None:
        """Cover the eye from the top down to ``level`` (0 open, 1 shut) and draw the lash on the lid's edge."""
        c = self.style.colors
        x, y, w, h = roi
        hx, hy = self._hb[0] / self._s, self._hb[1] / self._s
        patch = head[y : y + h, x : x + w]
        p = _Painter(patch, self._s, (hx + x / self._s, hy + y / self._s))
        ex, ey = e
        ax, ay = EYE_AXES
        xs = ex + self._lid_v * (ax + 4.0)
        big, small = self._lid_arc_big, self._lid_arc_small
        top = ey - (ay + 5.0) * big - 1.0
        bottom = ey + (ay + 5.0) * big + 1.0
        # the upper lid comes down and the lower one rises a little: they meet below the middle
        upper = ey + (-1.0 + 1.3 * level) * ay * small
        lower = ey + (1.0 - 0.7 * level) * ay * small
        xs2 = np.concatenate([xs, xs[::-1]])
        p.poly(np.stack([xs2, np.concatenate([top, upper[::-1]])], 1), self._lid_colour)
        p.poly(np.stack([xs2, np.concatenate([lower, bottom[::-1]])], 1), self._lid_colour)
        lash = np.stack([xs, upper], 1)[3:-3]
        if ex < 256:
            lash = lash[::-1]
        p.tapered(lash, 2.5 + 1.0 * level, 5.0, c.lashes)

    def _draw_mouth(self, m: MouthParams) -> None:
        c = self.style.colors
        x, y, w, h = self._mouth_roi
        k = MOUTH_SS
        cv2.resize(
            self._head_clean[y : y + h, x : x + w], (w * k, h * k), dst=self._mouth_up, interpolation=cv2.INTER_NEAREST
        )
        hx, hy = self._hb[0] / self._s, self._hb[1] / self._s
        p = _Painter(self._mouth_up, self._s * k, (hx + x / self._s, hy + y / self._s))

        o = min(max(m.open, 0.0), 1.0)
        wd = min(max(m.width, 0.0), 1.0)
        r = min(max(m.round, 0.0), 1.0)
        te = min(max(m.teeth, 0.0), 1.0)
        pr = min(max(m.press, 0.0), 1.0)
        cx, cy = MOUTH_C
        hw = 29.0 * (0.72 + 0.56 * wd) * (1.0 - 0.38 * r)
        gap = (40.0 * o + 7.0 * r * (o > 0.05)) * (1.0 - 0.7 * pr)
        smile = 5.0 * (1.0 - r) * (1.0 - 0.6 * o) * (1.0 - 0.5 * pr)
        tu = 5.0 + 2.5 * r - 2.0 * pr
        tl = 7.0 + 2.5 * r - 2.5 * pr

        u = np.linspace(-1.0, 1.0, 23)
        base = cy - smile * u**2 + 2.0
        bulge = np.sqrt(np.clip(1.0 - u**2, 0.0, 1.0))
        up_frac = 0.32 + 0.18 * r
        ex_up = 0.7 - 0.25 * r
        in_up = base - gap * up_frac * (1.0 - u**2) ** ex_up
        in_lo = base + gap * (1.0 - up_frac) * (1.0 - u**2) ** (0.55 - 0.1 * r)
        bow = 1.0 - 0.3 * np.exp(-((u / 0.16) ** 2))
        out_up = in_up - tu * bulge * bow
        out_lo = in_lo + tl * bulge
        xs = cx + hw * u

        xs2 = np.concatenate([xs, xs[::-1]])

        def pts(ys_a: np.ndarray, ys_b: np.ndarray) -> np.ndarray:
            return np.stack([xs2, np.concatenate([ys_a, ys_b[::-1]])], 1)

        p.poly(pts(out_up, out_lo), c.lips)
        if gap >= 1.0:
            p.poly(pts(in_up, in_lo), c.mouth_inside)
            if gap > 10.0:  # tongue resting on the floor of the mouth
                tongue_h = 0.38 * gap
                ty = np.maximum(in_lo - tongue_h * (1.0 - (u / 0.75) ** 2).clip(0, 1) ** 0.6, in_up)
                p.poly(pts(np.minimum(ty, in_lo), in_lo), c.tongue)
            if te > 0.05:
                upper_h = te * min(0.55 * gap, 9.0)
                lower_h = te * min(0.38 * gap, 6.0) * (1.0 if o < 0.6 else 0.5)
                p.poly(pts(in_up, np.minimum(in_up + upper_h, in_lo)), c.teeth)
                if lower_h > 0.5:
                    p.poly(pts(np.maximum(in_lo - lower_h, in_up), in_lo), self._teeth_low)
            p.line(pts(in_up, in_lo), c.lip_line, 1.1, closed=True)
        else:
            p.line(np.stack([xs, base], 1), c.lip_line, 1.6 + 1.2 * pr)
        # corners and a soft highlight on the lower lip
        rc = 1.3 + 0.6 * pr
        for sx in (-1, 1):
            p.poly(_CIRCLE24 * rc + (cx + sx * (hw + 1.0), base[0] - 0.5), c.lip_line)
        hl = (hw * 0.28, max(tl * 0.18, 0.8))
        p.poly(_CIRCLE24 * hl + (cx + 2.0, float(out_lo[len(u) // 2]) - tl * 0.55), self._lip_light)

        cv2.resize(self._mouth_up, (w, h), dst=self._mouth_down, interpolation=cv2.INTER_AREA)
        self._head_work[y : y + h, x : x + w] = self._mouth_down

    # -------------------------------------------------------------------------------- regions
    def _moving_box(self, box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
        """Design-space box -> frame box covering every position the idle motion can move it to."""
        s = self._s
        x, y, w, h = box
        corners = np.array([(x, y), (x + w, y), (x, y + h), (x + w, y + h)], np.float64)
        radius = float(np.max(np.hypot(corners[:, 0] - PIVOT[0], corners[:, 1] - PIVOT[1])))
        rot = radius * math.sin(math.radians(self.idle.sway_deg)) + 1.0
        mx = self.idle.sway_px + rot + 2.0
        my = 0.5 * self.idle.sway_px + self.idle.breath_px + rot + 2.0
        x0 = max(0, math.floor((x - mx) * s))
        y0 = max(0, math.floor((y - my) * s))
        x1 = min(self.size[0], math.ceil((x + w + mx) * s))
        y1 = min(self.size[1], math.ceil((y + h + my) * s))
        return (x0, y0, x1 - x0, y1 - y0)

    def mouth_region(self) -> tuple[int, int, int, int]:
        """(x, y, w, h) in frame pixels containing every pixel the mouth can change, at any idle pose."""
        return self._moving_box(tuple(float(v) for v in MOUTH_ROI))  # type: ignore[arg-type]

    def eyes_region(self) -> tuple[int, int, int, int]:
        """(x, y, w, h) in frame pixels containing both eyes at any idle pose (blink tests)."""
        rx, ry = EYE_ROI_HALF
        (lx, ly), (rx_, _) = EYES
        return self._moving_box((lx - rx, ly - ry, rx_ - lx + 2 * rx, 2 * ry))
