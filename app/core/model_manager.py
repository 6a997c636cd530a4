"""The model manager: list, add, download and remove LLM / ASR / TTS models. Qt-free.

Models come from three places (the ``source`` of each :class:`InstalledModel`):

- ``shipped``: inside installed Python packages (``engines.models.SHIPPED_*``), read-only;
- ``prepared``: made once by ``visage setup-models`` (joined whisper base, alignment-patched voice),
  in :func:`app.core.paths.models_dir` or inside the installed bundle;
- ``user``: added or downloaded by the user into ``models_dir()/user/{llm,asr,tts}/``, removable.

Adding validates with the same checks the engines use (GGUF header, faster-whisper folder layout,
Piper voice JSON) *before* copying, then copies into a temporary name and renames it into place, so a
half-copied model is never listed. Downloads (only when the user asks) go over httpx with TLS
verified; plain ``http://`` is refused except to this computer (loopback). They:

- check the free disk space before the first byte is written (``shutil.disk_usage``);
- write ``<name>.part`` and resume it with an HTTP ``Range`` request (``If-Range`` with the ETag, so a
  file that changed on the server restarts instead of being spliced);
- report progress through a callback and stop between chunks when a ``threading.Event`` is set (the
  ``.part`` file stays for a later resume);
- verify the sha256 when one is given (a mismatch deletes the download) and only then rename the
  ``.part`` file to its final name; the model is validated like an added one.

A Piper voice downloads as two files (``voice.onnx`` and ``voice.onnx.json``, the JSON's URL defaulting
to the model's URL plus ``.json``); a faster-whisper model downloads as an archive (``.zip``, ``.tar``,
``.tar.gz``, ``.tgz``) that is extracted safely: no absolute paths, no ``..``, no links, its unpacked size
bounded (declared sizes checked against a cap and the free space first, then enforced while writing), and
written by this module rather than ``tarfile``'s extraction filters (which Python only has from 3.11.4).
Every redirect hop of a download is checked like the first URL.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import logging
import os
import shutil
import tarfile
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import unquote, urlsplit

from app.core import paths, urls
from app.core.errors import Cancelled, ModelError, NetworkError, NotFoundError, StorageError

log = logging.getLogger(__name__)

Role = Literal["llm", "asr", "tts"]
ROLES: tuple[Role, ...] = ("llm", "asr", "tts")
ROLE_NAMES = {"llm": "language model", "asr": "speech recognizer", "tts": "voice"}
USER_SUBDIR = "user"
DOWNLOADS_SUBDIR = ".downloads"
CHUNK = 256 * 1024
#: kept free beyond the download itself (the OS, the database, the app's logs)
DISK_MARGIN_BYTES = 64 * 1024 * 1024
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
#: most bytes an archive may unpack to (large-v3 is ~3 GB): a zip bomb is refused before anything is written
MAX_UNPACKED_BYTES = 16 * 10**9
#: most entries in a model archive
MAX_ARCHIVE_MEMBERS = 10_000

ProgressCallback = Callable[[int, int | None], None]


class ChecksumError(ModelError):
    """A downloaded file does not have the sha256 the user gave."""


class DiskSpaceError(StorageError):
    """Not enough free space for a model (checked before starting, or the disk filled up while writing)."""


class DownloadError(NetworkError):
    """The server could not be reached or answered with an error. Running the command again resumes."""


@dataclass(frozen=True, slots=True)
class InstalledModel:
    role: Role
    name: str
    path: Path
    size_bytes: int
    source: Literal["shipped", "prepared", "user"]
    #: what to write in config.toml ([llm] model / [asr] model / [tts] voice) to use it
    spec: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _voice_files(onnx: Path) -> list[Path]:
    return [onnx, Path(f"{onnx}.json")]


def detect_role(path: Path) -> Role:
    """What kind of model ``path`` is, from what is on disk. Raises ModelError when it is none of them."""
    if path.is_dir():
        if (path / "model.bin").exists():
            return "asr"
        onnx = sorted(path.glob("*.onnx"))
        if len(onnx) == 1:
            return "tts"
        raise ModelError(
            f"{path} is a folder but not a faster-whisper model (no model.bin) or a Piper voice.",
            hint="Give a .gguf file, a faster-whisper folder, or a Piper voice's .onnx (with its .onnx.json).",
        )
    if path.suffix == ".onnx":
        return "tts"
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as err:
        raise ModelError(f"Cannot read {path}: {err.strerror or err}", hint="Check the path and permissions.") from None
    if magic == b"GGUF" or path.suffix == ".gguf":
        return "llm"
    raise ModelError(
        f"{path} is not a model Visage knows: not a GGUF file, a faster-whisper folder or a Piper .onnx voice.",
        hint="LLMs must be GGUF files (llama.cpp); convert others with llama.cpp's convert_hf_to_gguf.py.",
    )


def validate(role: Role, path: Path) -> Path:
    """The engines' own checks for ``role``; returns the path to use (a voice folder gives its .onnx)."""
    from engines import models

    hint = "Choose another file; a model that fails these checks would not load."
    if role == "llm":
        return models.validate_gguf(path, hint=hint)
    if role == "asr":
        return models.validate_whisper_dir(path, hint=hint)
    if path.is_dir():
        onnx = sorted(path.glob("*.onnx"))
        if len(onnx) != 1:
            raise ModelError(f"{path} holds {len(onnx)} .onnx files; a Piper voice folder holds one.", hint=hint)
        path = onnx[0]
    return models.validate_voice(path, hint=hint)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ModelError(f"'{url}' is not an http(s) URL.", hint="Give the address of the model file (https://…).")
    if urls.is_plain_http_off_machine(url):
        raise ModelError(
            f"Refusing to download a model over plain http from {parts.hostname}: it could be altered on the way.",
            hint=f"Use the https:// address of the file ({urls.LOOPBACK_HINT}).",
        )


def _check_hop(request: Any) -> None:
    """httpx request hook: a redirect to plain http off this computer is refused before it is sent."""
    url = str(request.url)
    if urls.is_plain_http_off_machine(url):
        raise ModelError(
            f"Refusing to follow a redirect to plain http ({request.url.host}): the model could be altered on the way.",
            hint=f"Ask the model's publisher for an https:// download ({urls.LOOPBACK_HINT}).",
        )


def _filename_from_url(url: str) -> str:
    name = Path(unquote(urlsplit(url).path)).name
    return name or "download"


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_.+" else "_" for c in name).strip("._")
    if not cleaned:
        raise ModelError(f"'{name}' cannot be used as a model name.", hint="Use letters, digits, '-', '_' or '.'.")
    return cleaned


def _is_full_disk(err: OSError) -> bool:
    return err.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def _disk_full(where: Path, err: OSError | None = None) -> DiskSpaceError:
    what = f" ({err.strerror})" if err is not None and err.strerror else ""
    return DiskSpaceError(
        f"The disk holding {where} is full{what}.",
        hint="Free some space (or set VISAGE_MODELS_DIR to a bigger disk) and run the same command again: "
        "a download resumes where it stopped.",
    )


class ModelManager:
    """Models on disk for one models folder (default: :func:`app.core.paths.models_dir`)."""

    def __init__(self, root: Path | None = None, *, timeout_s: float = 30.0) -> None:
        self.root = Path(root) if root is not None else paths.models_dir()
        self.timeout_s = timeout_s

    # -- folders --------------------------------------------------------------------------------------
    def user_dir(self, role: Role) -> Path:
        return self.root / USER_SUBDIR / role

    @property
    def downloads_dir(self) -> Path:
        return self.root / USER_SUBDIR / DOWNLOADS_SUBDIR

    # -- listing --------------------------------------------------------------------------------------
    def list(self) -> list[InstalledModel]:
        """Every model that is there and passes its checks: shipped, prepared, then the user's own."""
        from engines import models

        out: list[InstalledModel] = []

        def add(role: Role, name: str, path: Path, source: Literal["shipped", "prepared", "user"], spec: str) -> None:
            out.append(InstalledModel(role, name, path, _size(path), source, spec))

        for name in models.PREPARED_LLM:
            try:
                add("llm", name, models.resolve_llm(name, models_dir=self.root), "prepared", name)
            except ModelError as err:
                log.info("prepared LLM %s unavailable: %s", name, err.message)
        for name in models.SHIPPED_LLM:
            try:
                add("llm", name, models.resolve_llm(name), "shipped", name)
            except ModelError as err:
                log.info("shipped LLM %s unavailable: %s", name, err.message)
        for name in models.SHIPPED_ASR_PACKAGE:
            try:
                add("asr", name, models.resolve_asr(name, models_dir=self.root), "shipped", name)
            except ModelError as err:
                log.info("shipped ASR %s unavailable: %s", name, err.message)
        for name in models.PREPARED_ASR:
            try:
                add("asr", name, models.resolve_asr(name, models_dir=self.root), "prepared", name)
            except ModelError as err:
                log.info("prepared ASR %s unavailable: %s", name, err.message)
        for name in models.SHIPPED_VOICES:
            try:
                path = models.resolve_voice(name, models_dir=self.root)
            except ModelError as err:
                log.info("shipped voice %s unavailable: %s", name, err.message)
                continue
            package_copy = models.package_file(*models.SHIPPED_VOICES[name])
            source: Literal["shipped", "prepared"] = "shipped" if path == package_copy else "prepared"
            out.append(InstalledModel("tts", name, path, sum(_size(p) for p in _voice_files(path)), source, name))
        out.extend(self.user_models())
        return out

    def user_models(self, role: Role | None = None) -> list[InstalledModel]:
        out: list[InstalledModel] = []
        for r in ROLES if role is None else (role,):
            folder = self.user_dir(r)
            if not folder.is_dir():
                continue
            for entry in sorted(folder.iterdir()):
                if entry.name.startswith("."):
                    continue  # temporary copies in progress
                try:
                    if r == "llm":
                        path = validate("llm", entry)
                        size = _size(path)
                    elif r == "asr":
                        path = validate("asr", entry)
                        size = _size(path)
                    else:
                        if entry.suffix != ".onnx":
                            continue
                        path = validate("tts", entry)
                        size = sum(_size(p) for p in _voice_files(path))
                except ModelError as err:
                    log.warning("skipping a broken user model %s: %s", entry, err.message)
                    continue
                name = path.stem if r != "asr" else path.name
                out.append(InstalledModel(r, name, path, size, "user", str(path)))
        return out

    def find(self, name: str, role: Role | None = None) -> InstalledModel:
        """A model by name (or path). Raises NotFoundError listing what exists."""
        models = [m for m in self.list() if role is None or m.role == role]
        hits = [m for m in models if name in (m.name, str(m.path), m.spec)]
        if len(hits) > 1:
            raise NotFoundError(f"'{name}' matches several models ({', '.join(m.role for m in hits)}).",
                                hint="Add --role llm|asr|tts.")
        if not hits:
            raise NotFoundError(f"No model named '{name}'.",
                                hint="Installed: " + (", ".join(m.name for m in models) or "none") + ".")
        return hits[0]

    # -- adding ---------------------------------------------------------------------------------------
    def add(self, source: Path, role: Role | None = None, *, name: str | None = None,
            link: bool = False) -> InstalledModel:
        """Validate a model on disk and copy it (or symlink it, ``link=True``) into the user folder."""
        source = Path(source).expanduser().resolve()
        if not source.exists():
            raise ModelError(f"{source} does not exist.", hint="Check the path.")
        role = role or detect_role(source)
        checked = validate(role, source)
        if role == "tts" and source.is_dir():
            source = checked
        folder = self.user_dir(role)
        base = _safe_name(name or (checked.stem if role == "tts" else source.name))
        if role == "llm" and not base.endswith(".gguf"):
            base += ".gguf"
        if role == "tts" and not base.endswith(".onnx"):
            base += ".onnx"
        target = folder / base
        if target.exists() or target.is_symlink():
            raise ModelError(f"A {ROLE_NAMES[role]} named {target.name} is already installed.",
                             hint=f"Remove it first (`visage models remove {target.stem}`) or pass --name.")
        if self._inside(checked):
            raise ModelError(f"{checked} is already in the models folder.", hint="Nothing to add.")
        folder.mkdir(parents=True, exist_ok=True)
        needed = sum(_size(p) for p in _voice_files(checked)) if role == "tts" else _size(checked)
        if not link:
            self.check_disk_space(needed, folder)
        files = [(checked, target)]
        if role == "tts":
            files.append((Path(f"{checked}.json"), Path(f"{target}.json")))
        try:
            for src, dst in files:
                tmp = dst.with_name(f".{dst.name}.adding")
                self._discard(tmp)
                if link:
                    tmp.symlink_to(src, target_is_directory=src.is_dir())
                elif src.is_dir():
                    shutil.copytree(src, tmp)
                else:
                    shutil.copyfile(src, tmp)
                os.replace(tmp, dst)
        except OSError as err:
            for _, dst in files:
                self._discard(dst.with_name(f".{dst.name}.adding"))
                self._discard(dst)
            if _is_full_disk(err):
                raise _disk_full(folder, err) from None
            raise StorageError(f"Cannot copy {checked} into {folder}: {err.strerror or err}",
                               hint="Check that the models folder is writable (VISAGE_MODELS_DIR).") from None
        path = validate(role, target)
        size = sum(_size(p) for p in _voice_files(path)) if role == "tts" else _size(path)
        log.info("added %s %s from %s", role, target, checked)
        return InstalledModel(role, path.stem if role != "asr" else path.name, path, size, "user", str(path))

    # -- removing -------------------------------------------------------------------------------------
    def remove(self, name: str, role: Role | None = None) -> InstalledModel:
        """Delete a user model (shipped and prepared ones are refused). Returns what was removed."""
        model = self.find(name, role)
        if model.source != "user":
            raise ModelError(f"'{model.name}' is a {model.source} model and cannot be removed here.",
                             hint="Only models you added or downloaded can be removed; shipped ones come with "
                             "Visage (uninstall their Python package to drop them).")
        targets = _voice_files(model.path) if model.role == "tts" else [model.path]
        for target in targets:
            self._discard(target)
        log.info("removed %s %s", model.role, model.path)
        return model

    # -- downloading ----------------------------------------------------------------------------------
    def download(
        self,
        url: str,
        role: Role,
        *,
        sha256: str | None = None,
        name: str | None = None,
        config_url: str | None = None,
        config_sha256: str | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> InstalledModel:
        """Download a model into the user folder (see the module doc). Resumes a previous attempt."""
        _check_url(url)
        filename = _safe_name(name or _filename_from_url(url))
        folder = self.user_dir(role)
        if role == "asr":
            if not filename.lower().endswith(ARCHIVE_SUFFIXES):
                raise ModelError("A faster-whisper model is a folder: download it as an archive.",
                                 hint=f"Give the URL of a {', '.join(ARCHIVE_SUFFIXES)} file holding the folder.")
            archive = self.fetch(url, self.downloads_dir / filename, sha256=sha256, progress=progress, cancel=cancel)
            try:
                return self._install_archive(archive, folder, filename)
            finally:
                self._discard(archive)
        if role == "llm" and not filename.endswith(".gguf"):
            filename += ".gguf"
        if role == "tts" and not filename.endswith(".onnx"):
            raise ModelError("A Piper voice URL must end in .onnx.", hint="Its .onnx.json is fetched beside it.")
        target = folder / filename
        if target.exists():
            raise ModelError(f"A {ROLE_NAMES[role]} named {target.name} is already installed.",
                             hint=f"Remove it first (`visage models remove {target.stem}`) or pass --name.")
        folder.mkdir(parents=True, exist_ok=True)
        if role == "tts":
            json_url = config_url or f"{url}.json"
            _check_url(json_url)
            staged_json = self.fetch(json_url, self.downloads_dir / f"{filename}.json",
                                     sha256=config_sha256, cancel=cancel)
        staged = self.fetch(url, self.downloads_dir / filename, sha256=sha256, progress=progress, cancel=cancel)
        try:
            if role == "tts":
                os.replace(staged_json, Path(f"{staged}.json"))
            validate(role, staged)
        except ModelError:
            self._discard(staged)
            self._discard(Path(f"{staged}.json"))
            raise
        if role == "tts":
            os.replace(Path(f"{staged}.json"), Path(f"{target}.json"))
        os.replace(staged, target)
        size = sum(_size(p) for p in _voice_files(target)) if role == "tts" else _size(target)
        log.info("downloaded %s %s from %s", role, target, url)
        return InstalledModel(role, target.stem, target, size, "user", str(target))

    def fetch(
        self,
        url: str,
        dest: Path,
        *,
        sha256: str | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        client: Any = None,
    ) -> Path:
        """Download ``url`` to ``dest`` via ``dest.part`` with resume, space check, checksum, cancel.

        A ``client`` given by the caller must check redirect hops itself (see :func:`_check_hop`)."""
        import httpx

        _check_url(url)
        expected = sha256.strip().lower() if sha256 else None
        if expected is not None and (len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected)):
            raise ModelError(f"'{sha256}' is not a sha256 checksum (64 hex digits).", hint="Copy it again.")
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        meta_path = dest.with_name(dest.name + ".part.json")
        meta = self._read_meta(meta_path, url)
        have = part.stat().st_size if part.exists() and meta else 0
        if not meta:
            self._discard(part)
        headers = {"Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
            validator = meta.get("etag") or meta.get("last_modified")
            if validator:
                headers["If-Range"] = validator
        own_client = client is None
        if own_client:
            # every hop of a redirect is checked before it is requested, not only the first URL
            client = httpx.Client(follow_redirects=True, verify=True, event_hooks={"request": [_check_hop]},
                                  timeout=httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s)))
        try:
            try:
                with client.stream("GET", url, headers=headers) as response:
                    if response.status_code == 416 and have:
                        # the .part holds at least the whole file: check what we have
                        total = self._total_from_416(response)
                        if total is not None and total == have:
                            return self._finish(part, meta_path, dest, expected, progress, have)
                        self._discard(part)
                        raise DownloadError(f"The server refused to resume {url} (416).",
                                            hint="Run the command again: the download starts over.")
                    if response.status_code >= 400:
                        raise DownloadError(
                            f"The server answered {response.status_code} {response.reason_phrase} for {url}.",
                            hint="Check the URL; if the server is busy, run the command again later (it resumes).")
                    resumed = response.status_code == 206 and have > 0
                    if resumed:
                        start = self._range_start(response)
                        if start != have:
                            resumed = False
                    if not resumed:
                        have = 0
                    total = self._total(response, have)
                    remaining = None if total is None else total - have
                    if remaining is not None:
                        self.check_disk_space(remaining, dest.parent)
                    self._write_meta(meta_path, url, response)
                    digest = self._hash_existing(part) if (resumed and expected) else hashlib.sha256()
                    done = have
                    if progress:
                        progress(done, total)
                    mode = "ab" if resumed else "wb"
                    with part.open(mode) as out:
                        for block in response.iter_bytes(CHUNK):
                            if cancel is not None and cancel.is_set():
                                raise Cancelled(f"Download of {dest.name} cancelled at {done:,} bytes.",
                                                hint="Run the same download again to resume.")
                            try:
                                out.write(block)
                            except OSError as err:
                                if _is_full_disk(err):
                                    raise _disk_full(dest.parent, err) from None
                                raise
                            digest.update(block)
                            done += len(block)
                            if progress:
                                progress(done, total)
                        out.flush()
                        os.fsync(out.fileno())
                    if total is not None and done != total:
                        raise DownloadError(f"The transfer of {url} stopped at {done:,} of {total:,} bytes.",
                                            hint="Run the same command again: it resumes where it stopped.")
            except httpx.HTTPError as err:
                raise DownloadError(f"Downloading {url} failed: {err}",
                                    hint="Check the connection and run the same command again: it resumes.") from None
            except OSError as err:
                if _is_full_disk(err):
                    raise _disk_full(dest.parent, err) from None
                raise StorageError(f"Cannot write {part}: {err.strerror or err}",
                                   hint="Check that the models folder is writable.") from None
        finally:
            if own_client:
                client.close()
        actual = digest.hexdigest() if expected else None
        return self._finish(part, meta_path, dest, expected, progress, done, actual=actual)

    # -- helpers --------------------------------------------------------------------------------------
    def check_disk_space(self, needed: int, where: Path) -> None:
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

    def _inside(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.root.resolve())
            return True
        except ValueError:
            return False

    @staticmethod
    def _discard(path: Path) -> None:
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)
        elif path.is_dir():
            shutil.rmtree(path, ignore_errors=True)

    @staticmethod
    def _read_meta(meta_path: Path, url: str) -> dict[str, Any]:
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return meta if isinstance(meta, dict) and meta.get("url") == url else {}

    @staticmethod
    def _write_meta(meta_path: Path, url: str, response: Any) -> None:
        headers = response.headers
        meta = {"url": url, "etag": headers.get("etag"), "last_modified": headers.get("last-modified")}
        meta_path.write_text(json.dumps(meta), encoding="utf-8")

    @staticmethod
    def _range_start(response: Any) -> int | None:
        value = response.headers.get("content-range", "")  # bytes START-END/TOTAL
        try:
            return int(value.split()[1].split("-")[0])
        except (IndexError, ValueError):
            return None

    @staticmethod
    def _total(response: Any, have: int) -> int | None:
        if response.status_code == 206:
            value = response.headers.get("content-range", "")
            total = value.rpartition("/")[2]
            if total.isdigit():
                return int(total)
        length = response.headers.get("content-length")
        return have + int(length) if length and length.isdigit() else None

    @staticmethod
    def _total_from_416(response: Any) -> int | None:
        total = response.headers.get("content-range", "").rpartition("/")[2]
        return int(total) if total.isdigit() else None

    @staticmethod
    def _hash_existing(part: Path) -> Any:
        digest = hashlib.sha256()
        with part.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest

    def _finish(self, part: Path, meta_path: Path, dest: Path, expected: str | None,
                progress: ProgressCallback | None, done: int, *, actual: str | None = None) -> Path:
        if expected is not None:
            actual = actual or self._hash_existing(part).hexdigest()
            if actual != expected:
                self._discard(part)
                self._discard(meta_path)
                raise ChecksumError(
                    f"The download of {dest.name} is damaged or not the expected file: sha256 {actual} "
                    f"instead of {expected}.",
                    hint="The file was deleted. Check the checksum you gave, then download again.",
                )
        os.replace(part, dest)
        self._discard(meta_path)
        if progress:
            progress(done, done)
        return dest

    def _install_archive(self, archive: Path, folder: Path, filename: str) -> InstalledModel:
        stem = filename
        for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
            if stem.lower().endswith(suffix):
                stem = stem[: -len(suffix)]
                break
        target = folder / _safe_name(stem)
        if target.exists():
            raise ModelError(f"A speech recognizer named {target.name} is already installed.",
                             hint=f"Remove it first (`visage models remove {target.name}`).")
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".extract-", dir=folder) as work:
            work_dir = Path(work)
            _extract(archive, work_dir, self.check_disk_space)
            candidates = [p.parent for p in work_dir.rglob("model.bin")]
            if len(candidates) != 1:
                raise ModelError(f"{archive.name} holds {len(candidates)} faster-whisper models (model.bin); "
                                 "one was expected.", hint="Download an archive of one model folder.")
            validate("asr", candidates[0])
            candidates[0].chmod(0o755)
            os.replace(candidates[0], target)
        return InstalledModel("asr", target.name, target, _size(target), "user", str(target))


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


def _extract(archive: Path, dest: Path, check_space: Callable[[int, Path], None]) -> None:
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
        if _is_full_disk(err):
            raise _disk_full(dest, err) from None
        raise
