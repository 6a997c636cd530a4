"""Draw Visage's icon from the default avatar (engines/avatar/character.py), so the icon is our own.

    .venv/bin/python packaging/make_icons.py      # writes packaging/icons/visage-<N>.png, visage.ico, visage.icns

The character is rendered at rest, its head cropped into a rounded square and scaled to the usual
sizes (16…512 px, the freedesktop icon-theme sizes). ``visage.ico`` (Windows) and ``visage.icns`` (macOS)
embed the PNGs (both formats allow PNG payloads), so neither Pillow nor platform tools are needed.
"""

from __future__ import annotations

import logging
import struct
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.avatar.character import CartoonAvatar  # noqa: E402
from engines.avatar.visemes import REST  # noqa: E402

log = logging.getLogger("make_icons")
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: ICNS element types that hold PNG data, by pixel size
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}


def master(size: int = 1024) -> np.ndarray:
    """BGRA square: the character's head and shoulders in a rounded square, transparent corners."""
    frame = CartoonAvatar(1024).render(REST, 0.0)
    h, w = frame.shape[:2]
    side = int(w * 0.80)
    x0 = (w - side) // 2
    y0 = int(h * 0.06)
    crop = np.ascontiguousarray(frame[y0:y0 + side, x0:x0 + side])
    crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    # rounded-square alpha mask, drawn at 4x and reduced for smooth edges
    big = size * 4
    mask = np.zeros((big, big), np.uint8)
    r = int(big * 0.2)
    cv2.rectangle(mask, (r, 0), (big - r, big), 255, -1)
    cv2.rectangle(mask, (0, r), (big, big - r), 255, -1)
    for cx, cy in ((r, r), (big - r, r), (r, big - r), (big - r, big - r)):
        cv2.circle(mask, (cx, cy), r, 255, -1, lineType=cv2.LINE_AA)
    alpha = cv2.resize(mask, (size, size), interpolation=cv2.INTER_AREA)
    return np.dstack([crop, alpha])


def png_bytes(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def write_ico(path: Path, pngs: dict[int, bytes]) -> None:
    sizes = [s for s in ICO_SIZES if s in pngs]
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for s in sizes:
        data = pngs[s]
        dim = 0 if s >= 256 else s
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    path.write_bytes(header + entries + blobs)


def write_icns(path: Path, pngs: dict[int, bytes]) -> None:
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[s])) + pngs[s]
                    for s, kind in ICNS_TYPES.items() if s in pngs)
    path.write_bytes(b"icns" + struct.pack(">I", 8 + len(body)) + body)


def main(out: Path = ROOT / "packaging" / "icons") -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    big = master()
    pngs: dict[int, bytes] = {}
    written = []
    for s in SIZES:
        img = cv2.resize(big, (s, s), interpolation=cv2.INTER_AREA)
        pngs[s] = png_bytes(img)
        target = out / f"visage-{s}.png"
        target.write_bytes(pngs[s])
        written.append(target)
    write_ico(out / "visage.ico", pngs)
    write_icns(out / "visage.icns", pngs)
    written += [out / "visage.ico", out / "visage.icns"]
    return written


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for p in main():
        log.info("%s", p.relative_to(ROOT))
