"""Analysis numbers against textstat and VADER on fixed texts; counts, limits, keywords, banned words,
passive voice and long sentences."""

from __future__ import annotations

import pytest
import textstat
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from app.studio.analysis import (
    analyze,
    ensure_cmudict,
    long_sentences,
    passive_sentences,
    readability,
    sentences,
    sentiment,
)
from app.studio.brief import parse_brief

SIMPLE = "The cat sat on the mat. It was a sunny day. We had fun in the park."
COMPLEX = (
    "Notwithstanding the aforementioned considerations, the organisation's comprehensive infrastructural "
    "modernisation initiative necessitates substantial interdepartmental coordination and administrative "
    "reorganisation."
)
HAPPY = "I absolutely love this wonderful, delightful coffee maker!"
ANGRY = "This is a terrible, awful product and I hate it."


@pytest.mark.parametrize("text", [SIMPLE, COMPLEX, HAPPY])
def test_readability_is_textstats_flesch(text: str) -> None:
    assert ensure_cmudict()
    ease, grade = readability(text)
    assert ease == pytest.approx(textstat.flesch_reading_ease(text), abs=1e-6)
    assert grade == pytest.approx(textstat.flesch_kincaid_grade(text), abs=1e-6)


def test_readability_orders_simple_above_complex() -> None:
    simple_ease, simple_grade = readability(SIMPLE)
    hard_ease, hard_grade = readability(COMPLEX)
    assert simple_ease is not None and hard_ease is not None
    assert simple_ease > 90 > 20 > hard_ease
    assert simple_grade is not None and hard_grade is not None and simple_grade < 3 < 15 < hard_grade


def test_readability_needs_no_network(no_network: None) -> None:
    ease, _ = readability("Fresh bread every morning. Order yours today.")
    assert ease is not None


@pytest.mark.parametrize("text", [HAPPY, ANGRY, SIMPLE])
def test_sentiment_is_vaders(text: str) -> None:
    expected = SentimentIntensityAnalyzer().polarity_scores(text)
    got = sentiment(text)
    assert got.compound == pytest.approx(expected["compound"])
    assert (got.positive, got.neutral, got.negative) == pytest.approx((expected["pos"], expected["neu"],
                                                                        expected["neg"]))


def test_sentiment_labels() -> None:
    assert sentiment(HAPPY).label == "positive"
    assert sentiment(ANGRY).label == "negative"
    assert sentiment("The box is 20 cm wide.").label == "neutral"


def test_passive_voice_and_long_sentences() -> None:
    text = ("The beans were roasted by hand. We roast every batch ourselves. The store is open late. "
            "Our cold brew maker is made from glass. " + " ".join(["word"] * 30) + ".")
    found = sentences(text)
    assert passive_sentences(found) == ["The beans were roasted by hand.", "Our cold brew maker is made from glass."]
    assert long_sentences(found) == [found[-1]]


def _ad(**fields: object) -> dict[str, object]:
    base = {"headline": "Smooth Cold Brew at Home", "body": "BrewMate makes cold brew in 12 hours.",
            "cta": "Order today"}
    base.update(fields)
    return base


def test_counts_against_limits_and_keywords() -> None:
    brief = parse_brief({"type": "ad", "product": "BrewMate", "cta": "Order today",
                         "keywords": ["cold brew", "glass carafe"]})
    a = analyze(_ad(), brief)
    assert a.fields["headline"].chars == len("Smooth Cold Brew at Home") and a.fields["headline"].max_chars == 30
    assert a.fields["body"].max_chars == 90
    assert [(k.keyword, k.count) for k in a.keywords] == [("cold brew", 2), ("glass carafe", 0)]
    assert a.keyword_coverage == 0.5
    # density: 2 occurrences x 2 words out of all words
    total = a.words
    assert a.keywords[0].density == pytest.approx(round(100 * 4 / total, 2))
    assert a.passes
    assert any(p.code == "keyword_missing" and not p.hard for p in a.problems)


def test_too_long_fields_fail_hard() -> None:
    brief = parse_brief({"type": "ad", "product": "BrewMate", "cta": "Order today"})
    a = analyze(_ad(headline="A headline that is far longer than thirty characters"), brief)
    assert not a.passes
    assert [p.field for p in a.problems if p.hard] == ["headline"]
    meta = parse_brief({"type": "ad", "product": "BrewMate", "cta": "Order today", "platform": "meta"})
    assert analyze(_ad(headline="A headline of thirty-five chars.."), meta).passes  # Meta allows 40


def test_banned_words_from_brief_and_voice() -> None:
    from app.studio.voice import BrandVoice

    brief = parse_brief({"type": "ad", "product": "BrewMate", "cta": "Order today", "avoid": ["cheap"]})
    voice = BrandVoice(name="B", banned=["smooth"])
    a = analyze(_ad(body="Cheap and cheerful cold brew."), brief, voice)
    assert sorted(a.banned_found) == ["cheap", "smooth"]
    assert not a.passes
    assert analyze(_ad(headline="Cold brew at home", body="Cheapskate-proof cold brew."), brief, voice).passes


def test_social_post_hashtag_rules_per_platform() -> None:
    x = parse_brief({"type": "social-post", "product": "BrewMate", "platform": "x"})
    post = {"text": "Cold brew, ready when you wake up.", "hashtags": ["#ColdBrew", "#Coffee", "#Morning"]}
    a = analyze(post, x)
    assert not a.passes and any(p.code == "too_many_items" for p in a.problems)  # X: 2 hashtags
    insta = parse_brief({"type": "social-post", "product": "BrewMate", "platform": "instagram"})
    assert analyze(post, insta).passes
    assert not analyze({**post, "hashtags": ["#Cold Brew"]}, insta).passes  # not one word
    long_post = {"text": "word " * 49 + "end.", "hashtags": ["#ColdBrew"]}
    assert analyze(long_post, insta).passes
    assert not analyze({"text": ("word " * 55).strip() + ".", "hashtags": ["#ColdBrew"]}, x).passes


def test_video_script_must_be_speakable_and_fit_its_duration() -> None:
    brief = parse_brief({"type": "video-script", "product": "BrewMate", "duration_s": 20})
    fine = {"hook": "Tired mornings?", "script": "BrewMate makes cold brew overnight.", "cta": "Try it today."}
    assert analyze(fine, brief).passes
    assert not analyze({**fine, "script": "Visit www.brewmate.example #coffee"}, brief).passes
    words_50 = " ".join(["coffee"] * 50) + "."
    a = analyze({**fine, "script": words_50}, brief)
    assert any(p.code == "too_long_to_say" for p in a.problems)  # 20 s x 2.5 words/s = 50 words in all


def test_copying_the_few_shot_example_is_flagged() -> None:
    brief = parse_brief({"type": "ad", "product": "BrewMate", "cta": "Order today"})
    a = analyze(_ad(body="TrailPro hiking boots keep your feet dry."), brief)
    assert any(p.code == "copied_example" and p.hard for p in a.problems)


def test_score_prefers_the_better_variant() -> None:
    brief = parse_brief({"type": "ad", "product": "BrewMate", "cta": "Order today", "keywords": ["cold brew"]})
    good = analyze(_ad(), brief)
    weak = analyze(_ad(headline="Nice things", body="Things for your kitchen and home today."), brief)
    assert good.score > weak.score
