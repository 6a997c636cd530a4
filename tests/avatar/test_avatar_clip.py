"""render_clip: a playable MP4 with the speech audio, and a mouth that leads the audio by 0–40 ms.

The sync check decodes the written file like a player would (PyAV, timestamps from the container),
measures how open the mouth is in each video frame (pixel difference in ``mouth_region()`` against a
closed-mouth frame at the same time) and cross-correlates that curve with the decoded audio's RMS
envelope over lags of ±150 ms at 1 ms steps. Tolerance, stated honestly: frames are 1/fps apart, so
we allow half a frame (±16.7 ms at 30 fps) around the claimed 0–40 ms window; because the syllables
fall on every phase of the frame grid, the estimate in practice lands within ~2 ms of the set lead.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest

from engines.avatar.character import CartoonAvatar
from engines.avatar.clip import MAX_LEAD_S, render_clip
from engines.avatar.errors import AvatarConfigError, ClipOutputError, LipSyncInputError
from engines.avatar.visemes import CLOSED, MouthParams
from engines.base import AudioChunk
from tests.avatar.synth import syllables

FPS = 30
HALF_FRAME = 0.5 / FPS


@pytest.fixture(scope="module")
def renderer() -> CartoonAvatar:
    return CartoonAvatar(256)


def decode(path: Path) -> tuple[list[tuple[float, np.ndarray]], np.ndarray, int, float]:
    """Video frames as (time, BGR image), mono audio samples, sample rate, audio start time."""
    with av.open(str(path)) as container:
        frames = [(float(f.pts * f.time_base), f.to_ndarray(format="bgr24")) for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        pieces, start, rate = [], None, 0
        for f in container.decode(audio=0):
            if start is None:
                start, rate = float(f.pts * f.time_base), f.sample_rate
            pieces.append(f.to_ndarray().reshape(-1))
    assert start is not None, "no audio decoded"
    return frames, np.concatenate(pieces), rate, start


def measured_lead(path: Path, renderer: CartoonAvatar) -> tuple[float, float]:
    """(lag in s by which the mouth curve leads the audio envelope, correlation at that lag)."""
    frames, audio, rate, start = decode(path)
    x, y, w, h = renderer.mouth_region()
    times = np.array([t for t, _ in frames])
    opening = np.array(
        [
            np.abs(img[y : y + h, x : x + w].astype(np.int16) - renderer.render(CLOSED, t)[y : y + h, x : x + w]).mean()
            for t, img in frames
        ]
    )
    hop = rate // 1000
    win = 20 * hop
    sq = np.concatenate([[0.0], np.cumsum(audio.astype(np.float64) ** 2)])
    centres = np.arange(len(audio) // hop) * hop
    lo = np.clip(centres - win // 2, 0, len(audio))
    hi = np.clip(centres + win // 2, 0, len(audio))
    envelope = np.sqrt((sq[hi] - sq[lo]) / np.maximum(hi - lo, 1))
    env_times = start + centres / rate
    lags = np.arange(-150, 151) / 1000.0
    scores = [np.corrcoef(opening, np.interp(times + lag, env_times, envelope))[0, 1] for lag in lags]
    best = int(np.argmax(scores))
    return float(lags[best]), float(scores[best])


def test_clip_has_audio_video_and_the_right_length(tmp_path: Path, renderer: CartoonAvatar) -> None:
    speech = syllables(4)
    out = tmp_path / "reply.mp4"
    info = render_clip([speech], renderer, out, fps=FPS, pad_s=0.3)
    assert out.is_file()
    assert not list(tmp_path.glob(".*partial"))
    assert info.source == "phonemes"
    assert info.audio_duration_s == pytest.approx(speech.duration)
    assert info.duration_s == pytest.approx(speech.duration + 0.6)
    with av.open(str(out)) as container:
        (video,) = container.streams.video
        (audio,) = container.streams.audio
        assert video.codec_context.name == "h264"
        assert (video.width, video.height) == (256, 256)
        assert audio.codec_context.name == "aac"
        assert audio.sample_rate == speech.sample_rate
        container_s = container.duration / av.time_base
    frames, samples, rate, start = decode(out)
    assert container_s == pytest.approx(speech.duration + 0.6, abs=1.0 / FPS)
    assert len(frames) == info.frames
    assert abs(len(frames) - FPS * info.duration_s) <= 1
    assert start == pytest.approx(0.0, abs=1e-3)
    assert len(samples) / rate == pytest.approx(info.duration_s, abs=0.05)
    # the decoded audio is our speech: loud in the middle, silent in the padding
    assert np.abs(samples[: int(0.25 * rate)]).max() < 0.01
    assert np.sqrt(np.mean(samples[int(0.3 * rate) : int((0.3 + speech.duration) * rate)] ** 2)) > 0.05


@pytest.mark.parametrize("lead_s", [0.020, MAX_LEAD_S])
def test_video_leads_audio_by_0_to_40_ms(tmp_path: Path, renderer: CartoonAvatar, lead_s: float) -> None:
    out = tmp_path / "sync.mp4"
    render_clip([syllables(8)], renderer, out, fps=FPS, lead_s=lead_s)
    lead, score = measured_lead(out, renderer)
    assert score > 0.8, "mouth opening does not follow the audio at all"
    assert -HALF_FRAME <= lead <= MAX_LEAD_S + HALF_FRAME
    assert lead == pytest.approx(lead_s, abs=HALF_FRAME)


def test_sync_measurement_catches_a_late_mouth(tmp_path: Path, renderer: CartoonAvatar) -> None:
    """Control: timings 120 ms late (a mis-aligned TTS) must be measured as video lagging ~100 ms."""
    out = tmp_path / "late.mp4"
    render_clip([syllables(8, timing_shift_s=0.120)], renderer, out, fps=FPS, lead_s=0.020)
    lead, _ = measured_lead(out, renderer)
    assert lead == pytest.approx(-0.100, abs=HALF_FRAME)
    assert lead < -HALF_FRAME


def test_chunks_without_timings_use_energy_and_say_so(tmp_path: Path, renderer: CartoonAvatar) -> None:
    speech = syllables(3)
    bare = AudioChunk(speech.pcm, speech.sample_rate, speech.text, None)
    info = render_clip([bare, bare], renderer, tmp_path / "energy.mp4", fps=FPS)
    assert info.source == "energy"
    assert info.audio_duration_s == pytest.approx(2 * speech.duration)
    info = render_clip([speech, bare], renderer, tmp_path / "mixed.mp4", fps=FPS)
    assert info.source == "mixed"


def test_energy_driven_mouth_still_moves_with_the_audio(tmp_path: Path, renderer: CartoonAvatar) -> None:
    speech = syllables(8)
    out = tmp_path / "energy.mp4"
    render_clip([AudioChunk(speech.pcm, speech.sample_rate)], renderer, out, fps=FPS)
    lead, score = measured_lead(out, renderer)
    assert score > 0.6
    assert -HALF_FRAME <= lead <= MAX_LEAD_S + HALF_FRAME


def test_missing_folder_is_a_clear_error(tmp_path: Path, renderer: CartoonAvatar) -> None:
    with pytest.raises(ClipOutputError) as err:
        render_clip([syllables(1)], renderer, tmp_path / "no" / "such" / "dir" / "a.mp4")
    assert "mkdir" in str(err.value)


def test_file_in_place_of_a_folder_is_a_clear_error(tmp_path: Path, renderer: CartoonAvatar) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(ClipOutputError):
        render_clip([syllables(1)], renderer, blocker / "a.mp4")


def test_unknown_extension_is_refused(tmp_path: Path, renderer: CartoonAvatar) -> None:
    with pytest.raises(ClipOutputError) as err:
        render_clip([syllables(1)], renderer, tmp_path / "a.gif")
    assert ".mp4" in str(err.value)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_folder_is_a_clear_error(tmp_path: Path, renderer: CartoonAvatar) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ClipOutputError) as err:
            render_clip([syllables(1)], renderer, folder / "a.mp4")
        assert "permission" in str(err.value)
    finally:
        folder.chmod(0o700)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_location_the_system_refuses_is_a_clear_error(renderer: CartoonAvatar) -> None:
    # /proc passes the permission check even for root, then FFmpeg fails: that path is reported too
    with pytest.raises(ClipOutputError) as err:
        render_clip([syllables(1)], renderer, Path("/proc/visage-test.mp4"))
    assert "folder you can write to" in str(err.value)


def test_failure_midway_leaves_no_half_written_file(tmp_path: Path, renderer: CartoonAvatar) -> None:
    class Broken:
        size = renderer.size

        def __init__(self) -> None:
            self.calls = 0

        def render(self, mouth: MouthParams, t: float) -> np.ndarray:
            self.calls += 1
            if self.calls > 5:
                raise RuntimeError("renderer crashed")
            return renderer.render(mouth, t)

        def mouth_region(self) -> tuple[int, int, int, int]:
            return renderer.mouth_region()

    out = tmp_path / "broken.mp4"
    with pytest.raises(RuntimeError):
        render_clip([syllables(2)], Broken(), out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"lead_s": -0.01}, AvatarConfigError),
        ({"lead_s": 0.1}, AvatarConfigError),
        ({"fps": 0}, AvatarConfigError),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, renderer: CartoonAvatar, kwargs: dict, error: type) -> None:
    with pytest.raises(error) as err:
        render_clip([syllables(1)], renderer, tmp_path / "a.mp4", **kwargs)
    assert err.value.hint


def test_nothing_to_say_is_a_clear_error(tmp_path: Path, renderer: CartoonAvatar) -> None:
    with pytest.raises(LipSyncInputError) as err:
        render_clip([], renderer, tmp_path / "a.mp4")
    assert "TTS" in str(err.value)


def test_mixed_sample_rates_are_refused(tmp_path: Path, renderer: CartoonAvatar) -> None:
    with pytest.raises(LipSyncInputError) as err:
        render_clip([syllables(1), syllables(1, sample_rate=16000)], renderer, tmp_path / "a.mp4")
    assert "Hz" in str(err.value)


def test_missing_h264_encoder_says_how_to_fix() -> None:
    from app.core.errors import DependencyError
    from engines.avatar.clip import _h264_encoder

    assert _h264_encoder({"libopenh264", "aac"}) == "libopenh264"
    with pytest.raises(DependencyError) as err:
        _h264_encoder({"aac", "mpeg4"})
    assert "pip install" in str(err.value)
