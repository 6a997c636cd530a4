"""Content types: the fields each kind of copy has, their limits and how they are put together.

The definitions live in ``assets/studio/types/*.toml`` (one file per type, documented in
``assets/studio/README.md``) and are validated here when first used. ``limits_for`` resolves a
type, a platform and a brief's overrides into the hard limits one generation must meet.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.core.errors import ConfigError

#: the shipped content-type definitions
TYPES_DIR = Path(__file__).resolve().parents[2] / "assets" / "studio" / "types"

Length = Literal["short", "medium", "long"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """One field of a content type (``headline``, ``body``, ``hashtags``...)."""

    name: str = Field(pattern=r"^[a-z][a-z_]*$")
    label: str
    kind: Literal["text", "list"] = "text"
    max_chars: int | None = Field(None, ge=1)
    min_chars: int = Field(0, ge=0)
    max_words: int | None = Field(None, ge=1)
    target_words: dict[Length, int] | None = None
    min_items: int = Field(0, ge=0)
    max_items: int | None = Field(None, ge=1)
    item_max_chars: int | None = Field(None, ge=1)
    item_pattern: str | None = None
    multiline: bool = False
    speakable: bool = False
    required: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.max_chars is not None and self.min_chars > self.max_chars:
            raise ValueError(f"field {self.name}: min_chars {self.min_chars} > max_chars {self.max_chars}")
        if self.max_items is not None and self.min_items > self.max_items:
            raise ValueError(f"field {self.name}: min_items {self.min_items} > max_items {self.max_items}")
        if self.item_pattern is not None:
            re.compile(self.item_pattern)
        return self


class Platform(_Strict):
    """A publishing platform's rules for a type (Google Ads, X, Instagram...)."""

    label: str
    limits: dict[str, int] = Field(default_factory=dict)
    max_hashtags: int | None = Field(None, ge=0)
    total_max_chars: int | None = Field(None, ge=1)


class Example(_Strict):
    """A few-shot example: a (partial) brief and the fields the model should answer with."""

    brief: dict[str, Any]
    output: dict[str, str | list[str]]
    platform: str | None = None


class ContentType(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z-]*$")
    label: str
    description: str
    required_brief: list[str] = Field(default_factory=list)
    instructions: str
    render: str
    render_list_separator: str = "\n"
    render_list_prefix: str = ""
    default_platform: str | None = None
    words_per_second: float | None = Field(None, gt=0)
    default_duration_s: int | None = Field(None, ge=1)
    fields: list[FieldSpec]
    #: text fields that carry the brief's required keywords, best first (each keyword is bound to one)
    keyword_fields: list[str] = Field(default_factory=list)
    platforms: dict[str, Platform] = Field(default_factory=dict)
    examples: list[Example] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> ContentType:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate field names in {names}")
        for pname, platform in self.platforms.items():
            unknown = set(platform.limits) - set(names)
            if unknown:
                raise ValueError(f"platform {pname} limits unknown fields {sorted(unknown)}")
        if self.platforms and self.default_platform not in self.platforms:
            raise ValueError(f"default_platform must be one of {sorted(self.platforms)}")
        for example in self.examples:
            if set(example.output) != set(names):
                raise ValueError(f"an example's output must have exactly the fields {names}")
        for name in self.keyword_fields:
            if name not in names or self.field(name).kind != "text":
                raise ValueError(f"keyword_fields: {name!r} is not a text field of this type")
        for placeholder in re.findall(r"{(\w+)}", self.render):
            if placeholder not in names:
                raise ValueError(f"render uses unknown field {{{placeholder}}}")
        return self

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


class Limits(BaseModel):
    """The hard limits of one generation: per-field maximum characters and words, hashtags, total."""

    model_config = ConfigDict(frozen=True)

    platform: str | None
    max_chars: dict[str, int]
    min_chars: dict[str, int]
    max_words: dict[str, int]
    max_items: dict[str, int]
    min_items: dict[str, int]
    max_hashtags: int | None = None
    total_max_chars: int | None = None
    total_max_words: int | None = None


@functools.cache
def _load_all(folder: str) -> dict[str, ContentType]:
    found: dict[str, ContentType] = {}
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            ctype = ContentType.model_validate(data)
        except (tomllib.TOMLDecodeError, OSError) as err:
            raise ConfigError(f"Cannot read the content type {path}: {err}.",
                              hint="Fix the file (see assets/studio/README.md) or reinstall Visage.") from err
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(file)"
            raise ConfigError(f"The content type {path.name} is invalid at `{where}`: {first['msg']}.",
                              hint="See assets/studio/README.md for the keys a content type has.") from err
        if ctype.key != path.stem:
            raise ConfigError(f"{path.name} declares key {ctype.key!r}; the key must equal the file name.",
                              hint=f"Set key = {path.stem!r} in {path}.")
        found[ctype.key] = ctype
    return found


def content_types(folder: Path = TYPES_DIR) -> dict[str, ContentType]:
    """Every content type, by key (``ad``, ``product-description``...)."""
    return _load_all(str(folder))


def get_type(key: str) -> ContentType:
    types = content_types()
    try:
        return types[key]
    except KeyError:
        raise ConfigError(f"Unknown content type {key!r}.",
                          hint=f"Choose one of: {', '.join(sorted(types))}.") from None


def resolve_platform(ctype: ContentType, platform: str | None) -> str | None:
    if not ctype.platforms:
        return None
    if platform is None:
        return ctype.default_platform
    if platform not in ctype.platforms:
        raise ConfigError(f"The brief's `platform` {platform!r} is not one {ctype.label.lower()} supports.",
                          hint=f"Set platform to one of: {', '.join(sorted(ctype.platforms))}.")
    return platform


def limits_for(
    ctype: ContentType,
    platform: str | None = None,
    overrides: dict[str, int] | None = None,
    duration_s: int | None = None,
) -> Limits:
    """The hard limits for ``ctype`` on ``platform`` with a brief's tighter per-field ``overrides``."""
    pname = resolve_platform(ctype, platform)
    plat = ctype.platforms.get(pname) if pname else None
    max_chars: dict[str, int] = {}
    min_chars: dict[str, int] = {}
    max_words: dict[str, int] = {}
    max_items: dict[str, int] = {}
    min_items: dict[str, int] = {}
    for spec in ctype.fields:
        if spec.kind == "text":
            cap = plat.limits.get(spec.name, spec.max_chars) if plat else spec.max_chars
            if cap is not None:
                max_chars[spec.name] = cap
            min_chars[spec.name] = spec.min_chars
            if spec.max_words is not None:
                max_words[spec.name] = spec.max_words
        else:
            cap_items = spec.max_items
            if plat is not None and plat.max_hashtags is not None and spec.item_pattern and "#" in spec.item_pattern:
                cap_items = plat.max_hashtags if cap_items is None else min(cap_items, plat.max_hashtags)
            if cap_items is not None:
                max_items[spec.name] = cap_items
            min_items[spec.name] = min(spec.min_items, cap_items) if cap_items is not None else spec.min_items
    for name, value in (overrides or {}).items():
        if name not in ctype.field_names:
            raise ConfigError(f"The brief's `limits.{name}` names no field of a {ctype.label.lower()}.",
                              hint=f"Fields: {', '.join(ctype.field_names)}.")
        spec = ctype.field(name)
        if spec.kind == "list":
            raise ConfigError(f"The brief's `limits.{name}` cannot limit a list field by characters.",
                              hint="Remove it; list fields have fixed item counts.")
        cap = max_chars.get(name)
        if value < max(spec.min_chars, 1):
            raise ConfigError(
                f"The brief's `limits.{name}` = {value} is impossible: a {spec.label.lower()} needs at least "
                f"{max(spec.min_chars, 1)} characters.",
                hint=f"Give limits.{name} a value between {max(spec.min_chars, 1)} and {cap}.",
            )
        if cap is not None and value > cap:
            raise ConfigError(
                f"The brief's `limits.{name}` = {value} exceeds the platform's hard limit of {cap} characters.",
                hint=f"Give limits.{name} a value of at most {cap} (limits can only be tightened).",
            )
        max_chars[name] = value
    total_words = None
    if ctype.words_per_second is not None:
        seconds = duration_s or ctype.default_duration_s or 30
        total_words = int(seconds * ctype.words_per_second)
    return Limits(
        platform=pname,
        max_chars=max_chars,
        min_chars=min_chars,
        max_words=max_words,
        max_items=max_items,
        min_items=min_items,
        max_hashtags=plat.max_hashtags if plat else None,
        total_max_chars=plat.total_max_chars if plat else None,
        total_max_words=total_words,
    )
