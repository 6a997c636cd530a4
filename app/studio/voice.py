"""Brand voices: a saved profile (tone words, do / don't lists, banned words, sample texts) that
generation follows. Banned words are a hard rule: a variant never keeps one after repair."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from app.core.errors import ConfigError

Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Rule = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Sample = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class BrandVoice(BaseModel):
    """A brand's voice. ``banned`` words never appear in a final variant (they are removed)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    description: Annotated[str, StringConstraints(max_length=500)] = ""
    tone: list[Word] = Field(default_factory=list, max_length=10, description="Tone words: warm, witty, ...")
    do: list[Rule] = Field(default_factory=list, max_length=12, description="Things the copy should do.")
    dont: list[Rule] = Field(default_factory=list, max_length=12, description="Things the copy must not do.")
    banned: list[Word] = Field(default_factory=list, max_length=60, description="Words that must never appear.")
    samples: list[Sample] = Field(default_factory=list, max_length=5, description="Short texts in this voice.")

    def system_lines(self) -> list[str]:
        """Lines for the model's instructions (kept short: small models follow few, concrete rules)."""
        lines = [f"Write in the voice of {self.name}."]
        if self.tone:
            lines.append(f"Tone: {', '.join(self.tone)}.")
        lines.extend(f"Do: {rule}" for rule in self.do[:4])
        lines.extend(f"Don't: {rule}" for rule in self.dont[:4])
        if self.samples:
            lines.append(f'Example of this voice: "{self.samples[0][:300]}"')
        return lines


def parse_voice(data: dict[str, Any], *, source: str = "the brand voice") -> BrandVoice:
    try:
        return BrandVoice.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        name = ".".join(str(p) for p in first["loc"] if not isinstance(p, int))
        if first["type"] == "missing":
            text = f"{source} is missing the required field `{name}`."
        elif first["type"] == "extra_forbidden":
            text = f"{source} has an unknown field `{name}`."
        else:
            text = f"{source}: field `{name}`: {first['msg']}."
        raise ConfigError(text[0].upper() + text[1:],
                          hint=f"A brand voice has: {', '.join(BrandVoice.model_fields)}.") from err


def load_voice(path: Path) -> BrandVoice:
    """A brand voice from a TOML file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"Cannot read {path}: {err.strerror or err}.", hint="Check the path.") from err
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path} is not valid TOML: {err}.", hint="Fix the syntax.") from err
    return parse_voice(data, source=f"The brand voice {path.name}")
