"""Model downloads cannot be steered or made to fill the disk: every redirect hop must be https (or this
computer), archives are bounded in their unpacked size, and tar archives unpack without ``tarfile``'s
extraction filters (Python 3.11.0-3.11.3 have none)."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections import namedtuple
from pathlib import Path

import pytest

from app.core.errors import ModelError
from app.models import archive as archive_mod
from app.models import disk
from app.models.disk import DiskSpaceError
from app.models.manager import ModelManager
from tests.models.conftest import ModelServer, fake_gguf, make_whisper_dir, sha

MB = 1024 * 1024


@pytest.fixture
def manager(tmp_path: Path) -> ModelManager:
    return ModelManager(tmp_path / "models", timeout_s=10)


def _nothing_installed(manager: ModelManager) -> bool:
    leftovers = [p for p in manager.root.rglob("*") if p.is_file() and p.suffix != ".json"]
    return not manager.user_models() and not leftovers


def test_a_redirect_to_plain_http_is_refused_before_it_is_followed(manager: ModelManager,
                                                                   model_server: ModelServer) -> None:
    model_server.redirects["/m/chat.gguf"] = "http://models.example.invalid/chat.gguf"
    with pytest.raises(ModelError, match="redirect to plain http") as err:
        manager.download(model_server.base + "/m/chat.gguf", "llm")
    assert "https://" in (err.value.hint or "")
    assert _nothing_installed(manager)


def test_a_redirect_on_this_computer_is_followed(manager: ModelManager, model_server: ModelServer) -> None:
    data = fake_gguf()
    real = model_server.put("/files/chat.gguf", data)
    model_server.redirects["/m/chat.gguf"] = real
    model = manager.download(model_server.base + "/m/chat.gguf", "llm", sha256=sha(data))
    assert model.path.read_bytes() == data
    assert [r[0] for r in model_server.requests] == ["/m/chat.gguf", "/files/chat.gguf"]


def _whisper_zip(tmp_path: Path, padding: int) -> bytes:
    src = make_whisper_dir(tmp_path / "w")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in src.iterdir():
            zf.writestr(f"whisper-bomb/{p.name}", p.read_bytes())
        zf.writestr("whisper-bomb/padding.bin", b"\0" * padding)  # compresses a thousandfold
    return buf.getvalue()


def test_a_zip_that_unpacks_past_the_cap_is_refused_before_writing(manager: ModelManager, model_server: ModelServer,
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_mod, "MAX_UNPACKED_BYTES", 8 * MB)  # the real cap is 16 GB; the same check, scaled down
    archive = _whisper_zip(tmp_path, 40 * MB)
    assert len(archive) < MB
    url = model_server.put("/a/whisper-bomb.zip", archive)
    with pytest.raises(ModelError, match="would unpack to"):
        manager.download(url, "asr", sha256=sha(archive))
    assert _nothing_installed(manager)
    assert not list(manager.user_dir("asr").glob(".extract-*"))


def test_a_zip_bigger_than_the_free_space_is_refused(manager: ModelManager, model_server: ModelServer,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = _whisper_zip(tmp_path, 40 * MB)
    url = model_server.put("/a/whisper-bomb.zip", archive)
    usage = namedtuple("usage", "total used free")
    free = disk.DISK_MARGIN_BYTES + 10 * MB  # room for the archive, not for what it unpacks to
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda _: usage(10**12, 10**12 - free, free))
    with pytest.raises(DiskSpaceError, match="Not enough free space"):
        manager.download(url, "asr")
    assert _nothing_installed(manager)


def _tar_gz(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o4777  # setuid, world-writable: not kept
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.LNKTYPE
            info.linkname = target
            tf.addfile(info)
    return buf.getvalue()


def test_tar_archives_unpack_on_a_python_without_extraction_filters(manager: ModelManager, model_server: ModelServer,
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Python 3.11.0-3.11.3: TarFile.extractall has no `filter` argument and tarfile has no data_filter
    original = tarfile.TarFile.extractall

    def old_extractall(self: tarfile.TarFile, path: str = ".", members: object = None, *,
                       numeric_owner: bool = False) -> None:
        original(self, path, members, numeric_owner=numeric_owner, filter="fully_trusted")  # type: ignore[arg-type]

    monkeypatch.setattr(tarfile.TarFile, "extractall", old_extractall)
    monkeypatch.delattr(tarfile, "data_filter")
    src = make_whisper_dir(tmp_path / "w")
    archive = _tar_gz({f"whisper-tar/{p.name}": p.read_bytes() for p in src.iterdir()})
    model = manager.download(model_server.put("/a/whisper-tar.tar.gz", archive), "asr", sha256=sha(archive))
    assert (model.path / "model.bin").read_bytes() == (src / "model.bin").read_bytes()
    assert all(p.stat().st_mode & 0o7777 == 0o644 for p in model.path.iterdir())

    linked = _tar_gz({"whisper-link/config.json": b"{}"}, links={"whisper-link/model.bin": "/etc/passwd"})
    with pytest.raises(ModelError, match="link"):
        manager.download(model_server.put("/a/whisper-link.tar.gz", linked), "asr")
    assert not (manager.user_dir("asr") / "whisper-link").exists()
