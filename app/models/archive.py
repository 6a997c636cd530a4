"""Safe extraction of a model archive (a faster-whisper folder as ``.zip`` / ``.tar`` / ``.tar.gz`` …). Qt-free.

An archive from the internet is untrusted: :func:`extract` writes its members itself, plain files and
folders only (mode 0644/0755), after checking every name and the total size: no absolute paths, no
``..``, no links, devices or sparse files, at most :data:`MAX_ARCHIVE_MEMBERS` entries, the declared
unpacked size bounded by :data:`MAX_UNPACKED_BYTES` and checked against the free space first, then
enforced while writing (a header that lies about a member's size is caught). It does not rely on
``tarfile``'s extraction filters, which Python only has from 3.11.4.
"""

from __future__ import annotations

import functools
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from app.core.errors import ModelError
from app.models.disk import disk_full, is_full_disk

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
#: most bytes an archive may unpack to (large-v3 is ~3 GB): a zip bomb is refused before anything is written
MAX_UNPACKED_BYTES = 16 * 10**9
#: most entries in a model archive
MAX_ARCHIVE_MEMBERS = 10_000
#: bytes read and written at a time
CHUNK = 256 * 1024


def archive_stem(filename: str) -> str:
    """``filename`` without its archive suffix (``whisper-small.tar.gz`` -> ``whisper-small``)."""
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if filename.lower().endswith(suffix):
            return filename[: -len(suffix)]
    return filename


@dataclass(frozen=True)
class _Member:
    name: str
    is_dir: bool
    size: int
    open: Callable[[], IO[bytes]]


def _zip_members(zf: zipfile.ZipFile) -> list[_Member]:
    return [_Member(i.filename, i.is_dir(), i.file_size, functools.partial(zf.open, i)) for i in zf.infolist()]


def _tar_members(tf: tarfile.TarFile, archive: Path) -> list[_Member]:
    members = []
    for m in tf.getmembers():
        if not (m.isreg() or m.isdir()) or m.issparse():
            raise ModelError(f"{archive.name} contains a link, device or sparse file '{m.name}'.",
                             hint="Use an archive of plain files.")

        def opener(m: tarfile.TarInfo = m) -> IO[bytes]:
            stream = tf.extractfile(m)
            assert stream is not None  # a regular file always has one
            return stream

        members.append(_Member(m.name, m.isdir(), m.size, opener))
    return members


def _unpack(members: list[_Member], archive: Path, dest: Path, check_space: Callable[[int, Path], None]) -> None:
    """Writes the members under ``dest`` ourselves (plain files and folders, mode 0644/0755), after checking
    every name and the total size; no reliance on ``tarfile``'s extraction filters (Python >= 3.11.4 only)."""
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise ModelError(f"{archive.name} holds {len(members):,} entries; a model folder holds a handful.",
                         hint="Use an archive of one model folder.")
    total = sum(m.size for m in members if not m.is_dir)
    if total > MAX_UNPACKED_BYTES:
        raise ModelError(f"{archive.name} would unpack to {total / 1e9:,.1f} GB, more than any speech model "
                         f"(at most {MAX_UNPACKED_BYTES / 1e9:,.0f} GB).", hint="Use another archive.")
    check_space(total, dest)
    root = dest.resolve()
    for member in members:
        path = Path(member.name)
        target = (root / path).resolve()
        if path.is_absolute() or ".." in path.parts or not target.is_relative_to(root):
            raise ModelError(f"{archive.name} contains an unsafe path '{member.name}'.", hint="Use another archive.")
        if member.is_dir:
            target.mkdir(mode=0o755, parents=True, exist_ok=True)
            continue
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        written = 0
        with member.open() as src, target.open("wb") as out:
            for block in iter(lambda src=src: src.read(CHUNK), b""):
                written += len(block)
                if written > member.size:  # a header that lies about the size
                    raise ModelError(f"{archive.name}: '{member.name}' is larger than the archive says.",
                                     hint="Use another archive.")
                out.write(block)
        target.chmod(0o644)


def extract(archive: Path, dest: Path, check_space: Callable[[int, Path], None]) -> None:
    """Extract a zip/tar archive into ``dest``: plain files and folders only, no absolute paths, no ``..``,
    no links, at most :data:`MAX_UNPACKED_BYTES` and what the disk has free."""
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                _unpack(_zip_members(zf), archive, dest, check_space)
            return
        with tarfile.open(archive) as tf:
            _unpack(_tar_members(tf, archive), archive, dest, check_space)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as err:
        raise ModelError(f"{archive.name} is not a readable archive ({err}).", hint="Download it again.") from None
    except OSError as err:
        if is_full_disk(err):
            raise disk_full(dest, err) from None
        raise
