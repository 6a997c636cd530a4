"""The shared text-to-clip path (``visage render --text`` and the studio's "Render clip…") on the real
Piper voice: progress reaches the end, cancel stops and leaves no file, and the avatar from Settings
falls back to the character with a notice when the photo avatar cannot be used."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app.avatar_clip import avatar_from_settings, render_text_clip
from app.core.config import AvatarSettings, TTSSettings
from app.core.errors import Cancelled, ConfigError, ModelError
from engines.avatar.character import CartoonAvatar
from engines.avatar.errors import ClipOutputError

pytestmark = pytest.mark.real_models


def test_progress_runs_from_speech_to_the_last_frame(tmp_path: Path) -> None:
    seen: list[tuple[float, str]] = []
    out = tmp_path / "hi.mp4"
    info = render_text_clip("Hello there. Fresh coffee today!", CartoonAvatar(256), out, TTSSettings(), fps=20,
                            on_progress=lambda f, what: seen.append((f, what)))
    assert out.is_file() and info.source != "empty" and info.audio_duration_s > 1.0
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    whats = [w for _, w in seen]
    assert whats[0] == "Loading the voice…" and "Speaking sentence 1 of 2…" in whats
    assert whats[-1] == f"Drawing frame {info.frames} of {info.frames}…"


def test_cancel_stops_and_leaves_no_file(tmp_path: Path) -> None:
    cancel = threading.Event()

    def progress(fraction: float, _what: str) -> None:
        if fraction > 0.5:
            cancel.set()

    with pytest.raises(Cancelled):
        render_text_clip("One sentence to say, slowly and clearly.", CartoonAvatar(256), tmp_path / "c.mp4",
                         TTSSettings(), cancel=cancel, on_progress=progress)
    assert list(tmp_path.iterdir()) == []


def test_bad_inputs_fail_before_the_slow_parts(tmp_path: Path) -> None:
    with pytest.raises(ClipOutputError, match="does not accept new files"):
        render_text_clip("Hi.", CartoonAvatar(256), Path("/proc/visage-clip.mp4"), TTSSettings())
    with pytest.raises(ConfigError, match="no text"):
        render_text_clip("  ", CartoonAvatar(256), tmp_path / "a.mp4", TTSSettings())
    with pytest.raises(ModelError) as err:
        render_text_clip("Hi.", CartoonAvatar(256), tmp_path / "a.mp4", TTSSettings(voice=str(tmp_path / "no.onnx")))
    assert err.value.hint and list(tmp_path.iterdir()) == []


def test_the_avatar_from_settings_falls_back_visibly(tmp_path: Path) -> None:
    plain = avatar_from_settings(AvatarSettings())
    assert isinstance(plain.renderer, CartoonAvatar) and plain.notices == []
    broken = avatar_from_settings(AvatarSettings(renderer="photo", photo_folder=str(tmp_path / "gone")))
    assert isinstance(broken.renderer, CartoonAvatar)
    assert "could not be loaded" in broken.notices[0] and "default character" in broken.notices[0]
    unset = avatar_from_settings(AvatarSettings(renderer="photo"))
    assert isinstance(unset.renderer, CartoonAvatar) and "Use my photo" in unset.notices[0]
