"""`visage render` end to end: real Piper speech, the photo avatar, an MP4 decoded with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner, Result

from app.cli import cli
from engines.models import face_model_path, patched_voice_path

ASTRONAUT = Path(__file__).resolve().parents[2] / "assets" / "avatars" / "astronaut" / "astronaut.png"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISAGE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("VISAGE_DATA_DIR", raising=False)


def run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "render", *args])


def test_render_writes_a_talking_photo(tmp_path: Path) -> None:
    if not (patched_voice_path("joe").is_file() and face_model_path().is_file()):
        pytest.fail("models are missing: run `visage setup-models` (scripts/setup.sh)")
    out = tmp_path / "clip.mp4"
    result = run(tmp_path, "--text", "Hello! My bot maps the moon.", "--avatar", str(ASTRONAUT), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "mouth from phonemes" in result.output
    assert list((tmp_path / "data" / "avatars").glob("astronaut-*/face.json")), "avatar cached in the data folder"
    with av.open(str(out)) as container:
        kinds = sorted(s.type for s in container.streams)
        assert kinds == ["audio", "video"]
        vstream = container.streams.video[0]
        assert (vstream.codec_context.width, vstream.codec_context.height) == (512, 512)
        frames = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    with av.open(str(out)) as container:
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
        rate = container.streams.audio[0].sample_rate
    audio_s = len(pcm) / rate
    video_s = len(frames) / 30
    # the two sentences last ~2 s; the clip adds 0.3 s of idle before and after
    assert 1.5 < audio_s < 4.5 and abs(video_s - audio_s) < 0.1
    loud = np.abs(pcm[: int(0.25 * rate)]).max()
    assert loud < 0.02 < np.abs(pcm).max(), "silent lead-in, then speech"
    # the mouth moves: around the mouth frames vary far more than on the forehead (idle drift only)
    stack = np.stack(frames).astype(np.float32)
    mouth = float(stack[:, 220:320, 190:320].std(axis=0).mean())
    forehead = float(stack[:, 60:160, 190:320].std(axis=0).mean())
    assert mouth > 3.0 * forehead, (mouth, forehead)


def test_not_a_photo_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "me.jpg"
    bad.write_text("not an image")
    result = run(tmp_path, "--text", "Hi.", "--avatar", str(bad), "--out", str(tmp_path / "c.mp4"))
    assert result.exit_code == 2
    assert "not an image" in result.output and "default avatar" in result.output
    assert not (tmp_path / "c.mp4").exists()


def test_unwritable_output_is_a_clear_error(tmp_path: Path) -> None:
    result = run(tmp_path, "--text", "Hi.", "--out", str(tmp_path / "missing" / "c.mp4"))
    assert result.exit_code != 0
    assert "does not exist" in result.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--mouth-points", "1,2,3"], "six numbers"),
        (["--mouth-points", "1,2,3,4,5,6"], "needs --avatar"),
        (["--text", "   "], "empty"),
    ],
)
def test_bad_options_are_clear_errors(tmp_path: Path, args: list[str], needle: str) -> None:
    base = {"--text": "Hi.", "--out": str(tmp_path / "c.mp4")}
    extra = dict(zip(args[::2], args[1::2], strict=True))
    merged = [x for k, v in {**base, **extra}.items() for x in (k, v)]
    result = run(tmp_path, *merged)
    assert result.exit_code == 2, result.output
    assert needle in result.output
