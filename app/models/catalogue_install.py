"""Installing a catalogue entry through the model manager's downloader. Qt-free.

Everything goes through :class:`app.models.manager.ModelManager` (https only, free space checked first,
``.part`` files resumed with ``Range``, every file's sha256 checked, a wrong one deleted):

- a chat model is one GGUF, saved as ``user/llm/<entry name>.gguf``;
- a voice is its ``.onnx`` and ``.onnx.json``, saved as ``user/tts/<entry name>.onnx(.json)``;
- a faster-whisper recognizer is several files. Each is fetched on its own into
  ``user/.downloads/<entry name>/`` (so a stopped download resumes file by file), and only when all of them
  are there and checked is the folder renamed to ``user/asr/<entry name>`` in one step: the recognizer is
  either complete or absent, never half there. A recognizer published as one archive goes through the
  manager's archive path (safe extraction, then the same single rename).

``pause`` is a ``threading.Event`` set by the caller (the ``.part`` files stay, installing again resumes);
:func:`discard` removes what a cancelled install left behind.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

from app.core.errors import ModelError
from app.models import disk
from app.models.archive import ARCHIVE_SUFFIXES
from app.models.catalogue import CatalogueEntry
from app.models.download import ProgressCallback
from app.models.manager import InstalledModel, ModelManager, validate

log = logging.getLogger(__name__)

#: Tests only: serve the catalogue's files from a loopback server instead of the hubs. The path part of each
#: catalogue URL is kept, so the test server answers under the catalogue's own names. The sha256 checks stay.
BASE_URL_OVERRIDE: str | None = None


def source_url(url: str, base_url: str | None = None) -> str:
    base = base_url or BASE_URL_OVERRIDE
    if not base:
        return url
    parts = urlsplit(url)
    return base.rstrip("/") + parts.path


def target_path(entry: CatalogueEntry, manager: ModelManager) -> Path:
    """Where the entry lives once installed (the GGUF, the voice's .onnx, the recognizer's folder)."""
    folder = manager.user_dir(entry.role)
    if entry.role == "llm":
        return folder / f"{entry.name}.gguf"
    if entry.role == "tts":
        return folder / f"{entry.name}.onnx"
    return folder / entry.name


def installed(entry: CatalogueEntry, manager: ModelManager) -> InstalledModel | None:
    """The installed copy of ``entry``, when it is there and passes the engines' checks."""
    path = target_path(entry, manager)
    if not path.exists():
        return None
    try:
        checked = validate(entry.role, path)
    except ModelError:
        return None
    size = sum(p.stat().st_size for p in (checked.rglob("*") if checked.is_dir() else [checked]) if p.is_file())
    name = checked.name if entry.role == "asr" else checked.stem
    return InstalledModel(entry.role, name, checked, size, "user", str(checked))


def _staging(entry: CatalogueEntry, manager: ModelManager) -> Path:
    return manager.downloads_dir / entry.name


def install(entry: CatalogueEntry, manager: ModelManager | None = None, *, progress: ProgressCallback | None = None,
            pause: threading.Event | None = None, base_url: str | None = None) -> InstalledModel:
    """Download, check and install ``entry``. Raises ModelError (already there, bad files), ChecksumError,
    DiskSpaceError, DownloadError (retry resumes) or Cancelled (``pause`` was set; installing again resumes)."""
    manager = manager or ModelManager()
    if installed(entry, manager) is not None or target_path(entry, manager).exists():
        raise ModelError(f"{entry.name} is already installed ({target_path(entry, manager)}).",
                         hint=f"Use it with `visage models install {entry.name} --use`, or remove it first "
                              f"(`visage models remove {entry.name}`).")
    files = entry.files
    if entry.role == "llm":
        f = files[0]
        return manager.download(source_url(f.url, base_url), "llm", sha256=f.sha256, name=f"{entry.name}.gguf",
                                progress=progress, cancel=pause)
    if entry.role == "tts":
        onnx = next(f for f in files if f.name.endswith(".onnx"))
        config = next(f for f in files if f.name.endswith(".onnx.json"))
        return manager.download(source_url(onnx.url, base_url), "tts", sha256=onnx.sha256,
                                name=f"{entry.name}.onnx", config_url=source_url(config.url, base_url),
                                config_sha256=config.sha256, progress=progress, cancel=pause)
    if len(files) == 1 and files[0].name.lower().endswith(ARCHIVE_SUFFIXES):
        archive = files[0]
        suffix = next(s for s in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True) if archive.name.lower().endswith(s))
        return manager.download(source_url(archive.url, base_url), "asr", sha256=archive.sha256,
                                name=f"{entry.name}{suffix}", progress=progress, cancel=pause)
    return _install_folder(entry, manager, progress, pause, base_url)


def _already_fetched(path: Path, sha256: str) -> bool:
    if not path.is_file():
        return False
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == sha256


def _install_folder(entry: CatalogueEntry, manager: ModelManager, progress: ProgressCallback | None,
                    pause: threading.Event | None, base_url: str | None) -> InstalledModel:
    staging = _staging(entry, manager)
    target = target_path(entry, manager)
    staging.mkdir(parents=True, exist_ok=True)
    done_files = {f.name for f in entry.files if _already_fetched(staging / f.name, f.sha256)}
    remaining = sum(f.size for f in entry.files if f.name not in done_files)
    manager.check_disk_space(remaining, staging)
    total = entry.size
    before = sum(f.size for f in entry.files if f.name in done_files)
    for f in entry.files:
        if f.name in done_files:
            continue
        offset = before

        def report(done: int, _total: int | None, offset: int = offset) -> None:
            if progress:
                progress(min(offset + done, total), total)

        manager.fetch(source_url(f.url, base_url), staging / f.name, sha256=f.sha256, progress=report, cancel=pause)
        before += f.size
    try:
        validate("asr", staging)
    except ModelError:
        discard(entry, manager)
        raise
    target.parent.mkdir(parents=True, exist_ok=True)
    staging.chmod(0o755)
    os.replace(staging, target)  # one rename: the recognizer appears complete or not at all
    log.info("installed %s into %s", entry.name, target)
    if progress:
        progress(total, total)
    model = installed(entry, manager)
    if model is None:  # pragma: no cover - validate() passed a moment ago
        raise ModelError(f"{target} did not pass the checks after installing.", hint="Install it again.")
    return model


def discard(entry: CatalogueEntry, manager: ModelManager) -> None:
    """Delete what an unfinished install left (``.part`` files, a half-filled folder); the installed copy stays."""
    disk.discard(_staging(entry, manager))
    suffixes = {"llm": (".gguf",), "tts": (".onnx",), "asr": ARCHIVE_SUFFIXES}[entry.role]
    for suffix in suffixes:
        for leftover in manager.downloads_dir.glob(f"{entry.name}{suffix}*"):
            disk.discard(leftover)
