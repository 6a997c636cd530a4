"""The brief: what the user wants written. One pydantic model for the CLI's TOML and the API's JSON.

``Brief`` validates its own fields (sizes, content type, platform, per-type required fields,
impossible limits); ``load_brief`` / ``parse_brief`` turn any validation failure into a
``ConfigError`` whose message names the field.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from app.core.errors import ConfigError
from app.studio.types import Length, Limits, content_types, get_type, limits_for

#: a brief file bigger than this is refused before it is parsed
MAX_BRIEF_BYTES = 32_000

Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Point = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class Brief(BaseModel):
    """A copy brief. ``type`` is a content-type key (``visage draft --help`` lists them)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str = Field(description="Content type: ad, product-description, email, social-post, ...")
    product: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="The product, service or topic the copy is about."
    )
    audience: Short = Field("", description="Who the copy is for.")
    key_points: list[Point] = Field(default_factory=list, max_length=8, description="Facts or benefits to mention.")
    keywords: list[Phrase] = Field(default_factory=list, max_length=8, description="Words the copy must contain.")
    avoid: list[Phrase] = Field(default_factory=list, max_length=40, description="Words the copy must not contain.")
    tone: Short = Field("", description="Tone of voice, e.g. 'friendly, confident'.")
    cta: Short = Field("", description="The call to action, e.g. 'Shop now'.")
    length: Length = Field("medium", description="short, medium or long (for types with a body).")
    language: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=40)] = Field(
        "English", description="Language to write in."
    )
    platform: str | None = Field(None, description="Platform for ads and social posts (google, meta, x, ...).")
    voice: Short | None = Field(None, description="Name of a saved brand voice to follow.")
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = Field(
        "", description="Anything else the writer should know (offer, date, place)."
    )
    duration_s: int | None = Field(None, ge=10, le=180, description="Spoken length of a video script in seconds.")
    limits: dict[str, int] = Field(default_factory=dict, description="Tighter per-field character limits.")

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        types = content_types()
        if value not in types:
            raise ValueError(f"unknown content type {value!r}; choose one of: {', '.join(sorted(types))}")
        return value

    @field_validator("keywords", "avoid")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        seen: dict[str, str] = {}
        for word in value:
            seen.setdefault(word.lower(), word)
        return list(seen.values())

    @model_validator(mode="after")
    def _fits_the_type(self) -> Brief:
        ctype = get_type(self.type)
        for name in ctype.required_brief:
            if not getattr(self, name):
                raise ValueError(f"`{name}` is required in a brief for: {ctype.label.lower()}")
        if self.platform is not None and not ctype.platforms:
            raise ValueError(f"`platform` does not apply to a {ctype.label.lower()}; remove it")
        if self.duration_s is not None and ctype.words_per_second is None:
            raise ValueError(f"`duration_s` only applies to a video script, not a {ctype.label.lower()}; remove it")
        try:
            limits = limits_for(ctype, self.platform, self.limits, self.duration_s)
        except ConfigError as err:
            raise ValueError(err.message.replace("The brief's ", "")) from None
        clash = [w for w in self.keywords if any(_contains(w, banned) for banned in self.avoid)]
        if clash:
            raise ValueError(f"`keywords` {clash} contain words listed in `avoid`: no copy can satisfy both")
        longest = max((v for v in limits.max_chars.values()), default=None)
        if longest is not None:
            too_long = [w for w in self.keywords if len(w) > longest]
            if too_long:
                raise ValueError(
                    f"`keywords` {too_long} are longer than the longest field ({longest} characters): impossible"
                )
        return self

    # -- derived --------------------------------------------------------------------------------

    def hard_limits(self) -> Limits:
        return limits_for(get_type(self.type), self.platform, self.limits, self.duration_s)

    def summary(self) -> str:
        """One line describing the brief (titles, search)."""
        return f"{get_type(self.type).label}: {self.product}"


def _contains(text: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE) is not None


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    return ".".join(parts)


def brief_error(err: ValidationError, source: str = "the brief") -> ConfigError:
    """A ConfigError naming the first bad field of ``err`` (and how many more there are)."""
    problems = err.errors()
    first = problems[0]
    name = _field_name(first["loc"])
    msg = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "missing":
        text = f"{source} is missing the required field `{name}`."
    elif first["type"] == "extra_forbidden":
        text = f"{source} has an unknown field `{name}`."
    elif name:
        text = f"{source}: field `{name}`: {msg.rstrip('.')}."
    else:
        text = f"{source}: {msg.rstrip('.')}."
    if len(problems) > 1:
        text += f" ({len(problems) - 1} more problem(s) after this one.)"
    known = ", ".join(Brief.model_fields)
    return ConfigError(text[0].upper() + text[1:], hint=f"Fix that field. A brief's fields: {known}.")


def parse_brief(data: dict[str, Any], *, source: str = "the brief", type_override: str | None = None) -> Brief:
    """Validate a brief from a dict (TOML/JSON); raise ConfigError naming the bad field."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a table of fields, not {type(data).__name__}.",
                          hint="See tests/data/briefs/ for examples.")
    payload = dict(data)
    if type_override is not None:
        payload["type"] = type_override
    try:
        return Brief.model_validate(payload)
    except ValidationError as err:
        raise brief_error(err, source) from err


def load_brief(path: Path, *, type_override: str | None = None) -> Brief:
    """Read a brief from a TOML (or JSON) file."""
    import json

    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BRIEF_BYTES:
            raise ConfigError(
                f"The brief {path} is {size // 1000} KB; a brief is at most {MAX_BRIEF_BYTES // 1000} KB.",
                hint="Keep the brief to its fields (product, key_points, keywords...); put no whole documents in it.",
            )
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"Cannot read the brief {path}: {err.strerror or err}.",
                          hint="Check the path given with --brief.") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"The brief {path} is not UTF-8 text.", hint="Save it as UTF-8 TOML.") from err
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"The brief {path} is not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {err}.",
                          hint="Fix the syntax; see tests/data/briefs/ for examples.") from err
    return parse_brief(data, source=f"The brief {path.name}", type_override=type_override)
