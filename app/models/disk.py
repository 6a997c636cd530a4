"""Disk space for models: the free-space check made before writing, the disk-full error, and deleting. Qt-free.

Used by the model manager (copies), the downloader and the archive extraction alike, so that every
way of putting a model on disk refuses early with the same message when space is short, and says the
same thing when the disk fills up while writing.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from app.core.errors import StorageError

#: kept free beyond the download itself (the OS, the database, the app's logs)
DISK_MARGIN_BYTES = 64 * 1024 * 1024


class DiskSpaceError(StorageError):
    """Not enough free space for a model (checked before starting, or the disk filled up while writing)."""


def is_full_disk(err: OSError) -> bool:
    """Whether ``err`` means the disk (or the user's quota) is full."""
    return err.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def disk_full(where: Path, err: OSError | None = None) -> DiskSpaceError:
    """The error to raise when writing under ``where`` ran out of space."""
    what = f" ({err.strerror})" if err is not None and err.strerror else ""
    return DiskSpaceError(
        f"The disk holding {where} is full{what}.",
        hint="Free some space (or set VISAGE_MODELS_DIR to a bigger disk) and run the same command again: "
        "a download resumes where it stopped.",
    )


def check_disk_space(needed: int, where: Path) -> None:
    """Raise :class:`DiskSpaceError` unless ``where`` (or its nearest existing parent) has ``needed`` bytes
    free plus :data:`DISK_MARGIN_BYTES`."""
    probe = where
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed + DISK_MARGIN_BYTES:
        raise DiskSpaceError(
            f"Not enough free space in {where}: the model needs {needed / 1e6:,.1f} MB "
            f"(+{DISK_MARGIN_BYTES // 2**20} MB spare), {free / 1e6:,.1f} MB are free.",
            hint="Free some space or set VISAGE_MODELS_DIR to a folder on a bigger disk. Nothing was written.",
        )


def tree_size(path: Path) -> int:
    """Bytes in a file, or in every file under a folder."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def discard(path: Path) -> None:
    """Delete a file, link or folder if it is there (never raises for a missing one)."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
