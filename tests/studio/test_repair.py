"""Repairs and ranking with a scripted LLM (fixed answers): banned words never survive, long fields are
shortened at word boundaries, failing variants are shown as failing, LLM output is only data."""

from __future__ import annotations

import json
import threading

import pytest

from app.core.errors import Cancelled, ConfigError
from app.studio.analysis import count_term, words
from app.studio.brief import parse_brief
from app.studio.generate import generate_variants, rewrite
from app.studio.repair import hashtag, parse_fields, remove_terms, shorten, untruncate
from app.studio.types import get_type
from app.studio.voice import BrandVoice

from .conftest import ScriptedChatLLM

AD = {"type": "ad", "product": "BrewMate cold brew maker", "cta": "Order today", "keywords": ["cold brew"],
      "avoid": ["cheap"]}


def test_shorten_keeps_whole_sentences_or_whole_words() -> None:
    text = "Cold brew in twelve hours. Smooth and low in acid. Easy to clean after every batch."
    assert shorten(text, 60) == "Cold brew in twelve hours. Smooth and low in acid."
    cut = shorten("Wonderfully smooth cold brew for the whole family", 30)
    assert len(cut) <= 30 and "Wonderfully smooth cold brew".startswith(cut)
    assert not cut.endswith((" for", " the"))
    assert len(words(shorten(text, max_words=5))) <= 5
    assert shorten("short", 30) == "short"


def test_untruncate_drops_the_cut_tail() -> None:
    cut = "BrewMate is the best cold brew maker. It comes with a glass carafe and a reusable fil"
    assert untruncate(cut, len(cut) + 2) == "BrewMate is the best cold brew maker."
    finished = "A complete sentence."
    assert untruncate(finished, len(finished)) == finished


def test_remove_terms_removes_every_occurrence_any_case() -> None:
    out = remove_terms("Cheap, cheap and CHEAP cold brew. Not cheapskate.", ["cheap"])
    assert count_term("cheap", out) == 0
    assert "cheapskate" in out


def test_hashtag_normalises() -> None:
    assert hashtag("cold brew!") == "#ColdBrew"
    assert hashtag("#Coffee") == "#Coffee"
    assert hashtag("123") == ""


def test_parse_salvages_truncated_json_and_ignores_junk() -> None:
    ctype = get_type("product-description")
    raw = '{"title": "BrewMate", "body": "Smooth cold brew at home", "bullets": ["Easy to clean", "Glass'
    fields = parse_fields(raw, ctype)
    assert fields["title"] == "BrewMate" and fields["body"].startswith("Smooth")
    assert fields["bullets"] == ["Easy to clean"]
    assert parse_fields("rm -rf / ; not json at all", ctype) == {"title": "", "body": "", "bullets": []}


def test_banned_words_never_survive_a_repair() -> None:
    reply = json.dumps({"headline": "Cheap Cold Brew", "body": "The cheap way to smooth cold brew. CHEAP!",
                        "cta": "Order today"})
    llm = ScriptedChatLLM(reply)
    voice = BrandVoice(name="BrewMate", banned=["smooth"])
    variants = generate_variants(parse_brief(AD), llm, n=2, voice=voice)
    assert len(variants) == 2
    for variant in variants:
        assert count_term("cheap", variant.text) == 0 and count_term("smooth", variant.text) == 0
        assert not variant.analysis.banned_found
        assert any("banned" in r for r in variant.repairs)
    system = llm.calls[0]["messages"][0].content
    assert "cheap" in system and "smooth" in system  # the model was told, too


def test_over_long_fields_are_shortened_to_the_hard_limit() -> None:
    reply = json.dumps({"headline": "The Smoothest Cold Brew You Will Ever Make At Home",
                        "body": "BrewMate makes cold brew overnight. " * 6, "cta": "Order today"})
    variant = generate_variants(parse_brief(AD), ScriptedChatLLM(reply), n=1)[0]
    assert variant.passes
    assert len(variant.fields["headline"]) <= 30 and len(variant.fields["body"]) <= 90
    assert any(r.startswith("shortened headline") for r in variant.repairs)


def test_an_unfixable_variant_is_returned_as_failing_not_hidden() -> None:
    llm = ScriptedChatLLM('{"headline": "", "body": "", "cta": ""}')
    variants = generate_variants(parse_brief(AD), llm, n=3, attempts=2)
    assert len(variants) == 3
    assert all(not v.passes for v in variants)
    assert all(any(p.code == "missing" and p.hard for p in v.problems) for v in variants)
    assert len(llm.calls) == 4 * 2  # n + 1 candidates, each sampled twice before giving up


def test_regeneration_keeps_the_passing_sample_and_ranks_it_first() -> None:
    bad = json.dumps({"headline": "TrailPro Boots", "body": "TrailPro hiking boots for all.", "cta": "Shop"})
    good = json.dumps({"headline": "Cold Brew Made Easy", "body": "BrewMate makes smooth cold brew overnight.",
                       "cta": "Order today"})
    variants = generate_variants(parse_brief(AD), ScriptedChatLLM(bad, good), n=1, candidates=1)
    assert variants[0].passes and variants[0].attempts == 2
    assert "BrewMate" in variants[0].text


def test_the_schema_asks_for_every_field_within_its_limit() -> None:
    llm = ScriptedChatLLM('{"headline": "Cold Brew", "body": "BrewMate cold brew.", "cta": "Order today"}')
    generate_variants(parse_brief({**AD, "platform": "meta"}), llm, n=1, candidates=1)
    schema = llm.calls[0]["json_schema"]
    assert schema["required"] == ["headline", "body", "cta"]
    assert schema["properties"]["headline"]["maxLength"] <= 40
    assert schema["properties"]["body"]["maxLength"] <= 125


def test_cancel_before_start_raises() -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        generate_variants(parse_brief(AD), ScriptedChatLLM("{}"), n=1, cancel=cancel)


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError):
        generate_variants(parse_brief(AD), ScriptedChatLLM("{}"), n=0)
    with pytest.raises(ConfigError):
        rewrite({"headline": "x"}, parse_brief(AD), ScriptedChatLLM("{}"), "keyword")


def test_shorter_rewrite_is_always_shorter() -> None:
    original = {"headline": "Cold Brew Made Easy", "body": "BrewMate makes smooth cold brew overnight for you.",
                "cta": "Order today"}
    stubborn = ScriptedChatLLM(json.dumps(original))  # the model "rewrites" it unchanged
    out = rewrite(original, parse_brief(AD), stubborn, "shorter")
    assert len(out.fields["body"]) < len(original["body"])
    assert out.source == "rewrite:shorter"


def test_keyword_rewrite_adds_the_keyword_to_the_analysis() -> None:
    original = {"headline": "Cold Brew Made Easy", "body": "BrewMate makes cold brew overnight.",
                "cta": "Order today"}
    with_kw = {**original, "body": "BrewMate makes cold brew overnight in a glass carafe."}
    out = rewrite(original, parse_brief(AD), ScriptedChatLLM(json.dumps(with_kw)), "keyword",
                  keyword="glass carafe")
    assert {k.keyword: k.count for k in out.analysis.keywords}["glass carafe"] == 1


def test_a_banned_word_removed_leaves_no_sentence_hanging_on_a_connector() -> None:
    """Today a repaired field could end "…on your." once a banned word was taken out of it."""
    from app.studio.repair import mend_endings, remove_terms

    text = remove_terms("Start every morning right. Save ten percent on your coffee.", ["coffee"])
    assert text.endswith("on your.")  # what removing the word alone leaves
    assert mend_endings(text) == "Start every morning right. Save ten percent."
    assert mend_endings("Smooth taste, every time!") == "Smooth taste, every time!"
    assert mend_endings("Line one is fine.\nBuy it for the.") == "Line one is fine.\nBuy it."
