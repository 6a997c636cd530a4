"""The model manager: list, add, download and remove LLM / ASR / TTS models. Qt-free.

Models come from three places (the ``source`` of each :class:`InstalledModel`):

- ``shipped``: inside installed Python packages (``engines.models.SHIPPED_*``), read-only;
- ``prepared``: made once by ``visage setup-models`` (:mod:`app.models.prepare`: joined whisper base,
  alignment-patched voice), in :func:`app.core.paths.models_dir` or inside the installed bundle;
- ``user``: added or downloaded by the user into ``models_dir()/user/{llm,asr,tts}/``, removable.

Adding validates with the same checks the engines use (GGUF header, faster-whisper folder layout,
Piper voice JSON) *before* copying, checks the free space, then copies into a temporary name and
renames it into place, so a half-copied model is never listed. Downloads (only when the user asks) go
through :func:`app.models.download.fetch` (https only, resumable, sha256-checked, cancellable); the
model is then validated like an added one. A Piper voice downloads as two files (``voice.onnx`` and
``voice.onnx.json``, the JSON's URL defaulting to the model's URL plus ``.json``); a faster-whisper model
downloads as an archive that :func:`app.models.archive.extract` unpacks safely.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from app.core import paths
from app.core.errors import ModelError, NotFoundError, StorageError
from app.models import download as download_mod
from app.models.archive import ARCHIVE_SUFFIXES, archive_stem, extract
from app.models.disk import check_disk_space, discard, disk_full, is_full_disk, tree_size
from app.models.download import ProgressCallback, check_url, filename_from_url

log = logging.getLogger(__name__)

Role = Literal["llm", "asr", "tts"]
ROLES: tuple[Role, ...] = ("llm", "asr", "tts")
ROLE_NAMES = {"llm": "language model", "asr": "speech recognizer", "tts": "voice"}
USER_SUBDIR = "user"
DOWNLOADS_SUBDIR = ".downloads"


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


def safe_name(name: str) -> str:
    """``name`` with anything but letters, digits and ``-_.+`` replaced, fit for a file name. Raises ModelError."""
    cleaned = "".join(c if c.isalnum() or c in "-_.+" else "_" for c in name).strip("._")
    if not cleaned:
        raise ModelError(f"'{name}' cannot be used as a model name.", hint="Use letters, digits, '-', '_' or '.'.")
    return cleaned


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
            out.append(InstalledModel(role, name, path, tree_size(path), source, spec))

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
            out.append(InstalledModel("tts", name, path, sum(tree_size(p) for p in _voice_files(path)), source, name))
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
                        size = tree_size(path)
                    elif r == "asr":
                        path = validate("asr", entry)
                        size = tree_size(path)
                    else:
                        if entry.suffix != ".onnx":
                            continue
                        path = validate("tts", entry)
                        size = sum(tree_size(p) for p in _voice_files(path))
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
        base = safe_name(name or (checked.stem if role == "tts" else source.name))
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
        needed = sum(tree_size(p) for p in _voice_files(checked)) if role == "tts" else tree_size(checked)
        if not link:
            self.check_disk_space(needed, folder)
        files = [(checked, target)]
        if role == "tts":
            files.append((Path(f"{checked}.json"), Path(f"{target}.json")))
        try:
            for src, dst in files:
                tmp = dst.with_name(f".{dst.name}.adding")
                discard(tmp)
                if link:
                    tmp.symlink_to(src, target_is_directory=src.is_dir())
                elif src.is_dir():
                    shutil.copytree(src, tmp)
                else:
                    shutil.copyfile(src, tmp)
                os.replace(tmp, dst)
        except OSError as err:
            for _, dst in files:
                discard(dst.with_name(f".{dst.name}.adding"))
                discard(dst)
            if is_full_disk(err):
                raise disk_full(folder, err) from None
            raise StorageError(f"Cannot copy {checked} into {folder}: {err.strerror or err}",
                               hint="Check that the models folder is writable (VISAGE_MODELS_DIR).") from None
        path = validate(role, target)
        size = sum(tree_size(p) for p in _voice_files(path)) if role == "tts" else tree_size(path)
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
            discard(target)
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
        check_url(url)
        filename = safe_name(name or filename_from_url(url))
        folder = self.user_dir(role)
        if role == "asr":
            if not filename.lower().endswith(ARCHIVE_SUFFIXES):
                raise ModelError("A faster-whisper model is a folder: download it as an archive.",
                                 hint=f"Give the URL of a {', '.join(ARCHIVE_SUFFIXES)} file holding the folder.")
            archive = self.fetch(url, self.downloads_dir / filename, sha256=sha256, progress=progress, cancel=cancel)
            try:
                return self._install_archive(archive, folder, filename)
            finally:
                discard(archive)
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
            check_url(json_url)
            staged_json = self.fetch(json_url, self.downloads_dir / f"{filename}.json",
                                     sha256=config_sha256, cancel=cancel)
        staged = self.fetch(url, self.downloads_dir / filename, sha256=sha256, progress=progress, cancel=cancel)
        try:
            if role == "tts":
                os.replace(staged_json, Path(f"{staged}.json"))
            validate(role, staged)
        except ModelError:
            discard(staged)
            discard(Path(f"{staged}.json"))
            raise
        if role == "tts":
            os.replace(Path(f"{staged}.json"), Path(f"{target}.json"))
        os.replace(staged, target)
        size = sum(tree_size(p) for p in _voice_files(target)) if role == "tts" else tree_size(target)
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
        """Download ``url`` to ``dest`` with :func:`app.models.download.fetch` and this manager's timeout.

        A ``client`` given by the caller must check redirect hops itself (see :func:`app.models.download.check_hop`)."""
        return download_mod.fetch(url, dest, sha256=sha256, progress=progress, cancel=cancel, client=client,
                                  timeout_s=self.timeout_s)

    # -- helpers --------------------------------------------------------------------------------------
    def check_disk_space(self, needed: int, where: Path) -> None:
        """Raise :class:`app.models.disk.DiskSpaceError` unless ``where`` has room for ``needed`` bytes."""
        check_disk_space(needed, where)

    def _inside(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.root.resolve())
            return True
        except ValueError:
            return False

    def _install_archive(self, archive: Path, folder: Path, filename: str) -> InstalledModel:
        target = folder / safe_name(archive_stem(filename))
        if target.exists():
            raise ModelError(f"A speech recognizer named {target.name} is already installed.",
                             hint=f"Remove it first (`visage models remove {target.name}`).")
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".extract-", dir=folder) as work:
            work_dir = Path(work)
            extract(archive, work_dir, self.check_disk_space)
            candidates = [p.parent for p in work_dir.rglob("model.bin")]
            if len(candidates) != 1:
                raise ModelError(f"{archive.name} holds {len(candidates)} faster-whisper models (model.bin); "
                                 "one was expected.", hint="Download an archive of one model folder.")
            validate("asr", candidates[0])
            candidates[0].chmod(0o755)
            os.replace(candidates[0], target)
        return InstalledModel("asr", target.name, target, tree_size(target), "user", str(target))
