"""The model catalogue (``assets/models/catalogue.toml``): chat models, speech recognizers and voices that
can be installed in one click. Qt-free.

Loading validates every entry and refuses the whole file with a message naming the entry and the field
when one breaks a rule: a known role, https URLs, a 64-hex sha256, a positive size, a licence and the public
source of the sha256 for every file. An entry is never accepted without a checksum: the catalogue exists so
that nobody has to paste one.

Advice for this machine is in :mod:`app.models.catalogue_advice`, installing in :mod:`app.models.catalogue_install`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.core.errors import ConfigError, NotFoundError
from app.models.archive import ARCHIVE_SUFFIXES
from app.models.manager import ROLES, Role

CATALOGUE_PATH = Path(__file__).resolve().parents[2] / "assets" / "models" / "catalogue.toml"
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: any language (multilingual recognizers)
ANY_LANGUAGE = "*"
#: the shipped multilingual recognizer offered with a voice in another language than English
MULTILINGUAL_ASR = "base"


@dataclass(frozen=True, slots=True)
class CatalogueFile:
    name: str
    url: str
    size: int
    sha256: str
    sha256_source: str
    size_exact: bool = True
    verify_url: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    name: str
    role: Role
    title: str
    params_b: float
    licence: str
    languages: tuple[str, ...]
    ram_gb: float
    good_for: str
    files: tuple[CatalogueFile, ...]
    quant: str | None = None
    chat_format: str | None = None

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def size_exact(self) -> bool:
        return all(f.size_exact for f in self.files)

    def speaks(self, language: str) -> bool:
        """True when the model handles ``language`` (a code such as "de"; multilingual models handle all)."""
        return ANY_LANGUAGE in self.languages or language.split("_")[0].lower() in self.languages

    @property
    def main_file(self) -> CatalogueFile:
        """The file the engine loads: the GGUF, the voice's .onnx, or model.bin of a recognizer."""
        if self.role == "asr":
            return next((f for f in self.files if f.name == "model.bin"), self.files[0])
        if self.role == "tts":
            return next(f for f in self.files if f.name.endswith(".onnx"))
        return self.files[0]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "role": self.role, "title": self.title, "params_b": self.params_b,
            "quant": self.quant, "licence": self.licence, "languages": list(self.languages),
            "ram_gb": self.ram_gb, "good_for": self.good_for, "size_bytes": self.size, "size_exact": self.size_exact,
            "files": [{"name": f.name, "url": f.url, "size_bytes": f.size, "size_exact": f.size_exact,
                       "sha256": f.sha256, "sha256_source": f.sha256_source, "verify_url": f.verify_url}
                      for f in self.files],
        }


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    name: str
    persona: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    entries: tuple[CatalogueEntry, ...]
    languages: dict[str, Language] = field(default_factory=dict)
    path: Path | None = None

    def get(self, name: str) -> CatalogueEntry:
        for entry in self.entries:
            if entry.name == name:
                return entry
        close = [e.name for e in self.entries if name.lower() in e.name.lower()]
        raise NotFoundError(
            f"The catalogue has no model named '{name}'.",
            hint=("Did you mean: " + ", ".join(close) + "?") if close
            else "`visage models catalogue` lists every name.",
        )

    def by_role(self, role: Role) -> list[CatalogueEntry]:
        return [e for e in self.entries if e.role == role]

    def language_offer(self, entry: CatalogueEntry) -> tuple[str, str, str] | None:
        """(language code, recognizer, persona line) that go with a voice in another language than English."""
        code = entry.languages[0]
        if entry.role != "tts" or code == "en" or code not in self.languages:
            return None
        return code, MULTILINGUAL_ASR, self.languages[code].persona

    def settings_for(self, entry: CatalogueEntry, spec: str, *, with_language: bool = False,
                     current_asr: str = "") -> dict[str, str | None]:
        """The settings ("section.key" -> value) that switch to the installed ``entry`` (``spec``: its path).

        A chat model brings its chat format; an English-only recognizer sets the spoken language; a voice in
        another language, with ``with_language``, sets the recognizer's language (and a multilingual recognizer
        when ``current_asr`` is English-only) and a persona line in that language.
        """
        key = {"llm": "llm.model", "asr": "asr.model", "tts": "tts.voice"}[entry.role]
        out: dict[str, str | None] = {key: spec}
        if entry.role == "llm":
            out["llm.chat_format"] = entry.chat_format
        if entry.role == "asr" and ANY_LANGUAGE not in entry.languages:
            out["asr.language"] = entry.languages[0]
        offer = self.language_offer(entry)
        if offer is not None and with_language:
            code, asr, persona = offer
            out["asr.language"] = code
            if current_asr == "tiny.en" or current_asr.endswith(".en"):
                out["asr.model"] = asr
            out["persona.system_prompt"] = persona
        return out


class CatalogueError(ConfigError):
    """The catalogue file breaks one of its rules (a developer error: it ships with the app)."""


def _fail(where: str, problem: str) -> CatalogueError:
    return CatalogueError(f"Model catalogue, {where}: {problem}.",
                          hint="Fix assets/models/catalogue.toml; every file needs https, size, sha256 and its source.")


def _text(raw: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"'{key}' must be a non-empty text")
    return value.strip()


def _number(raw: dict[str, Any], key: str, where: str) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _fail(where, f"'{key}' must be a positive number (got {value!r})")
    return float(value)


def _https(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise _fail(where, f"'{url}' is not an https URL")
    return url


FILE_KEYS = {"name", "url", "size", "sha256", "sha256_source", "size_exact", "verify_url"}
ENTRY_KEYS = {"name", "role", "title", "params_b", "quant", "licence", "languages", "ram_gb", "good_for", "file",
              "chat_format"}


def _parse_file(raw: Any, where: str) -> CatalogueFile:
    if not isinstance(raw, dict):
        raise _fail(where, "each [[model.file]] must be a table")
    unknown = set(raw) - FILE_KEYS
    if unknown:
        raise _fail(where, f"unknown key(s) {', '.join(sorted(unknown))}")
    name = _text(raw, "name", where)
    assert name is not None
    if "/" in name or "\\" in name or name.startswith("."):
        raise _fail(where, f"file name '{name}' must be a plain file name")
    where = f"{where}, file {name}"
    url = _https(_text(raw, "url", where) or "", where)
    size = raw.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise _fail(where, f"'size' must be a positive number of bytes (got {size!r})")
    sha = (_text(raw, "sha256", where) or "").lower()
    if not SHA256_RE.match(sha):
        raise _fail(where, f"'sha256' must be 64 hex digits (got {raw.get('sha256')!r})")
    source = _text(raw, "sha256_source", where)
    exact = raw.get("size_exact", True)
    if not isinstance(exact, bool):
        raise _fail(where, "'size_exact' must be true or false")
    verify = _text(raw, "verify_url", where, required=False)
    if verify is not None:
        _https(verify, where)
    assert source is not None
    return CatalogueFile(name, url, size, sha, source, exact, verify)


def _parse_entry(raw: Any, index: int) -> CatalogueEntry:
    if not isinstance(raw, dict):
        raise _fail(f"model #{index + 1}", "each [[model]] must be a table")
    name = _text(raw, "name", f"model #{index + 1}")
    assert name is not None
    where = f"model '{name}'"
    if not NAME_RE.match(name):
        raise _fail(where, "the name may hold letters, digits, '.', '_' and '-' only")
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        raise _fail(where, f"unknown key(s) {', '.join(sorted(unknown))}")
    role = raw.get("role")
    if role not in ROLES:
        raise _fail(where, f"'role' must be one of {', '.join(ROLES)} (got {role!r})")
    languages = raw.get("languages")
    if not isinstance(languages, list) or not languages or not all(isinstance(x, str) and x for x in languages):
        raise _fail(where, "'languages' must be a non-empty list of language codes (or [\"*\"])")
    files_raw = raw.get("file")
    if not isinstance(files_raw, list) or not files_raw:
        raise _fail(where, "it lists no [[model.file]]")
    files = tuple(_parse_file(f, where) for f in files_raw)
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise _fail(where, "two files have the same name")
    if role == "llm" and (len(files) != 1 or not files[0].name.endswith(".gguf")):
        raise _fail(where, "a chat model is one .gguf file")
    onnx = [n for n in names if n.endswith(".onnx")]
    if role == "tts" and (len(names) != 2 or len(onnx) != 1 or f"{onnx[0]}.json" not in names):
        raise _fail(where, "a voice is a .onnx file and its .onnx.json")
    archive = len(names) == 1 and names[0].lower().endswith(ARCHIVE_SUFFIXES)
    if role == "asr" and not archive and ("model.bin" not in names or "config.json" not in names):
        raise _fail(where, "a faster-whisper model needs model.bin and config.json (or is one archive)")
    ram = _number(raw, "ram_gb", where)
    main = max(f.size for f in files)
    if ram * 1e9 < main:
        raise _fail(where, f"'ram_gb' = {ram:g} is less than its largest file ({main / 1e9:.2f} GB)")
    return CatalogueEntry(
        name=name, role=role, title=_text(raw, "title", where) or name, params_b=_number(raw, "params_b", where),
        licence=_text(raw, "licence", where) or "", languages=tuple(x.lower() for x in languages), ram_gb=ram,
        good_for=_text(raw, "good_for", where) or "", files=files, quant=_text(raw, "quant", where, required=False),
        chat_format=_text(raw, "chat_format", where, required=False),
    )


def parse(data: dict[str, Any], *, path: Path | None = None) -> Catalogue:
    """Validate a parsed catalogue. Raises :class:`CatalogueError` naming the entry and field at fault."""
    if data.get("schema") != 1:
        raise _fail("top level", f"'schema' must be 1 (got {data.get('schema')!r})")
    models = data.get("model")
    if not isinstance(models, list) or not models:
        raise _fail("top level", "no [[model]] entries")
    entries = tuple(_parse_entry(raw, i) for i, raw in enumerate(models))
    seen: set[str] = set()
    for entry in entries:
        if entry.name in seen:
            raise _fail(f"model '{entry.name}'", "the name is used twice")
        seen.add(entry.name)
    languages = {}
    for code, raw in (data.get("language") or {}).items():
        where = f"language '{code}'"
        if not isinstance(raw, dict):
            raise _fail(where, "must be a table")
        languages[code] = Language(code, _text(raw, "name", where) or code, _text(raw, "persona", where) or "")
    return Catalogue(entries, languages, path)


def load(path: Path | None = None) -> Catalogue:
    """The catalogue at ``path`` (default: the one shipped with Visage), validated."""
    if path is None:
        return _shipped()
    return _load(path)


def _load(path: Path) -> Catalogue:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"The model catalogue {path} is missing.", hint="Reinstall Visage.") from None
    except tomllib.TOMLDecodeError as err:
        raise CatalogueError(f"The model catalogue {path} is not valid TOML: {err}.",
                             hint="Fix assets/models/catalogue.toml.") from None
    return parse(data, path=path)


@cache
def _shipped() -> Catalogue:
    return _load(CATALOGUE_PATH)
