"""Drafts, versions, favourites, brand voices and briefs persist and are searchable; exports parse back."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from app.core.errors import ConfigError, NotFoundError
from app.store import Store
from app.store.drafts import DraftStore
from app.store.voices import VoiceStore
from app.studio.brief import parse_brief
from app.studio.generate import evaluate
from app.studio.library import export_drafts, save_edit, save_variants, save_voice, saved_voice
from app.studio.voice import BrandVoice, load_voice

from .conftest import VOICES

BRIEF = parse_brief({"type": "email", "product": "BrewMate cold brew maker", "keywords": ["cold brew"]})
FIELDS = {"subject": "Cold brew, ready when you wake", "preheader": "Fill it tonight, pour it tomorrow morning.",
          "body": "BrewMate makes smooth cold brew overnight.\n\nIt is easy to clean, too.", "cta": "Order today"}


def test_variants_are_saved_with_brief_versions_and_favourites(tmp_path: Path) -> None:
    db = tmp_path / "visage.db"
    with Store(db) as store:
        drafts = DraftStore(store)
        variant = evaluate(FIELDS, BRIEF)
        [draft_id] = save_variants(drafts, BRIEF, [variant], project="launch")
        edited = save_edit(drafts, draft_id, {**FIELDS, "cta": "Get yours"})
        assert edited.source == "edited" and "Get yours" in edited.text
        drafts.set_favourite(draft_id)
    with Store(db) as store:  # reopened: everything was committed
        drafts = DraftStore(store)
        draft = drafts.get_draft(draft_id)
        assert [v.number for v in draft.versions] == [1, 2]
        assert [v.source for v in draft.versions] == ["generated", "edited"]
        assert draft.versions[0].fields == FIELDS
        assert draft.text == draft.current.text and "Get yours" in draft.text
        assert draft.favourite and draft.project == "launch"
        assert draft.current.analysis["fields"]["subject"]["max_chars"] == 60
        assert drafts.get_brief(draft.brief_id or 0).data["product"] == BRIEF.product
        assert [d.id for d in drafts.list_drafts(favourites_only=True)] == [draft_id]
        assert drafts.search_briefs("BrewMate")[0].type == "email"


def test_search_finds_current_text_and_titles_not_deleted(drafts: DraftStore) -> None:
    first = drafts.create_draft(type_="slogan", title="Harbour café slogan", fields={"slogan": "Brew the sea"},
                                text="Brew the sea")
    second = drafts.create_draft(type_="slogan", title="Other", fields={"slogan": "Morning harmonica"},
                                 text="Morning harmonica")
    assert [h.draft_id for h in drafts.search("harmonica")] == [second]
    assert "[harmonica]" in drafts.search("harmonica")[0].snippet.lower()
    assert [h.draft_id for h in drafts.search("cafe")] == [first]  # diacritics folded
    drafts.add_version(second, fields={"slogan": "Evening kazoo"}, text="Evening kazoo")
    assert drafts.search("harmonica") == [] and [h.draft_id for h in drafts.search("kazoo")] == [second]
    drafts.delete_draft(first)
    assert drafts.search("harbour") == []
    with pytest.raises(NotFoundError):
        drafts.get_draft(first)
    assert drafts.search('"unbalanced AND (') == []  # any text is a valid query


def test_brand_voices_persist_and_search(voices: VoiceStore) -> None:
    voice = load_voice(VOICES / "brewmate.toml")
    save_voice(voices, voice)
    assert saved_voice(voices, "brewmate") == voice  # names ignore case
    with pytest.raises(ConfigError, match="already exists"):
        save_voice(voices, voice)
    save_voice(voices, voice.model_copy(update={"tone": ["calm"]}), replace=True)
    assert saved_voice(voices, "BrewMate").tone == ["calm"]
    save_voice(voices, BrandVoice(name="Acme", samples=["Rockets for every roadrunner."]))
    assert [v.name for v in voices.list()] == ["Acme", "BrewMate"]
    assert [v.name for v in voices.search("roadrunner")] == ["Acme"]
    voices.delete("Acme")
    with pytest.raises(NotFoundError):
        voices.get("Acme")


def _saved(drafts: DraftStore) -> list[int]:
    other = parse_brief({"type": "social-post", "product": "BrewMate", "platform": "instagram"})
    post = {"text": 'Cold brew, "ready", when you are,\nwith commas.', "hashtags": ["#ColdBrew", "#Morning"]}
    ids = save_variants(drafts, BRIEF, [evaluate(FIELDS, BRIEF)])
    ids += save_variants(drafts, other, [evaluate(post, other)])
    drafts.set_favourite(ids[1])
    return ids


def test_csv_export_parses_back(drafts: DraftStore) -> None:
    ids = _saved(drafts)
    rows = list(csv.DictReader(io.StringIO(export_drafts(drafts.drafts(ids), "csv"))))
    assert [int(r["id"]) for r in rows] == ids
    assert json.loads(rows[0]["fields"]) == FIELDS
    assert rows[1]["text"] == drafts.get_draft(ids[1]).text  # quotes, commas and newlines survive
    assert rows[1]["favourite"] == "1" and rows[0]["passes"] in ("0", "1")


def test_markdown_and_text_exports_hold_every_field(drafts: DraftStore) -> None:
    ids = _saved(drafts)
    md = export_drafts(drafts.drafts(ids), "md")
    assert md.count("\n## ") == 2 and "★" in md
    assert f"**Subject line:** {FIELDS['subject']}" in md
    assert "- #ColdBrew" in md
    txt = export_drafts(drafts.drafts(ids), "txt")
    for draft in drafts.drafts(ids):
        assert draft.text in txt
    with pytest.raises(ConfigError):
        export_drafts([], "docx")
