"""Face geometry for the photo avatar: found ONCE when the user chooses a portrait, then cached.

Detection runs in two stages, both on the CPU in well under a second:

1. Face boxes: OpenCV's Haar cascade (``haarcascade_frontalface_default.xml``, shipped inside
   opencv-python-headless < 5) proposes candidates.
2. Landmarks: MediaPipe's FaceMesh model (``face_landmark.tflite``, 468 points, taken out of the
   ``mediapipe==0.10.21`` wheel at setup by :func:`app.models.prepare.prepare_face_models`) runs with
   ``ai-edge-litert`` on a 192×192 crop around each candidate, twice: first around the Haar box,
   then around the first landmarks, rotated so the eyes are level (as MediaPipe's own tracker does).
   Its face-presence score drops the cascade's false positives.

The result is a :class:`FaceGeometry`: the lip contours, the jaw line, the chin, the nose and the eyes
in photo pixels, which is all the mouth warp in :mod:`engines.avatar.photo` needs. A geometry can also
be built by hand from three points (:meth:`FaceGeometry.from_points`: mouth corners and chin) when
detection fails.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from engines.avatar.errors import FaceTooSmallError, NoFaceError, NotAnImageError, SeveralFacesError
from engines.errors import DependencyError

logger = logging.getLogger(__name__)

# FaceMesh landmark indices (canonical 468-point topology), each contour from the image-left corner
UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
JAW = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323, 454)
NOSE_BOTTOM = 2
EYE_OUTER = (33, 263)

#: a face narrower than this (jaw line, photo pixels) is refused: its mouth would be a few pixels
MIN_FACE_PX = 64
#: FaceMesh face-presence probability needed to accept a candidate
MIN_PRESENCE = 0.5
_INPUT = 192  # FaceMesh input side
_ROI_SCALE = 1.5  # crop side / face size, as in MediaPipe's face_landmark_front graph
_DETECT_MAX_SIDE = 1024  # photos are searched at most this large (a face must still be >= MIN_FACE_PX)

Method = Literal["landmarks", "manual"]


def _poly(points: Any, n: int, what: str) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.shape != (n, 2) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: expected {n} finite (x, y) points, got shape {arr.shape}")
    return arr


@dataclass(frozen=True)
class FaceGeometry:
    """Mouth, jaw and eye positions of one face, in pixels of the photo it was found in.

    Contours run from the image-left mouth corner to the image-right one (``*_lip``: 11 points) or
    along the jaw from the left cheek over the chin to the right cheek (``jaw``: 21 points).
    """

    upper_outer: np.ndarray
    lower_outer: np.ndarray
    upper_inner: np.ndarray
    lower_inner: np.ndarray
    jaw: np.ndarray
    nose_bottom: np.ndarray
    eyes: np.ndarray
    method: Method = "landmarks"
    #: FaceMesh face-presence probability (1.0 for hand-placed points)
    score: float = 1.0

    # ------------------------------------------------------------------------- derived points
    @property
    def corners(self) -> np.ndarray:
        return np.stack([self.upper_inner[0], self.upper_inner[-1]])

    @property
    def mouth_center(self) -> np.ndarray:
        return (self.upper_inner[5] + self.lower_inner[5]) / 2.0

    @property
    def mouth_width(self) -> float:
        return float(np.hypot(*(self.upper_outer[-1] - self.upper_outer[0])))

    @property
    def chin(self) -> np.ndarray:
        return self.jaw[10]

    @property
    def face_width(self) -> float:
        return float(np.hypot(*(self.jaw[-1] - self.jaw[0])))

    def mouth_box(self) -> tuple[int, int, int, int]:
        """(x, y, w, h) around the lips."""
        pts = np.vstack([self.upper_outer, self.lower_outer])
        x0, y0 = np.floor(pts.min(axis=0)).astype(int)
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
        return (int(x0), int(y0), int(x1 - x0), int(y1 - y0))

    def face_box(self) -> tuple[int, int, int, int]:
        """(x, y, w, h) from the eyes' height minus a margin down to the chin, cheek to cheek."""
        pts = np.vstack([self.jaw, self.eyes])
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        y0 -= 0.35 * (y1 - y0)  # forehead
        return (round(x0), round(y0), round(x1 - x0), round(y1 - y0))

    # ------------------------------------------------------------------------- transforms, I/O
    def transformed(self, m: np.ndarray) -> FaceGeometry:
        """The geometry after the 2×3 affine map ``m`` (crop, scale) of its photo."""
        a = np.asarray(m, dtype=np.float64)

        def f(p: np.ndarray) -> np.ndarray:
            return p @ a[:, :2].T + a[:, 2]

        return FaceGeometry(
            f(self.upper_outer), f(self.lower_outer), f(self.upper_inner), f(self.lower_inner), f(self.jaw),
            f(self.nose_bottom[None])[0], f(self.eyes), self.method, self.score,
        )

    def to_dict(self) -> dict[str, Any]:
        r = lambda a: np.asarray(a, dtype=np.float64).tolist()  # noqa: E731  (full precision: exact reloads)
        return {
            "method": self.method,
            "score": round(float(self.score), 4),
            "upper_outer": r(self.upper_outer),
            "lower_outer": r(self.lower_outer),
            "upper_inner": r(self.upper_inner),
            "lower_inner": r(self.lower_inner),
            "jaw": r(self.jaw),
            "nose_bottom": r(self.nose_bottom),
            "eyes": r(self.eyes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaceGeometry:
        """Inverse of :meth:`to_dict`; raises ValueError (or KeyError/TypeError) for malformed data."""
        method = data.get("method", "landmarks")
        if method not in ("landmarks", "manual"):
            raise ValueError(f"unknown method {method!r}")
        return cls(
            _poly(data["upper_outer"], 11, "upper_outer"),
            _poly(data["lower_outer"], 11, "lower_outer"),
            _poly(data["upper_inner"], 11, "upper_inner"),
            _poly(data["lower_inner"], 11, "lower_inner"),
            _poly(data["jaw"], 21, "jaw"),
            _poly([data["nose_bottom"]], 1, "nose_bottom")[0],
            _poly(data["eyes"], 2, "eyes"),
            method,
            float(data.get("score", 1.0)),
        )

    @classmethod
    def from_landmarks(cls, pts: np.ndarray, score: float = 1.0) -> FaceGeometry:
        """From FaceMesh's 468 landmarks (x, y[, z]) in photo pixels."""
        p = np.asarray(pts, dtype=np.float64)[:, :2]

        def take(idx: tuple[int, ...]) -> np.ndarray:
            return p[list(idx)]

        contours = [take(UPPER_OUTER), take(LOWER_OUTER), take(UPPER_INNER), take(LOWER_INNER)]
        jaw = take(JAW)
        eyes = take(EYE_OUTER)
        if contours[0][0, 0] > contours[0][-1, 0]:  # a mirrored face: keep contours left -> right
            contours = [c[::-1] for c in contours]
            jaw = jaw[::-1]
            eyes = eyes[::-1]
        return cls(*contours, jaw, p[NOSE_BOTTOM], eyes, "landmarks", float(score))

    @classmethod
    def from_points(
        cls,
        left_corner: tuple[float, float],
        right_corner: tuple[float, float],
        chin: tuple[float, float],
    ) -> FaceGeometry:
        """A geometry from three hand-placed points: both mouth corners and the bottom of the chin.

        The way out when detection fails. The lips are assumed closed; lip thickness, jaw line, nose
        and eyes are estimated from the mouth width and the corner-to-chin distance (typical adult
        proportions). Raises ValueError when the points cannot be a face (corners too close, chin not
        below the mouth).
        """
        lc = np.asarray(left_corner, dtype=np.float64)
        rc = np.asarray(right_corner, dtype=np.float64)
        ch = np.asarray(chin, dtype=np.float64)
        if lc.shape != (2,) or rc.shape != (2,) or ch.shape != (2,) or not np.all(np.isfinite([lc, rc, ch])):
            raise ValueError("each point must be two finite numbers (x, y)")
        if lc[0] > rc[0]:
            lc, rc = rc, lc
        across = rc - lc
        width = float(np.hypot(*across))
        if width < 8.0:
            raise ValueError(f"the mouth corners are only {width:.1f} px apart")
        ux = across / width  # along the mouth
        down = np.array([-ux[1], ux[0]])  # perpendicular, pointing down the face
        centre = (lc + rc) / 2.0
        drop = float((ch - centre) @ down)
        if drop < 0.3 * width:
            raise ValueError("the chin must be below the mouth (at least a third of the mouth width)")
        u = np.linspace(-1.0, 1.0, 11)
        along = centre + np.outer(u * width / 2.0, ux)
        bulge = np.sqrt(np.clip(1.0 - u**2, 0.0, 1.0))
        seam = along
        upper_outer = seam - np.outer(0.16 * width * bulge**0.8, down)
        lower_outer = seam + np.outer(0.20 * width * bulge**0.8, down)
        # jaw: a U from the cheeks (level with the mouth, 1.45 mouth widths out) under the chin
        th = np.linspace(math.pi, 0.0, 21)
        jaw_half = 1.45 * width
        jaw = centre + np.outer(-np.cos(th) * jaw_half, ux) * 1.0 + np.outer(
            np.sin(th) * drop - 0.15 * drop * (1 - np.sin(th)), down
        )
        jaw[10] = ch
        nose = centre - down * 0.5 * width
        brow = centre - down * 1.6 * width
        eyes = np.stack([brow - ux * 0.75 * width, brow + ux * 0.75 * width])
        return cls(upper_outer, lower_outer, seam.copy(), seam.copy(), jaw, nose, eyes, "manual", 1.0)


# ----------------------------------------------------------------------------------- images


def read_image(path: Path) -> np.ndarray:
    """A photo as an H×W×3 BGR uint8 array; :class:`NotAnImageError` for anything else."""
    path = Path(path)
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except (OSError, ValueError) as err:
        raise NotAnImageError(
            f"Cannot read the photo {path}: {err.strerror if isinstance(err, OSError) else err}.",
            hint="Check the path, or choose another photo (JPEG or PNG).",
        ) from None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None or img.ndim != 3 or min(img.shape[:2]) < 16:
        raise NotAnImageError(
            f"{path} is not an image Visage can read.",
            hint="Choose a JPEG, PNG, BMP or WebP portrait photo, or use the default avatar.",
        )
    return img


# ----------------------------------------------------------------------------------- landmarks


class FaceLandmarker:
    """FaceMesh (``face_landmark.tflite``) run with ai-edge-litert on one rotated square crop."""

    def __init__(self, model_path: Path | None = None, *, threads: int = 1) -> None:
        from engines.models import resolve_face_model

        path = Path(model_path) if model_path is not None else resolve_face_model("face_landmark.tflite")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as err:
            raise DependencyError(
                "Photo avatars need the ai-edge-litert package to find face landmarks.",
                hint="Run `bash scripts/setup.sh` (or `pip install ai-edge-litert` in the project's .venv).",
            ) from err
        self._interp = Interpreter(model_path=str(path), num_threads=threads)
        self._interp.allocate_tensors()
        self._in = self._interp.get_input_details()[0]["index"]
        outs = {int(np.prod(d["shape"])): d["index"] for d in self._interp.get_output_details()}
        self._out_pts = outs[468 * 3]
        self._out_score = outs[1]

    def run(self, image: np.ndarray, centre: tuple[float, float], side: float, angle_deg: float = 0.0
            ) -> tuple[np.ndarray, float]:
        """468 landmarks (x, y, z) in ``image`` pixels and the face-presence probability, for the square
        crop of side ``side`` centred on ``centre``, rotated by ``angle_deg`` (counter-clockwise)."""
        m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(angle_deg), _INPUT / float(side))
        m[:, 2] += (_INPUT / 2.0 - centre[0], _INPUT / 2.0 - centre[1])
        crop = cv2.warpAffine(image, m, (_INPUT, _INPUT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        x = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32)[None] / 255.0
        self._interp.set_tensor(self._in, x)
        self._interp.invoke()
        pts = self._interp.get_tensor(self._out_pts).reshape(468, 3).astype(np.float64)
        logit = float(self._interp.get_tensor(self._out_score).reshape(-1)[0])
        score = 1.0 / (1.0 + math.exp(-max(min(logit, 60.0), -60.0)))
        inv = cv2.invertAffineTransform(m)
        xy = pts[:, :2] @ inv[:, :2].T + inv[:, 2]
        z = pts[:, 2:] * (side / _INPUT)
        return np.hstack([xy, z]), score


@dataclass(frozen=True)
class FaceFit:
    """One face found in a photo."""

    landmarks: np.ndarray  # (468, 3) photo pixels
    score: float
    geometry: FaceGeometry

    @property
    def width(self) -> float:
        return self.geometry.face_width


def _refine(marker: FaceLandmarker, image: np.ndarray, centre: tuple[float, float], side: float
            ) -> tuple[np.ndarray, float]:
    pts, score = marker.run(image, centre, side)
    for _ in range(2):  # re-centre on the landmarks, eyes level
        xy = pts[:, :2]
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        c = (float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2))
        s = float(max(hi - lo)) * _ROI_SCALE
        (lx, ly), (rx, ry) = xy[EYE_OUTER[0]], xy[EYE_OUTER[1]]
        if lx > rx:
            (lx, ly), (rx, ry) = (rx, ry), (lx, ly)
        angle = math.degrees(math.atan2(ry - ly, rx - lx))
        pts, score = marker.run(image, c, s, angle)
    return pts, score


_CASCADE: cv2.CascadeClassifier | None = None


def _cascade() -> cv2.CascadeClassifier:
    global _CASCADE
    if _CASCADE is None:
        if not hasattr(cv2, "CascadeClassifier"):
            raise DependencyError(
                f"OpenCV {cv2.__version__} has no CascadeClassifier (OpenCV 5 removed it).",
                hint="Install opencv-python-headless<5 (pip install 'opencv-python-headless<5').",
            )
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        cascade = cv2.CascadeClassifier(str(path))
        if cascade.empty():
            raise DependencyError(
                f"OpenCV's face cascade {path} is missing.", hint="Reinstall opencv-python-headless<5."
            )
        _CASCADE = cascade
    return _CASCADE


def find_faces(image: np.ndarray, marker: FaceLandmarker | None = None) -> tuple[list[FaceFit], list[FaceFit]]:
    """Every face in ``image``: ``(usable, too_small)``, each a list of :class:`FaceFit` (largest first)."""
    marker = marker or FaceLandmarker()
    h, w = image.shape[:2]
    k = min(1.0, _DETECT_MAX_SIDE / max(h, w))
    small = cv2.resize(image, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA) if k < 1 else image
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
    boxes = _cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(20, 20))
    fits: list[FaceFit] = []
    for bx, by, bw, bh in (np.asarray(boxes, dtype=np.float64).reshape(-1, 4) / k):
        centre = (bx + bw / 2.0, by + bh * 0.58)  # Haar boxes sit a little high (brows to lips)
        pts, score = _refine(marker, image, centre, 1.7 * max(bw, bh))
        if score < MIN_PRESENCE:
            logger.debug("face candidate at (%d, %d) rejected: presence %.2f", bx, by, score)
            continue
        geo = FaceGeometry.from_landmarks(pts, score)
        if any(np.hypot(*(geo.mouth_center - f.geometry.mouth_center)) < 0.4 * f.width for f in fits):
            continue  # the same face found twice
        fits.append(FaceFit(pts, score, geo))
    fits.sort(key=lambda f: -f.width)
    usable = [f for f in fits if f.width >= MIN_FACE_PX]
    return usable, [f for f in fits if f.width < MIN_FACE_PX]


_WAYS_OUT = (
    "choose another photo (one face, looking at the camera), place the mouth corners and chin by hand "
    "(`visage render --mouth-points LX,LY,RX,RY,CX,CY`, or PhotoAvatar.create(..., points=...)), "
    "or use the default avatar (leave out --avatar)"
)


def detect_face(image: np.ndarray, *, source: str = "the photo", marker: FaceLandmarker | None = None) -> FaceFit:
    """The one usable face in ``image``; raises NoFaceError / SeveralFacesError / FaceTooSmallError."""
    usable, small = find_faces(image, marker)
    if len(usable) == 1:
        return usable[0]
    if len(usable) > 1:
        boxes = [f.geometry.face_box() for f in usable]
        raise SeveralFacesError(
            f"{len(usable)} faces were found in {source} (at "
            + ", ".join(f"x={b[0]} y={b[1]}" for b in boxes) + "); a photo avatar needs exactly one.",
            hint=f"Crop the photo to one person, or {_WAYS_OUT}.",
            boxes=boxes,
        )
    if small:
        px = round(small[0].width)
        raise FaceTooSmallError(
            f"The face in {source} is only {px} px wide; at least {MIN_FACE_PX} px are needed for a "
            "clear mouth.",
            hint=f"Use a closer or larger photo of the face, or {_WAYS_OUT}.",
            face_px=px,
        )
    raise NoFaceError(f"No face was found in {source}.", hint=f"Use a well-lit frontal portrait: {_WAYS_OUT}.")
