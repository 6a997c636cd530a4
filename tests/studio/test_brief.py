"""Briefs: every test brief loads; bad briefs are refused with a message naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.errors import ConfigError
from app.studio.brief import Brief, load_brief, parse_brief
from app.studio.types import content_types, get_type, limits_for

from .conftest import BRIEFS

GOOD = {"type": "ad", "product": "BrewMate cold brew maker", "cta": "Order today", "keywords": ["cold brew"]}


def test_the_test_briefs_cover_every_type_at_least_thirty_in_all() -> None:
    files = sorted(BRIEFS.glob("*.toml"))
    assert len(files) >= 30
    types = {load_brief(path).type for path in files}
    assert types == set(content_types())
    assert len(types) >= 10


def test_shipped_types_have_limits_and_examples() -> None:
    assert limits_for(get_type("seo-meta")).max_chars == {"title": 60, "description": 155}
    google = limits_for(get_type("ad"), "google").max_chars
    assert google["headline"] == 30 and google["body"] == 90
    x = limits_for(get_type("social-post"), "x")
    assert x.total_max_chars == 280 and x.max_items["hashtags"] == 2
    for ctype in content_types().values():
        assert ctype.examples, ctype.key


def test_brief_round_trips_through_json() -> None:
    brief = parse_brief(GOOD)
    again = Brief.model_validate_json(brief.model_dump_json())
    assert again == brief
    assert "product" in Brief.model_json_schema()["properties"]


def _error(data: dict[str, object]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_brief(data)
    return str(info.value)


def test_missing_required_field_is_named() -> None:
    assert "`product`" in _error({"type": "ad", "cta": "Buy"})
    assert "`cta`" in _error({"type": "ad", "product": "BrewMate"})  # an ad needs a call to action
    assert "`keywords`" in _error({"type": "seo-meta", "product": "BrewMate"})
    assert "`type`" in _error({"product": "BrewMate"})


def test_unknown_type_platform_and_fields_are_named() -> None:
    assert "`type`" in _error({**GOOD, "type": "limerick"})
    assert "`platform`" in _error({**GOOD, "platform": "myspace"})
    assert "`colour`" in _error({**GOOD, "colour": "red"})
    assert "`duration_s`" in _error({**GOOD, "duration_s": 30})


def test_impossible_limits_are_refused() -> None:
    message = _error({**GOOD, "limits": {"headline": 3}})
    assert "limits.headline" in message and "impossible" in message
    assert "limits.headline" in _error({**GOOD, "limits": {"headline": 45}})  # looser than Google's 30
    assert "limits.subject" in _error({**GOOD, "limits": {"subject": 20}})  # not a field of an ad
    message = _error({**GOOD, "keywords": ["cheap cold brew"], "avoid": ["cheap"]})
    assert "`keywords`" in message
    long_keyword = "x" * 70
    assert "`keywords`" in _error({"type": "slogan", "product": "P", "keywords": [long_keyword]})
    assert "`duration_s`" in _error({"type": "video-script", "product": "P", "duration_s": 2})


def test_100_kb_of_text_is_refused_naming_the_field() -> None:
    huge = "lorem ipsum " * 9000
    assert len(huge) > 100_000
    assert "`product`" in _error({**GOOD, "product": huge})
    assert "`notes`" in _error({**GOOD, "notes": huge})
    assert "`key_points`" in _error({**GOOD, "key_points": [huge]})


def test_a_100_kb_brief_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_text(f'type = "ad"\nproduct = "{"x" * 100_000}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="KB"):
        load_brief(path)


def test_bad_files_say_what_is_wrong(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('type = "ad"\nproduct = \n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_brief(broken)
    with pytest.raises(ConfigError, match="Cannot read"):
        load_brief(tmp_path / "missing.toml")
    as_json = tmp_path / "brief.json"
    as_json.write_text(json.dumps(GOOD), encoding="utf-8")
    assert load_brief(as_json).product == GOOD["product"]
    assert load_brief(as_json, type_override="slogan").type == "slogan"
