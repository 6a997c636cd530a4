"""A text, spoken by the avatar, as a video file: the one code path of ``visage render --text`` and the
copy studio's "Render clip…" (Qt-free, synchronous: run it off the UI thread).

Piper speaks the text whatever ``[tts] engine`` says (its phoneme timings drive the lips), the renderer
draws each frame, and :func:`engines.avatar.clip.render_clip` writes H.264 video + AAC audio.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.config import AvatarSettings, TTSSettings
from app.core.errors import ConfigError, VisageError

#: ``(fraction done 0..1, what is happening)``
Progress = Callable[[float, str], None]
#: share of the progress bar for the speech (the rest is drawing and encoding the frames)
SPEECH_SHARE = 0.3


@dataclass(frozen=True)
class ChosenAvatar:
    """The renderer to draw with, what it is in words, and any fallback the user should hear about."""

    renderer: Any
    what: str
    notices: list[str] = field(default_factory=list)


def avatar_from_path(avatar: str | None, points: Any, size: int, data_dir: Path) -> ChosenAvatar:
    """The avatar named on the command line: ``None``/"default" (the character), a photo, or a photo-avatar folder.

    A photo whose face is found for the first time is stored under ``<data_dir>/avatars``; the notice says so.
    """
    if avatar is None or avatar == "default":
        if points is not None:
            raise ConfigError("--mouth-points needs --avatar PHOTO.", hint="Add --avatar path/to/photo.jpg.")
        from engines.avatar.character import CartoonAvatar

        return ChosenAvatar(CartoonAvatar(size), "default character")
    from engines.avatar.photo import FACE_JSON, ensure_photo_avatar, load_photo_avatar

    path = Path(avatar).expanduser()
    if path.is_dir() and (path / FACE_JSON).is_file():
        return ChosenAvatar(load_photo_avatar(path, size), f"photo avatar {path}")
    renderer, record = ensure_photo_avatar(path, data_dir / "avatars", points=points, size=size)
    notices = [] if record is None else [f"Found the face in {path} (by {record.method}); preview: {record.preview}"]
    return ChosenAvatar(renderer, f"photo {path}", notices)


def avatar_from_settings(settings: AvatarSettings, size: int = 512) -> ChosenAvatar:
    """The avatar the user chose in Settings (``[avatar]``): the character, or their photo avatar.

    A photo avatar that cannot be loaded falls back to the character, and the notice says why.
    """
    from engines.avatar.character import CartoonAvatar

    if settings.renderer == "photo" and settings.photo_folder:
        from engines.avatar.photo import load_photo_avatar

        folder = Path(settings.photo_folder).expanduser()
        try:
            return ChosenAvatar(load_photo_avatar(folder, size), "your photo avatar")
        except VisageError as err:
            return ChosenAvatar(CartoonAvatar(size), "the default character", [
                f"Your photo avatar could not be loaded, so the clip shows the default character: {err}"])
    if settings.renderer == "photo":
        return ChosenAvatar(CartoonAvatar(size), "the default character", [
            "No photo avatar is set up yet, so the clip shows the default character "
            "(Settings > Avatar > Use my photo makes one)."])
    return ChosenAvatar(CartoonAvatar(size), "the default character")


def render_text_clip(text: str, renderer: Any, out: Path, tts_settings: TTSSettings, *, fps: int = 30,
                     cancel: threading.Event | None = None, on_progress: Progress | None = None) -> Any:
    """Write ``out``: ``renderer`` saying ``text`` with Piper's voice; returns the :class:`ClipInfo`.

    The output path is checked first (before the slow parts); ``cancel`` stops between sentences and
    between frames (raising :class:`app.core.errors.Cancelled`, the partial file removed).
    """
    from engines.avatar.clip import check_output, render_clip
    from engines.tts.piper import PiperTTS
    from engines.tts.text import split_sentences

    if not text.strip():
        raise ConfigError("There is no text to say.", hint='Give the words to say, e.g. --text "Hello there!"')
    out = Path(out).expanduser()
    check_output(out)
    report = on_progress or (lambda _f, _w: None)
    report(0.0, "Loading the voice…")
    tts = PiperTTS(tts_settings)  # Piper whatever [tts] engine says: it gives phoneme timings
    total = max(1, len(split_sentences(text)))

    def speech() -> Iterator[Any]:
        report(0.0, f"Speaking sentence 1 of {total}…")
        for i, chunk in enumerate(tts.synthesize(text, cancel=cancel), 1):
            report(SPEECH_SHARE * min(i, total) / total,
                   f"Speaking sentence {min(i + 1, total)} of {total}…" if i < total else "Drawing the frames…")
            yield chunk

    step = max(1, fps // 2)

    def frame(done: int, frames: int) -> None:
        if done % step == 0 or done == frames:
            report(SPEECH_SHARE + (1 - SPEECH_SHARE) * done / frames, f"Drawing frame {done} of {frames}…")

    return render_clip(speech(), renderer, out, fps=fps, cancel=cancel, on_frame=frame)


__all__ = ["ChosenAvatar", "Progress", "avatar_from_path", "avatar_from_settings", "render_text_clip"]
