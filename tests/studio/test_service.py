"""The copy studio's workflow (``app.studio.service``) without Qt and without a real model: the same calls
the CLI and the desktop make, over a real SQLite store, with a scripted LLM whose answers are fixed."""

from __future__ import annotations

import csv
import io

import pytest

from app.core.config import SyncSettings
from app.core.errors import ConfigError, NotFoundError
from app.store import Store
from app.studio import Brief, evaluate
from app.studio.service import StudioService
from app.studio.voice import BrandVoice

from .conftest import ScriptedChatLLM

SLOGAN = Brief(type="slogan", product="Brightside Coffee", keywords=["coffee"], voice="Brightside")
VOICE = BrandVoice(name="Brightside", tone=["warm"], banned=["cheap"])
REPLIES = ('{"slogan": "Brightside coffee for your commute."}', '{"slogan": "Coffee that wakes the whole town."}',
           '{"slogan": "Fresh coffee, every single morning."}')


@pytest.fixture
def studio(store: Store) -> StudioService:
    service = StudioService.of(store)
    service.save_voice(VOICE)
    return service


def test_draft_writes_ranks_and_keeps_each_variant_with_its_brief_and_voice(studio: StudioService) -> None:
    seen: list[str] = []
    voice = studio.voice_for(SLOGAN)  # the brief's own voice
    assert voice == VOICE
    drafted = studio.draft(SLOGAN, ScriptedChatLLM(*REPLIES), n=2, voice=voice, project="spring",
                           on_variant=lambda v: seen.append(v.text))
    assert len(drafted.variants) == 2 and len(seen) == 3  # n + 1 candidates, each shown as it is ready
    assert drafted.written.source == "local" and drafted.written.notice is None
    assert all(isinstance(i, int) for i in drafted.ids)
    opened = studio.open_draft(drafted.ids[0])  # type: ignore[arg-type]
    assert opened.brief == SLOGAN and opened.voice == VOICE and opened.notices == []
    assert [v.draft_id for v in opened.variants] == drafted.ids
    assert [v.variant.text for v in opened.variants] == [v.text for v in drafted.variants]
    assert [d.id for d in studio.list_drafts(project="spring")] == sorted(drafted.ids, reverse=True)  # type: ignore[type-var]

    unsaved = studio.draft(SLOGAN, ScriptedChatLLM(*REPLIES), n=1, voice=voice, save=False)
    assert unsaved.ids == [None] and len(studio.list_drafts()) == 2


def test_a_voice_override_that_is_not_saved_is_refused_before_the_model_loads(studio: StudioService) -> None:
    assert studio.voice_for(SLOGAN.model_copy(update={"voice": None})) is None
    with pytest.raises(NotFoundError, match="visage voice list"):
        studio.voice_for(SLOGAN, "Nobody")
    loaded: list[int] = []
    with pytest.raises(NotFoundError):
        studio.draft(SLOGAN, lambda: loaded.append(1) or ScriptedChatLLM(*REPLIES),  # type: ignore[arg-type, func-returns-value]
                     voice=studio.voice_for(SLOGAN, "Nobody"))
    assert loaded == [] and studio.list_drafts() == []


def test_edit_rewrite_star_delete_restore_and_browse(studio: StudioService) -> None:
    [first, second] = studio.keep(SLOGAN, [evaluate({"slogan": t}, SLOGAN, VOICE) for t in
                                           ("Brightside coffee for your commute.", "Harmonica-smooth coffee.")],
                                  voice=VOICE)
    edited = evaluate({"slogan": "Brightside coffee, fresh for your commute."}, SLOGAN, VOICE, source="edited")
    assert studio.save_edit(first, edited) == 2
    rewritten = studio.rewrite(edited.fields, SLOGAN, ScriptedChatLLM('{"slogan": "Fresh coffee, fast."}'),
                               "shorter", voice=VOICE)
    assert rewritten.source == "rewrite:shorter" and rewritten.text == "Fresh coffee, fast."
    assert studio.save_edit(first, rewritten) == 3
    assert [(v.number, v.source) for v in studio.get_draft(first).versions] == [
        (1, "generated"), (2, "edited"), (3, "rewrite:shorter")]

    studio.star(second)
    page = studio.browse(limit=1)
    assert [r.id for r in page.rows] == [second] and page.total == 2  # starred first, a page at a time
    assert [r.id for r in studio.browse(limit=1, offset=1).rows] == [first]
    assert [r.id for r in studio.browse(starred=True).rows] == [second]
    hits = studio.browse("harmonica")
    assert [h.draft_id for h in hits.rows] == [second] and hits.total == -1

    studio.delete(second)
    assert studio.browse().total == 1 and studio.browse("harmonica").rows == []
    studio.restore(second)
    assert studio.browse().total == 2 and studio.get_draft(second).favourite


def test_export_writes_the_current_versions_and_refuses_an_unknown_format(studio: StudioService, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ids = studio.keep(SLOGAN, [evaluate({"slogan": "Coffee, warm."}, SLOGAN)], project="spring")
    studio.keep(SLOGAN, [evaluate({"slogan": "Other coffee."}, SLOGAN)])
    studio.save_edit(ids[0], evaluate({"slogan": "Coffee, warmer."}, SLOGAN, source="edited"))
    out = tmp_path / "drafts.csv"
    exported = studio.export("csv", ids=ids, path=out)
    assert exported.count == 1 and exported.path == out and not out.with_name("drafts.csv.part").exists()
    [row] = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert (row["text"], row["version"], row["project"]) == ("Coffee, warmer.", "2", "spring")
    assert studio.export("md", project="spring").count == 1
    everything = studio.export("txt")
    # everything, the most recently changed last
    assert everything.count == 2 and everything.text.index("Other") < everything.text.index("Coffee, warmer.")
    with pytest.raises(ConfigError, match="md, txt or csv"):
        studio.export("pdf")


def test_remote_writing_falls_back_to_the_local_model_with_a_notice(studio: StudioService,  # type: ignore[no-untyped-def]
                                                                   monkeypatch) -> None:
    monkeypatch.setattr("app.sync.credentials.get_api_key", lambda: "vk_test")
    remote = SyncSettings(enabled=True, server_url="http://127.0.0.1:9", timeout_s=2, use_remote_copywriting=True)
    drafted = studio.draft(SLOGAN, ScriptedChatLLM(*REPLIES), n=1, voice=VOICE, remote=remote)
    assert drafted.written.source == "local" and len(drafted.variants) == 1
    assert drafted.written.notice is not None and "written locally" in drafted.written.notice
    assert studio.get_draft(drafted.ids[0]).current.text == drafted.variants[0].text  # type: ignore[arg-type]
