"""Avatar style: colours and idle-motion settings read from an ``avatar.toml`` (``tomllib``)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from engines.avatar.errors import AvatarConfigError

#: the shipped character: ``assets/avatars/default/avatar.toml``
DEFAULT_AVATAR_TOML = Path(__file__).resolve().parents[2] / "assets" / "avatars" / "default" / "avatar.toml"

BGR = tuple[int, int, int]
_HEX = re.compile(r"^#([0-9a-fA-F]{6})$")


def _bgr(hex_colour: str) -> BGR:
    v = hex_colour[1:]
    return (int(v[4:6], 16), int(v[2:4], 16), int(v[0:2], 16))


_DEFAULT_HEX = {
    "background_top": "#bfe0ee",
    "background_bottom": "#f3ede4",
    "halo": "#e3f1f6",
    "skin": "#f6cfb0",
    "skin_shadow": "#e5ae8e",
    "blush": "#f59b9b",
    "hair": "#4a2c22",
    "hair_highlight": "#7a4a38",
    "brows": "#3b221a",
    "iris": "#3f7fc0",
    "pupil": "#1c1f2b",
    "sclera": "#fdfcfa",
    "lashes": "#2a1a16",
    "lips": "#d96f6f",
    "lip_line": "#9e3f45",
    "mouth_inside": "#5a1f2b",
    "teeth": "#fbf8f2",
    "tongue": "#e87f86",
    "shirt": "#3d8f85",
    "shirt_shadow": "#2f7168",
    "collar": "#f3f1ea",
}
_DEF: dict[str, BGR] = {name: _bgr(value) for name, value in _DEFAULT_HEX.items()}


@dataclass(frozen=True, slots=True)
class Colours:
    """All colours as OpenCV BGR tuples."""

    background_top: BGR = _DEF["background_top"]
    background_bottom: BGR = _DEF["background_bottom"]
    halo: BGR = _DEF["halo"]
    skin: BGR = _DEF["skin"]
    skin_shadow: BGR = _DEF["skin_shadow"]
    blush: BGR = _DEF["blush"]
    hair: BGR = _DEF["hair"]
    hair_highlight: BGR = _DEF["hair_highlight"]
    brows: BGR = _DEF["brows"]
    iris: BGR = _DEF["iris"]
    pupil: BGR = _DEF["pupil"]
    sclera: BGR = _DEF["sclera"]
    lashes: BGR = _DEF["lashes"]
    lips: BGR = _DEF["lips"]
    lip_line: BGR = _DEF["lip_line"]
    mouth_inside: BGR = _DEF["mouth_inside"]
    teeth: BGR = _DEF["teeth"]
    tongue: BGR = _DEF["tongue"]
    shirt: BGR = _DEF["shirt"]
    shirt_shadow: BGR = _DEF["shirt_shadow"]
    collar: BGR = _DEF["collar"]


@dataclass(frozen=True, slots=True)
class IdleSettings:
    seed: int = 7
    blink_min_s: float = 2.4
    blink_max_s: float = 5.5
    double_blink_p: float = 0.12
    sway_px: float = 3.0
    sway_deg: float = 1.4
    breath_px: float = 1.6


@dataclass(frozen=True, slots=True)
class AvatarStyle:
    name: str = "Nova"
    colors: Colours = field(default_factory=Colours)
    idle: IdleSettings = field(default_factory=IdleSettings)


def _unknown(section: str, given: dict[str, Any], allowed: set[str], path: Path) -> None:
    extra = sorted(set(given) - allowed)
    if extra:
        raise AvatarConfigError(
            f"{path}: unknown key(s) in [{section}]: {', '.join(extra)}.",
            hint=f"Allowed keys: {', '.join(sorted(allowed))}.",
        )


def load_style(path: Path | None = None) -> AvatarStyle:
    """Read an ``avatar.toml``; ``None`` reads the shipped default character."""
    path = Path(path) if path is not None else DEFAULT_AVATAR_TOML
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise AvatarConfigError(
            f"Avatar file not found: {path}.",
            hint="Choose an existing avatar folder, or remove the setting to use the default avatar.",
        ) from err
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise AvatarConfigError(
            f"Cannot read avatar file {path}: {err}.",
            hint="Fix the TOML syntax (see assets/avatars/default/avatar.toml for an example).",
        ) from err

    _unknown("top level", data, {"name", "colors", "idle"}, path)
    colour_names = {f.name for f in fields(Colours)}
    colours_in = data.get("colors", {})
    idle_in = data.get("idle", {})
    if not isinstance(colours_in, dict) or not isinstance(idle_in, dict):
        raise AvatarConfigError(
            f"{path}: [colors] and [idle] must be tables.", hint="Write them as [colors] / [idle] sections."
        )
    _unknown("colors", colours_in, colour_names, path)
    colours: dict[str, BGR] = {}
    for key, value in colours_in.items():
        if not isinstance(value, str) or not _HEX.match(value):
            raise AvatarConfigError(
                f"{path}: colors.{key} = {value!r} is not a colour.",
                hint='Write colours as "#rrggbb", e.g. "#f6cfb0".',
            )
        colours[key] = _bgr(value)

    idle_fields = {f.name: f for f in fields(IdleSettings)}
    _unknown("idle", idle_in, set(idle_fields), path)
    idle: dict[str, Any] = {}
    for key, value in idle_in.items():
        want_int = key == "seed"
        ok = isinstance(value, int) if want_int else isinstance(value, (int, float))
        if not ok or isinstance(value, bool) or (not want_int and value < 0):
            raise AvatarConfigError(
                f"{path}: idle.{key} = {value!r} is not a valid {'integer' if want_int else 'non-negative number'}.",
                hint="See the comments in assets/avatars/default/avatar.toml for the meaning and range.",
            )
        idle[key] = int(value) if want_int else float(value)
    settings = IdleSettings(**idle)
    if not 0.3 < settings.blink_min_s <= settings.blink_max_s:
        raise AvatarConfigError(
            f"{path}: blink_min_s must be > 0.3 and <= blink_max_s.",
            hint="Use e.g. blink_min_s = 2.4 and blink_max_s = 5.5.",
        )
    name = data.get("name", "Nova")
    return AvatarStyle(name=str(name), colors=Colours(**colours), idle=settings)
