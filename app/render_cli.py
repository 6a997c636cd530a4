"""``visage render``: a talking-head MP4 (H.264 + AAC) of the avatar speaking a text.

Registered on the main command group in :mod:`app.cli`. Heavy imports (Piper, OpenCV, PyAV) happen
inside the command, so ``visage --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.core.errors import ConfigError


def _parse_points(value: str | None) -> tuple[tuple[float, float], ...] | None:
    if value is None:
        return None
    try:
        nums = [float(v) for v in value.replace(";", ",").replace(" ", ",").split(",") if v]
    except ValueError:
        nums = []
    if len(nums) != 6:
        raise ConfigError(
            f"--mouth-points {value!r} is not six numbers.",
            hint="Give LX,LY,RX,RY,CX,CY: left mouth corner, right mouth corner and chin, in photo pixels.",
        )
    return ((nums[0], nums[1]), (nums[2], nums[3]), (nums[4], nums[5]))


def _renderer(avatar: str | None, points: Any, size: int, data_dir: Path) -> tuple[Any, str]:
    if avatar is None or avatar == "default":
        if points is not None:
            raise ConfigError("--mouth-points needs --avatar PHOTO.", hint="Add --avatar path/to/photo.jpg.")
        from engines.avatar.character import CartoonAvatar

        return CartoonAvatar(size), "default character"
    from engines.avatar.photo import FACE_JSON, ensure_photo_avatar, load_photo_avatar

    path = Path(avatar).expanduser()
    if path.is_dir() and (path / FACE_JSON).is_file():
        return load_photo_avatar(path, size), f"photo avatar {path}"
    renderer, record = ensure_photo_avatar(path, data_dir / "avatars", points=points, size=size)
    if record is not None:
        click.echo(f"Found the face in {path} (by {record.method}); preview: {record.preview}", err=True)
    return renderer, f"photo {path}"


@click.command()
@click.option("--text", required=True, help="What the avatar says.")
@click.option("--avatar", help="A portrait photo (JPEG/PNG), a photo-avatar folder, or 'default' (the character).")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="The video file to write (.mp4, .mov or .mkv).")
@click.option("--mouth-points", help="Place the face by hand on the photo: LX,LY,RX,RY,CX,CY "
              "(mouth corners and chin, in photo pixels) when detection fails.")
@click.option("--fps", default=30, show_default=True, help="Frames per second.")
@click.option("--size", default=512, show_default=True, help="Frame width and height in pixels (even).")
@click.pass_context
def render(ctx: click.Context, text: str, avatar: str | None, out_path: str, mouth_points: str | None,
           fps: int, size: int) -> None:
    """Write a video of the avatar saying TEXT, lips synced to Piper's phoneme timings, audio muxed in."""
    from engines.avatar.clip import check_output, render_clip
    from engines.tts.piper import PiperTTS

    if not text.strip():
        raise ConfigError("--text is empty.", hint='Give the words to say, e.g. --text "Hello there!"')
    out = Path(out_path).expanduser()
    check_output(out)  # fail before the slow parts
    app_ctx = ctx.obj  # app.cli.Context: settings and the data folder
    renderer, what = _renderer(avatar, _parse_points(mouth_points), size, Path(app_ctx.data_dir))
    tts = PiperTTS(app_ctx.settings.tts)  # Piper whatever [tts] engine says: it gives phoneme timings
    info = render_clip(tts.synthesize(text), renderer, out, fps=fps)
    click.echo(f"{info.path}: {info.duration_s:.2f} s, {info.frames} frames at {info.fps} fps, "
               f"{info.size[0]}×{info.size[1]}, {what}, mouth from {info.source}")
