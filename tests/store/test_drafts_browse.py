"""What the studio's drafts browser reads: a page of summaries, counts, starred-only search, the drafts
of one brief, and delete with undo (restore)."""

from __future__ import annotations

import pytest

from app.core.errors import ConfigError, NotFoundError
from app.store import Store
from app.store.drafts import MARK_END, MARK_START, Drafts


def make(drafts: Drafts, title: str, text: str, *, brief_id: int | None = None) -> int:
    return drafts.create_draft(type_="slogan", title=title, fields={"slogan": text}, text=text, brief_id=brief_id,
                               passes=True)


def test_delete_hides_a_draft_everywhere_and_restore_brings_it_back(store: Store) -> None:
    drafts = Drafts(store.database)
    keep = make(drafts, "Keep", "Morning harmonica")
    gone = make(drafts, "Gone", "Evening kazoo")
    drafts.add_version(gone, fields={"slogan": "Evening kazoo, louder"}, text="Evening kazoo, louder")

    drafts.delete_draft(gone)
    assert [d.id for d in drafts.list_summaries()] == [keep]
    assert drafts.count_drafts() == 1
    assert drafts.search("kazoo") == []
    with pytest.raises(NotFoundError):
        drafts.get_draft(gone)

    drafts.restore_draft(gone)
    drafts.restore_draft(gone)  # restoring a live draft is harmless
    assert {d.id for d in drafts.list_summaries()} == {keep, gone}
    assert [h.draft_id for h in drafts.search("kazoo")] == [gone]
    restored = drafts.get_draft(gone)
    assert [v.number for v in restored.versions] == [1, 2] and restored.text == "Evening kazoo, louder"
    with pytest.raises(NotFoundError, match="no draft 999"):
        drafts.restore_draft(999)


def test_summaries_page_in_list_order_without_versions(store: Store) -> None:
    drafts = Drafts(store.database)
    ids = [make(drafts, f"Draft {i}", f"text number {i} " + "long " * 100) for i in range(7)]
    drafts.set_favourite(ids[2])
    first = drafts.list_summaries(3)
    second = drafts.list_summaries(3, offset=3)
    last = drafts.list_summaries(3, offset=6)
    order = [d.id for d in first + second + last]
    assert order == [d.id for d in drafts.list_drafts()] and order[0] == ids[2]
    assert sorted(order) == ids and len(last) == 1
    top = first[0]
    assert top.favourite and top.title == "Draft 2" and top.versions == 1 and top.passes is True
    assert len(top.text) == 200 and top.text.startswith("text number 2")
    assert drafts.count_drafts() == 7 and drafts.count_drafts(favourites_only=True) == 1
    assert [d.id for d in drafts.list_summaries(favourites_only=True)] == [ids[2]]
    with pytest.raises(ConfigError):
        drafts.list_summaries(-1)


def test_search_can_be_limited_to_starred_drafts(store: Store) -> None:
    drafts = Drafts(store.database)
    plain = make(drafts, "Plain", "Coffee for commuters")
    starred = make(drafts, "Starred", "Coffee for night owls")
    drafts.set_favourite(starred)
    assert {h.draft_id for h in drafts.search("coffee")} == {plain, starred}
    hits = drafts.search("coffee", favourites_only=True)
    assert [h.draft_id for h in hits] == [starred] and hits[0].favourite and "[Coffee]" in hits[0].snippet


def test_drafts_of_a_brief_are_one_generation_oldest_first(store: Store) -> None:
    drafts = Drafts(store.database)
    brief = drafts.save_brief("slogan", "Brightside", {"type": "slogan", "product": "Brightside"})
    other = drafts.save_brief("slogan", "Other", {"type": "slogan", "product": "Other"})
    a = make(drafts, "A", "one", brief_id=brief)
    make(drafts, "X", "elsewhere", brief_id=other)
    b = make(drafts, "B", "two", brief_id=brief)
    c = make(drafts, "C", "three", brief_id=brief)
    drafts.delete_draft(b)
    assert [d.id for d in drafts.drafts_of_brief(brief)] == [a, c]
    assert drafts.drafts_of_brief(12345) == []


def test_hits_mark_the_title_and_the_text_apart_even_with_brackets_in_the_text(store: Store) -> None:
    drafts = Drafts(store.database)
    draft = make(drafts, "Brightside Coffee (landing hero 1)", "Coffee for commuters\n[Start today]")
    [hit] = drafts.search("coffee")
    assert hit.draft_id == draft and hit.snippet == "Brightside [Coffee] (landing hero 1)"  # the CLI's, as before
    assert hit.title_marked == f"Brightside {MARK_START}Coffee{MARK_END} (landing hero 1)"
    assert hit.text_snippet == f"{MARK_START}Coffee{MARK_END} for commuters\n[Start today]"
    [by_text] = drafts.search("today")
    assert by_text.title_marked == "Brightside Coffee (landing hero 1)"
    assert by_text.text_snippet == f"Coffee for commuters\n[Start {MARK_START}today{MARK_END}]"
