"""The model manager against a real HTTP server on loopback: resume, checksum, disk space, cancel,
adding from disk with the engines' validators, removing."""

from __future__ import annotations

import io
import tarfile
import threading
from collections import namedtuple
from pathlib import Path

import pytest

from app.core.errors import Cancelled, ModelError, NotFoundError
from app.models import disk
from app.models.disk import DiskSpaceError
from app.models.download import ChecksumError, DownloadError
from app.models.manager import ModelManager
from tests.models.conftest import ModelServer, fake_gguf, make_voice, make_whisper_dir, sha, voice_json

MB = 1024 * 1024


@pytest.fixture
def manager(tmp_path: Path) -> ModelManager:
    return ModelManager(tmp_path / "models", timeout_s=10)


def test_interrupted_download_resumes_with_a_range_request(manager: ModelManager, model_server: ModelServer) -> None:
    data = fake_gguf()
    url = model_server.put("/m/tiny-chat.gguf", data, cut_after=int(1.5 * MB))
    with pytest.raises(DownloadError) as err:
        manager.download(url, "llm", sha256=sha(data))
    assert err.value.retryable and "resume" in (err.value.hint or "")
    part = manager.downloads_dir / "tiny-chat.gguf.part"
    assert part.stat().st_size == int(1.5 * MB)
    assert not manager.user_models()  # nothing half-downloaded is listed

    seen: list[tuple[int, int | None]] = []
    model = manager.download(url, "llm", sha256=sha(data), progress=lambda d, t: seen.append((d, t)))

    assert model_server.requests[-1][1] == f"bytes={int(1.5 * MB)}-"  # asked only for the rest
    assert model_server.requests[-1][2] is not None  # with If-Range
    assert model.path.read_bytes() == data and model.source == "user" and model.role == "llm"
    assert seen[0] == (int(1.5 * MB), len(data)) and seen[-1] == (len(data), len(data))
    assert not part.exists() and not list(manager.downloads_dir.glob("*.part*"))
    assert [m.name for m in manager.list() if m.source == "user"] == ["tiny-chat"]


def test_a_file_changed_on_the_server_restarts_instead_of_splicing(
        manager: ModelManager, model_server: ModelServer) -> None:
    old = fake_gguf(seed=1)
    url = model_server.put("/m/x.gguf", old, cut_after=MB)
    with pytest.raises(DownloadError):
        manager.download(url, "llm")
    new = fake_gguf(seed=2)
    model_server.put("/m/x.gguf", new)  # new ETag: If-Range makes the server send the whole file
    model = manager.download(url, "llm", sha256=sha(new))
    assert model.path.read_bytes() == new


def test_server_without_range_support_restarts_from_zero(manager: ModelManager, model_server: ModelServer) -> None:
    data = fake_gguf()
    model_server.support_ranges = False
    url = model_server.put("/m/y.gguf", data, cut_after=MB)
    with pytest.raises(DownloadError):
        manager.download(url, "llm")
    model = manager.download(url, "llm", sha256=sha(data))
    assert model.path.read_bytes() == data


def test_wrong_checksum_is_refused_and_deleted(manager: ModelManager, model_server: ModelServer) -> None:
    data = fake_gguf()
    url = model_server.put("/m/bad.gguf", data)
    with pytest.raises(ChecksumError) as err:
        manager.download(url, "llm", sha256="0" * 64)
    assert sha(data) in err.value.message
    assert not (manager.user_dir("llm") / "bad.gguf").exists()
    assert not list(manager.downloads_dir.glob("bad.gguf*"))


def test_wrong_checksum_after_a_resume_is_caught_too(manager: ModelManager, model_server: ModelServer) -> None:
    data = fake_gguf()
    url = model_server.put("/m/r.gguf", data, cut_after=MB)
    with pytest.raises(DownloadError):
        manager.download(url, "llm", sha256=sha(data))
    part = manager.downloads_dir / "r.gguf.part"
    with part.open("r+b") as fh:  # the first part got damaged on disk
        fh.seek(100)
        fh.write(b"XXXX")
    with pytest.raises(ChecksumError):
        manager.download(url, "llm", sha256=sha(data))
    assert not part.exists()


def test_not_enough_disk_space_stops_before_writing(
        manager: ModelManager, model_server: ModelServer, monkeypatch: pytest.MonkeyPatch) -> None:
    data = fake_gguf()
    url = model_server.put("/m/big.gguf", data)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda _p: usage(10 * MB, 9 * MB, 1 * MB))
    with pytest.raises(DiskSpaceError) as err:
        manager.download(url, "llm")
    assert "Not enough free space" in err.value.message and "Nothing was written" in (err.value.hint or "")
    assert not list(manager.downloads_dir.glob("big.gguf*.part"))


def test_cancel_keeps_the_part_for_a_resume(manager: ModelManager, model_server: ModelServer) -> None:
    data = fake_gguf()
    url = model_server.put("/m/c.gguf", data)
    cancel = threading.Event()

    def progress(done: int, total: int | None) -> None:
        if done >= MB:
            cancel.set()

    with pytest.raises(Cancelled):
        manager.download(url, "llm", progress=progress, cancel=cancel)
    part = manager.downloads_dir / "c.gguf.part"
    assert MB <= part.stat().st_size < len(data)
    model = manager.download(url, "llm", sha256=sha(data))
    assert model.path.read_bytes() == data
    assert model_server.requests[-1][1] is not None  # resumed, not restarted


def test_plain_http_is_refused_except_on_loopback(manager: ModelManager) -> None:
    with pytest.raises(ModelError, match="plain http"):
        manager.download("http://example.com/model.gguf", "llm")
    with pytest.raises(ModelError, match="not an http"):
        manager.download("file:///etc/passwd", "llm")


def test_http_errors_say_what_happened(manager: ModelManager, model_server: ModelServer) -> None:
    with pytest.raises(DownloadError, match="404"):
        manager.download(model_server.base + "/missing.gguf", "llm")


def test_a_download_that_is_not_a_model_is_rejected(manager: ModelManager, model_server: ModelServer) -> None:
    url = model_server.put("/m/page.gguf", b"<html>login page</html>")
    with pytest.raises(ModelError, match="not a GGUF"):
        manager.download(url, "llm")
    assert not manager.user_models()


def test_voice_download_fetches_the_json_beside_it(manager: ModelManager, model_server: ModelServer,
                                                   tmp_path: Path) -> None:
    onnx = make_voice(tmp_path / "src")
    url = model_server.put("/v/en_GB-test-medium.onnx", onnx.read_bytes())
    model_server.put("/v/en_GB-test-medium.onnx.json", voice_json())
    model = manager.download(url, "tts", sha256=sha(onnx.read_bytes()))
    assert model.path.name == "en_GB-test-medium.onnx" and Path(f"{model.path}.json").is_file()
    assert [m.name for m in manager.user_models("tts")] == ["en_GB-test-medium"]


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_whisper_archive_is_extracted_and_validated(manager: ModelManager, model_server: ModelServer,
                                                    tmp_path: Path) -> None:
    src = make_whisper_dir(tmp_path / "w")
    archive = _tar_gz({f"whisper-small/{p.name}": p.read_bytes() for p in src.iterdir()})
    url = model_server.put("/a/whisper-small.tar.gz", archive)
    model = manager.download(url, "asr", sha256=sha(archive))
    assert model.name == "whisper-small" and (model.path / "model.bin").is_file()
    assert not list(manager.downloads_dir.iterdir())

    evil = _tar_gz({"../escape/model.bin": b"x", "config.json": b"{}"})
    url = model_server.put("/a/evil.tar.gz", evil)
    with pytest.raises(ModelError, match="unsafe path"):
        manager.download(url, "asr")
    assert not (manager.user_dir("asr").parent / "escape").exists()


def test_add_from_disk_validates_copies_and_lists(manager: ModelManager, tmp_path: Path) -> None:
    gguf = tmp_path / "my-model.gguf"
    gguf.write_bytes(fake_gguf())
    whisper = make_whisper_dir(tmp_path / "faster-whisper-small")
    voice = make_voice(tmp_path / "voices")

    added = [manager.add(gguf), manager.add(whisper), manager.add(voice)]

    assert [(m.role, m.name, m.source) for m in added] == [
        ("llm", "my-model", "user"), ("asr", "faster-whisper-small", "user"), ("tts", "en_GB-test-medium", "user")]
    assert (manager.user_dir("llm") / "my-model.gguf").read_bytes() == gguf.read_bytes()
    assert Path(f"{manager.user_dir('tts') / voice.name}.json").is_file()
    listed = {(m.role, m.name) for m in manager.list() if m.source == "user"}
    assert listed == {("llm", "my-model"), ("asr", "faster-whisper-small"), ("tts", "en_GB-test-medium")}
    with pytest.raises(ModelError, match="already installed"):
        manager.add(gguf)


def test_add_refuses_what_would_not_load(manager: ModelManager, tmp_path: Path) -> None:
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_bytes(b"hello" * 2_000_000)
    with pytest.raises(ModelError, match="not a GGUF"):
        manager.add(not_gguf)
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(b"GGUF" + b"\0" * 1000)
    with pytest.raises(ModelError, match="truncated"):
        manager.add(truncated)
    half_whisper = tmp_path / "half"
    half_whisper.mkdir()
    (half_whisper / "model.bin").write_bytes(b"x")
    with pytest.raises(ModelError, match=r"config\.json"):
        manager.add(half_whisper)
    voice = make_voice(tmp_path / "v")
    Path(f"{voice}.json").write_text('{"audio": {}}')
    with pytest.raises(ModelError, match="sample_rate"):
        manager.add(voice)
    assert not manager.user_models()


def test_remove_deletes_user_models_only(manager: ModelManager, tmp_path: Path) -> None:
    voice = make_voice(tmp_path / "voices")
    manager.add(voice)
    removed = manager.remove("en_GB-test-medium")
    assert not removed.path.exists() and not Path(f"{removed.path}.json").exists()
    with pytest.raises(NotFoundError):
        manager.remove("en_GB-test-medium")
    shipped = [m for m in manager.list() if m.source == "shipped"]
    if shipped:
        with pytest.raises(ModelError, match="cannot be removed"):
            manager.remove(shipped[0].name)
        assert shipped[0].path.exists()
