from pathlib import Path

import pytest

from app.core.errors import StorageError
from app.core.files import write_text_atomic


def test_writes_the_text(tmp_path: Path) -> None:
    path = write_text_atomic(tmp_path / "out.md", "héllo")
    assert path.read_text(encoding="utf-8") == "héllo"
    assert not (tmp_path / "out.md.part").exists()


def test_failure_is_a_storage_error_and_leaves_the_old_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="Cannot write") as err:
        write_text_atomic(blocker / "out.md", "text")  # a folder that is a file
    assert err.value.hint
    target = tmp_path / "kept.md"
    target.write_text("old")
    (tmp_path / "kept.md.part").mkdir()  # the temporary name cannot be written
    with pytest.raises(StorageError):
        write_text_atomic(target, "new")
    assert target.read_text() == "old"


def test_wav_output_under_a_file_is_a_storage_error(tmp_path: Path) -> None:
    import numpy as np

    from app.core.audio_io import write_wav

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="Cannot write"):
        write_wav(blocker / "reply.wav", np.zeros(100, np.float32), 16_000)
