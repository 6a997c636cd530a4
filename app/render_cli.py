"""``visage render``: a talking-head MP4 (H.264 + AAC) of the avatar speaking a text.

Registered on the main command group in :mod:`app.cli`. Heavy imports (Piper, OpenCV, PyAV) happen
inside the command, so ``visage --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

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
    from app.avatar_clip import avatar_from_path, render_text_clip
    from engines.avatar.clip import check_output

    if not text.strip():
        raise ConfigError("--text is empty.", hint='Give the words to say, e.g. --text "Hello there!"')
    out = Path(out_path).expanduser()
    check_output(out)  # fail before the slow parts
    app_ctx = ctx.obj  # app.cli.Context: settings and the data folder
    chosen = avatar_from_path(avatar, _parse_points(mouth_points), size, Path(app_ctx.data_dir))
    for notice in chosen.notices:
        click.echo(notice, err=True)
    info = render_text_clip(text, chosen.renderer, out, app_ctx.settings.tts, fps=fps)
    click.echo(f"{info.path}: {info.duration_s:.2f} s, {info.frames} frames at {info.fps} fps, "
               f"{info.size[0]}×{info.size[1]}, {chosen.what}, mouth from {info.source}")
