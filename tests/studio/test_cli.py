"""`visage draft`, `visage voice ...` and `visage drafts ...` over a real store (and, for draft, the real
model)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from app.cli import cli

from .conftest import BRIEFS, VOICES


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VISAGE_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "data"


def invoke(data: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args])


def ok(data: Path, *args: str) -> str:
    result = invoke(data, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_voice_add_list_show(env: Path) -> None:
    ok(env, "voice", "add", "--from", str(VOICES / "brewmate.toml"))
    ok(env, "voice", "add", "Acme", "--tone", "bold", "--banned", "cheap", "--sample", "Rockets for all.")
    assert ok(env, "voice", "list").splitlines() == ["Acme  (bold)", "BrewMate  (warm, upbeat, plain-spoken)"]
    shown = json.loads(ok(env, "voice", "show", "brewmate", "--json"))
    assert shown["banned"] == ["cheap", "coffee"]
    again = invoke(env, "voice", "add", "Acme")
    assert again.exit_code == 2 and "already exists" in again.output
    missing = invoke(env, "voice", "show", "Nobody")
    assert missing.exit_code == 8 and "visage voice list" in missing.output


@pytest.mark.real_models
def test_draft_saves_variants_then_search_star_export(env: Path, tmp_path: Path) -> None:
    ok(env, "voice", "add", "--from", str(VOICES / "brewmate.toml"))
    out = json.loads(ok(env, "draft", "--brief", str(BRIEFS / "slogan-1.toml"), "--variants", "2",
                        "--voice", "BrewMate", "--project", "spring", "--json"))
    variants = out["variants"]
    assert len(variants) == 2 and out["brief"]["type"] == "slogan"
    for v in variants:
        assert set(v) >= {"draft_id", "fields", "text", "analysis", "score", "passes", "problems"}
        assert "coffee" not in v["text"].lower() and "cheap" not in v["text"].lower()
    ids = [v["draft_id"] for v in variants]
    listing = ok(env, "drafts", "list", "--project", "spring")
    assert all(f"{i}" in listing for i in ids)
    word = next(w for w in variants[0]["text"].split() if w.strip(".,!?").isalpha())
    assert str(ids[0]) in ok(env, "drafts", "search", word.strip(".,!?"))
    raw = ok(env, "drafts", "search", word.strip(".,!?"), "--json")
    hit = next(h for h in json.loads(raw) if h["draft_id"] == ids[0])
    assert "\\u0002" not in raw and f"[{word.strip('.,!?').lower()}]" in hit["text_snippet"].lower()
    ok(env, "drafts", "star", str(ids[1]))
    assert ok(env, "drafts", "list", "--favourites").count("★") == 1
    target = tmp_path / "out.csv"
    ok(env, "drafts", "export", "--project", "spring", "--format", "csv", "--out", str(target))
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert sorted(int(r["id"]) for r in rows) == sorted(ids)
    assert "## " in ok(env, "drafts", "export", str(ids[0]), "--format", "md")
    assert variants[1]["text"] in ok(env, "drafts", "show", str(ids[1]))


def test_bad_brief_exits_with_the_field_named(env: Path, tmp_path: Path) -> None:
    brief = tmp_path / "brief.toml"
    brief.write_text('type = "ad"\nproduct = "BrewMate"\n', encoding="utf-8")
    result = invoke(env, "draft", "--brief", str(brief))
    assert result.exit_code == 2 and "`cta`" in result.output
    result = invoke(env, "draft", "--brief", str(brief), "--type", "poem")
    assert result.exit_code == 2 and "`type`" in result.output
    assert "Nothing found" in ok(env, "drafts", "search", "anything")
