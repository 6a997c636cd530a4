"""Reopening a draft for editing: its brief, brand voice and the drafts of its generation, re-analysed;
what cannot be restored is said, never silently dropped."""

from __future__ import annotations

from app.store.drafts import DraftStore
from app.store.voices import VoiceStore
from app.studio.brief import parse_brief
from app.studio.generate import evaluate
from app.studio.library import open_draft, save_variants, save_version, save_voice
from app.studio.voice import BrandVoice

BRIEF = parse_brief({"type": "slogan", "product": "Brightside Coffee", "keywords": ["coffee"], "tone": "warm",
                     "voice": "Brightside"})
VOICE = BrandVoice(name="Brightside", tone=["warm"], banned=["cheap"])


def test_a_draft_reopens_with_its_brief_voice_and_siblings(drafts: DraftStore, voices: VoiceStore) -> None:
    save_voice(voices, VOICE)
    texts = ["Brightside coffee, bright mornings.", "Cheap coffee, warm hearts.", "Coffee that wakes the town."]
    ids = save_variants(drafts, BRIEF, [evaluate({"slogan": t}, BRIEF, VOICE) for t in texts], voice=VOICE)
    save_version(drafts, ids[1], evaluate({"slogan": "Good coffee, warm hearts."}, BRIEF, VOICE, source="edited"))
    drafts.set_favourite(ids[2])
    drafts.delete_draft(ids[0])

    opened = open_draft(drafts, voices, ids[1])
    assert opened.draft_id == ids[1] and opened.brief == BRIEF and opened.voice == VOICE and opened.notices == []
    assert [v.draft_id for v in opened.variants] == ids[1:]  # the deleted sibling stays in the trash
    edited, starred = opened.variants
    assert (edited.version, edited.variant.source, edited.variant.text) == (2, "edited", "Good coffee, warm hearts.")
    assert starred.favourite and not edited.favourite and starred.version == 1
    assert edited.variant.passes


def test_a_missing_voice_or_brief_is_reported(drafts: DraftStore, voices: VoiceStore) -> None:
    [with_voice] = save_variants(drafts, BRIEF, [evaluate({"slogan": "Coffee, warm."}, BRIEF)])
    opened = open_draft(drafts, voices, with_voice)
    assert opened.voice is None and opened.brief.voice is None
    assert opened.notices == ["The brand voice 'Brightside' is no longer saved: the drafts are analysed without it."]

    bare = drafts.create_draft(type_="slogan", title="Loose slogan", fields={"slogan": "Hello"}, text="Hello")
    opened = open_draft(drafts, voices, bare)
    assert opened.brief.product == "Loose slogan" and opened.brief.type == "slogan"
    assert [v.draft_id for v in opened.variants] == [bare] and "no saved brief" in opened.notices[0]

    broken_brief = drafts.save_brief("slogan", "X", {"type": "slogan"})  # no product: not a valid brief
    broken = drafts.create_draft(type_="slogan", title="Broken", fields={"slogan": "Hi"}, text="Hi",
                                 brief_id=broken_brief)
    opened = open_draft(drafts, voices, broken)
    assert opened.brief.product == "Broken" and "could not be read (product: Field required)" in opened.notices[0]
