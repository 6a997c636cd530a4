"""Required keywords without a model: where each keyword goes (``keyword_plan``), what the schema and the
prompt say about it, and repairs that never cut a keyword out when any cut can keep it."""

from __future__ import annotations

import json
import re

from app.studio.analysis import term_pattern, words
from app.studio.brief import parse_brief
from app.studio.generate import generate_variants
from app.studio.prompts import brand_of, build_messages, json_schema, keyword_leads, keyword_plan
from app.studio.repair import repair, shorten
from app.studio.types import content_types, get_type, limits_for
from app.studio.voice import BrandVoice

from .conftest import ScriptedChatLLM

AD = {"type": "ad", "product": "BrewMate cold brew maker", "cta": "Order today", "keywords": ["cold brew"],
      "avoid": ["cheap"]}


def test_every_type_names_text_fields_for_its_keywords_and_its_examples_open_with_them() -> None:
    for ctype in content_types().values():
        assert ctype.keyword_fields, ctype.key
        for example in ctype.examples:
            plan = keyword_plan(ctype, limits_for(ctype, example.platform), example.brief.get("keywords") or [])
            assert plan, ctype.key
            for name, placed in plan.items():  # the few-shot answer shows the keyword where the prompt says
                text = str(example.output[name])
                leads = "|".join(re.escape(lead) for lead in keyword_leads(str(example.brief["product"])))
                assert re.match(f"(?:{leads})" + term_pattern(placed[0]).pattern, text, re.IGNORECASE), (
                    ctype.key, text)
                assert all(term_pattern(keyword).search(text) for keyword in placed)


def test_keywords_go_to_the_first_field_with_room_and_are_spread() -> None:
    ad, limits = get_type("ad"), limits_for(get_type("ad"), "google")  # headline 30, body 90
    assert keyword_plan(ad, limits, ["cold brew"]) == {"headline": ["cold brew"]}
    # longer than half the headline: the body takes it
    assert keyword_plan(ad, limits, ["smooth low-acid taste"]) == {"body": ["smooth low-acid taste"]}
    # the fewest keywords first; "iced" no longer fits in half the headline beside "cold brew"
    assert keyword_plan(ad, limits, ["cold brew", "glass carafe", "iced"]) == {
        "headline": ["cold brew"], "body": ["glass carafe", "iced"]}
    assert keyword_plan(ad, limits, ["brew", "carafe", "iced"]) == {"headline": ["brew", "iced"], "body": ["carafe"]}
    too_long = "a keyword phrase far too long for any field of a google ad at all"
    assert keyword_plan(ad, limits, [too_long]) == {}


def test_the_schema_opens_the_keyword_field_with_the_keyword() -> None:
    ad = get_type("ad")
    schema = json_schema(ad, limits_for(ad, "google"), keywords=["cold brew"], product="BrewMate cold brew maker")
    headline = schema["properties"]["headline"]
    assert headline["x-contains"] == ["cold brew"]
    assert headline["x-contains-lead"] == ["", "BrewMate ", "BrewMate: "]
    assert "x-contains" not in schema["properties"]["body"]
    social = get_type("social-post")
    text = json_schema(social, limits_for(social, "x"), keywords=["trail running"])["properties"]["text"]
    assert text["x-contains"] == ["trail running"] and text["x-contains-lead"] == [""]
    assert text["x-contains-within"] <= text["maxLength"] - 6  # for a second keyword in the same field
    assert "x-contains" not in json_schema(ad, limits_for(ad, "google"))["properties"]["headline"]


def test_brand_is_a_camel_case_first_word_only() -> None:
    assert brand_of("BrewMate cold brew maker") == "BrewMate"
    assert brand_of("Verde meal kit delivery") is None
    assert brand_of("Training a new puppy") is None
    assert brand_of("How to make cold brew at home") is None


def test_the_brief_line_says_where_the_keyword_goes() -> None:
    brief = parse_brief(AD)
    messages = build_messages(brief, None, [])
    assert "Use these words: cold brew (at the start of the headline)" in messages[-1].content
    assert "Use these words: hiking boots (at the start of the headline)" in messages[1].content  # the example


def test_a_keyword_with_a_banned_word_is_not_forced_in() -> None:
    brief = parse_brief({**AD, "keywords": ["coffee maker", "cold brew"]})
    voice = BrandVoice(name="BrewMate", banned=["coffee"])
    reply = json.dumps({"headline": "Cold brew, ready at 7", "body": "BrewMate makes smooth cold brew overnight.",
                        "cta": "Order today"})
    llm = ScriptedChatLLM(reply)
    generate_variants(brief, llm, n=1, candidates=1, voice=voice)
    contains = [p.get("x-contains") for p in llm.calls[0]["json_schema"]["properties"].values()]
    assert ["cold brew"] in contains and not any(c and "coffee maker" in c for c in contains)


def test_shorten_keeps_a_keyword_when_a_cut_can() -> None:
    slogan = "Stay close to your pup always. Know where it roams with the GPS collar."
    out = shorten(slogan, 50, 8, keep=["GPS collar"])
    assert term_pattern("GPS collar").search(out) and len(words(out)) <= 8 and len(out) <= 50
    assert shorten(slogan, 50, 8) == "Stay close to your pup always."  # without the keyword to keep
    body = "The GPS collar keeps track of your dog. It has a seven day battery and it is waterproof too."
    assert term_pattern("GPS collar").search(shorten(body, 30, keep=["GPS collar"]))


def test_repair_does_not_drop_a_keyword_the_grammar_put_last() -> None:
    ctype = get_type("slogan")
    limits = limits_for(ctype)
    # 45 characters (the schema's length for a 50-character slogan) ending in the keyword: looks cut off
    text = "Fresh food for busy young families, meal kit"
    fields, _ = repair({"slogan": text}, ctype, limits, [], ["meal kit"])
    assert term_pattern("meal kit").search(str(fields["slogan"]))
    fields, _ = repair({"slogan": text}, ctype, limits, [], [])
    assert not term_pattern("meal kit").search(str(fields["slogan"]))  # without it, the "cut" tail goes


def test_a_missing_keyword_becomes_a_hashtag_when_there_is_room() -> None:
    ctype = get_type("social-post")
    fields = {"text": "Grip on every rock, light on every climb. Meet RiverRun.", "hashtags": ["#Trail"]}
    out, done = repair(fields, ctype, limits_for(ctype, "x"), [], ["trail running"])
    assert out["hashtags"] == ["#Trail", "#TrailRunning"] and any("#TrailRunning" in d for d in done)
    full = {**fields, "hashtags": ["#Trail", "#Run"]}  # X allows 2 hashtags: no room
    assert repair(full, ctype, limits_for(ctype, "x"), [], ["trail running"])[0]["hashtags"] == ["#Trail", "#Run"]
    used = {**fields, "text": "Trail running season is here."}
    assert repair(used, ctype, limits_for(ctype, "x"), [], ["trail running"])[0]["hashtags"] == ["#Trail"]


def test_ranking_puts_keyword_coverage_before_the_score() -> None:
    with_kw = json.dumps({"headline": "Cold brew for you", "body": "BrewMate makes cold brew.", "cta": "Order today"})
    without = json.dumps({"headline": "Smooth mornings ahead", "body": "BrewMate makes smooth drinks overnight "
                          "for every busy morning of the week.", "cta": "Order today"})
    variants = generate_variants(parse_brief(AD), ScriptedChatLLM(without, with_kw), n=2, candidates=2, attempts=1)
    assert [v.analysis.keyword_coverage for v in variants] == [1.0, 0.0]
