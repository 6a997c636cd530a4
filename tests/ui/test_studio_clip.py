"""The studio's "Render clip…" on the real Piper voice: a card's variant becomes an MP4 of the user's
avatar (a real photo avatar here) with speech, made off the Qt thread with progress; Cancel stops it;
a bad output path is explained in the panel; a photo avatar that cannot load falls back visibly."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from app.core.config import AvatarSettings, Settings
from app.store import Store
from app.store.drafts import DraftStore
from app.studio import Brief, evaluate
from app.studio.library import save_variants
from app.ui.studio import StudioPanel
from engines.avatar.character import CartoonAvatar
from engines.avatar.visemes import REST
from tests.ui.studio_window import open_studio

pytestmark = pytest.mark.real_models

ASTRONAUT = Path(__file__).resolve().parents[2] / "assets" / "avatars" / "astronaut" / "astronaut.png"
SLOGAN = Brief(type="slogan", product="Brightside Coffee", keywords=["coffee"])
SAID = "Fresh coffee, every single morning."
SCRIPT = Brief(type="video-script", product="Nimbus desk lamp", duration_s=30)
SCRIPT_FIELDS = {"hook": "Tired eyes after a long day?",
                 "script": "Meet the Nimbus desk lamp. Warm light you can adjust for reading, writing or calls. "
                           "It even charges your phone while you work.",
                 "cta": "Visit our site today."}


def open_with_card(qtbot: Any, data_dir: Path, brief: Brief, fields: dict[str, Any],
                   settings: Settings | None = None) -> StudioPanel:
    with Store(data_dir / "visage.db") as store:
        [draft] = save_variants(DraftStore(store), brief, [evaluate(fields, brief)])
    window = open_studio(qtbot, data_dir, settings)
    studio: StudioPanel = window.workspace.studio
    studio.open_draft(draft)
    qtbot.waitUntil(lambda: len(studio.cards) == 1, timeout=15_000)
    return studio


def choose_path(monkeypatch: pytest.MonkeyPatch, path: Path | str) -> list[str]:
    """The save dialog answers ``path``; returns the folders it was opened on."""
    asked: list[str] = []

    def dialog(parent: Any, title: str, start: str, filters: str) -> tuple[str, str]:
        asked.append(start)
        return str(path), filters.split(";;")[0]

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    return asked


def watch_qt_thread(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the voice/avatar/clip calls made on the Qt thread (should stay empty)."""
    import app.avatar_clip
    import engines.avatar.clip
    import engines.tts.piper

    qt_thread = threading.main_thread()
    seen: list[str] = []
    for owner, name in ((engines.tts.piper.PiperTTS, "__init__"), (engines.tts.piper.PiperTTS, "synthesize"),
                        (engines.avatar.clip, "render_clip"), (engines.avatar.clip, "check_output"),
                        (app.avatar_clip, "avatar_from_settings"), (app.avatar_clip, "render_text_clip")):
        original = getattr(owner, name)

        def wrapper(*args: Any, __fn: Any = original, __name: str = name, **kwargs: Any) -> Any:
            if threading.current_thread() is qt_thread:
                seen.append(__name)
            return __fn(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)
    return seen


def decode(path: Path) -> tuple[int, float, np.ndarray, int, float, np.ndarray]:
    """(video frames, video seconds, first frame BGR, audio rate, audio seconds, audio samples)."""
    with av.open(str(path)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "h264" and audio.codec_context.name == "aac"
        fps = float(video.average_rate)
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
        rate = container.streams.audio[0].sample_rate
    return len(frames), len(frames) / fps, frames[0], rate, pcm.size / rate, pcm


def test_a_card_becomes_a_clip_of_the_users_photo_avatar(qtbot, ui_env: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from engines.avatar.photo import create_photo_avatar, load_photo_avatar
    from engines.models import face_model_path
    from engines.tts.piper import PiperTTS

    if not face_model_path().is_file():
        pytest.fail("the face models are missing: run `visage setup-models` (scripts/setup.sh)")
    record = create_photo_avatar(ASTRONAUT, tmp_path / "avatars" / "astronaut")
    settings = Settings(avatar=AvatarSettings(renderer="photo", photo_folder=str(record.folder)))
    studio = open_with_card(qtbot, ui_env, SLOGAN, {"slogan": SAID}, settings)
    out = tmp_path / "clips" / "coffee.mp4"
    out.parent.mkdir()
    asked = choose_path(monkeypatch, out)
    on_qt_thread = watch_qt_thread(monkeypatch)
    opened: list[str] = []
    monkeypatch.setattr("app.ui.studio.clip_bar.QDesktopServices.openUrl",
                        lambda url: opened.append(url.toLocalFile()) or True)
    progress: list[int] = []

    card = studio.cards[0]
    qtbot.mouseClick(card.render_button, Qt.MouseButton.LeftButton)
    assert asked and asked[0].endswith("brightside-coffee-slogan-1.mp4")
    assert studio.clip_bar.isVisible() and studio.clip_progress.isVisible() and studio.clip_cancel.isVisible()
    assert studio.clip_job is not None
    studio.clip_job.sig_progress.connect(lambda _item: progress.append(studio.clip_progress.value()))
    qtbot.waitUntil(lambda: studio.clip_job is not None and studio.clip_job.finished, timeout=120_000)

    assert studio.clip_label.text().startswith(f"Clip saved: {out} ("), studio.clip_label.text()
    assert "your photo avatar" in studio.clip_label.text() and not studio.clip_notice.isVisible()
    assert not studio.clip_progress.isVisible() and not studio.clip_cancel.isVisible()
    assert progress == sorted(progress) and progress[-1] == 1000 and len(set(progress)) > 5
    assert on_qt_thread == [], f"clip work on the Qt thread: {on_qt_thread}"

    # the file plays: H.264 video and AAC audio, as long as the speech plus the idle padding
    info = studio.last_clip
    frames, video_s, first, rate, audio_s, pcm = decode(out)
    assert frames == info.frames and abs(video_s - info.duration_s) < 1 / 30 + 1e-6
    assert abs(audio_s - info.duration_s) < 0.05  # AAC pads at most a frame or two
    speech_s = info.audio_duration_s
    alone = PiperTTS(settings.tts)  # the same words said again (Piper's timing varies a little per run)
    again = sum(c.pcm.size / c.sample_rate for c in alone.synthesize(SAID))
    assert 1.2 < speech_s < 5.0 and abs(speech_s - again) < 0.25 * again
    assert abs(info.duration_s - (speech_s + 2 * info.pad_s)) < 0.01
    voiced = pcm[int(info.pad_s * rate): int((info.pad_s + speech_s) * rate)]
    assert np.sqrt(np.mean(voiced**2)) > 0.02, "the speech is missing from the clip"
    # the user's avatar, not the default character
    photo = load_photo_avatar(record.folder).render(REST, 0.0)
    cartoon = CartoonAvatar(512).render(REST, 0.0)
    assert np.abs(first.astype(int) - photo).mean() < 8 < np.abs(first.astype(int) - cartoon).mean()

    qtbot.mouseClick(studio.clip_open, Qt.MouseButton.LeftButton)
    assert opened == [str(out.parent)]


def test_a_video_script_clip_can_be_cancelled(qtbot, ui_env: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    studio = open_with_card(qtbot, ui_env, SCRIPT, SCRIPT_FIELDS)
    out = tmp_path / "clips" / "script.mp4"
    out.parent.mkdir()
    choose_path(monkeypatch, out)
    qtbot.mouseClick(studio.cards[0].render_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Drawing frame" in studio.clip_label.text(), timeout=60_000)
    qtbot.mouseClick(studio.clip_cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: studio.clip_job is not None and studio.clip_job.finished, timeout=30_000)
    assert studio.clip_label.text() == "Clip cancelled; no file was written."
    assert list(out.parent.iterdir()) == []  # neither the clip nor its partial file


@pytest.mark.parametrize(("bad", "says"), [
    ("/proc/visage-clip.mp4", ["/proc does not accept new files", "Choose a folder you can write to"]),
    ("/no-such-root/clips/x.mp4", ["the folder /no-such-root/clips does not exist", "mkdir -p"]),
    ("{tmp}/clip.gif", ["unknown file type '.gif'", "Name the file with .mp4"]),
])
def test_a_bad_output_path_is_explained_in_the_panel(qtbot, ui_env: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                     monkeypatch: pytest.MonkeyPatch, bad: str,
                                                     says: list[str]) -> None:
    studio = open_with_card(qtbot, ui_env, SLOGAN, {"slogan": SAID})
    choose_path(monkeypatch, bad.format(tmp=tmp_path))
    qtbot.mouseClick(studio.cards[0].render_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: studio.clip_job is not None and studio.clip_job.finished, timeout=30_000)
    text = studio.clip_label.text()
    assert text.startswith("The clip was not made. ") and all(s in text for s in says), text
    assert "c0392b" in studio.clip_label.styleSheet() and not studio.clip_open.isVisible()
    assert studio.last_clip is None and not (tmp_path / "clip.gif").exists()


def test_a_photo_avatar_that_cannot_load_falls_back_with_a_notice(qtbot, ui_env: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(avatar=AvatarSettings(renderer="photo", photo_folder=str(tmp_path / "deleted-avatar")))
    studio = open_with_card(qtbot, ui_env, SLOGAN, {"slogan": "Hello."}, settings)
    out = tmp_path / "hello.mp4"
    choose_path(monkeypatch, out)
    qtbot.mouseClick(studio.cards[0].render_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: studio.clip_job is not None and studio.clip_job.finished, timeout=120_000)
    assert out.is_file() and "the default character" in studio.clip_label.text()
    assert studio.clip_notice.isVisible()
    assert "Your photo avatar could not be loaded, so the clip shows the default character" in studio.clip_notice.text()
