"""Required keywords land in the copy with the real model (SmolLM2-135M through llama.cpp).

The keyword's field (the slogan, the ad headline) is generated under a grammar that opens it with the
keyword (``x-contains``), so what a user notices is that every final variant uses the brief's words,
while hard limits and banned words are kept as before.

Measured with bench/studio.py over the 3 slogan and 3 ad briefs, 3 variants each: keyword coverage
went from 1/9 (slogans) and 3/9 (ads) to 9/9 and 9/9, all 18 within every hard limit. Sampling uses
llama-cpp-python's fixed default seed; the rate asserted (at least 8 of 9) leaves room for the
rounding differences a different cache state brings.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from app.core.errors import Cancelled
from app.studio.analysis import count_term, term_pattern
from app.studio.brief import load_brief
from app.studio.generate import Variant, generate_variants
from app.studio.prompts import json_schema
from app.studio.types import content_types, limits_for
from app.studio.voice import load_voice
from engines.llm.grammar import schema_to_gbnf

from .conftest import BRIEFS, VOICES
from .test_generate_real import _limits_met

pytestmark = pytest.mark.real_models


def _uses_every_keyword(variant: Variant, keywords: list[str]) -> bool:
    tags = [t.lstrip("#").lower() for t in variant.analysis.hashtags]
    return all(term_pattern(k).search(variant.text) or "".join(k.split()).lower() in tags for k in keywords)


@pytest.mark.parametrize("type_key", ["slogan", "ad"])
def test_required_keywords_appear_in_the_final_variants(real_llm: Any, type_key: str) -> None:
    used = total = 0
    for index in (1, 2, 3):
        brief = load_brief(BRIEFS / f"{type_key}-{index}.toml")
        assert brief.keywords
        for variant in generate_variants(brief, real_llm, n=3):
            total += 1
            uses = _uses_every_keyword(variant, brief.keywords)
            used += uses
            assert (variant.analysis.keyword_coverage == 1.0) == uses, variant.text
            broken = _limits_met(brief, variant.fields)
            assert broken == [] if variant.passes else any(p.hard for p in variant.problems), (broken, variant.text)
            for term in brief.avoid:
                assert count_term(term, variant.text) == 0, variant.text
    assert used >= 8, f"only {used} of {total} {type_key} variants use the brief's keywords"


def test_every_studio_schema_with_keywords_parses_in_llama_cpp(real_llm: Any) -> None:
    """llama.cpp aborts the process on a grammar it cannot parse, so each one is checked by the parser."""
    keyword_sets = [["cold brew"], ["GPS collar", "waterproof"], ['say "hi"', "C:\\path", "café au lait"]]
    for ctype in content_types().values():
        for platform in [*ctype.platforms] or [None]:
            for keywords in keyword_sets:
                schema = json_schema(ctype, limits_for(ctype, platform), keywords=keywords,
                                     product="BrewMate cold brew maker")
                grammar = schema_to_gbnf(schema)
                real_llm._grammar(grammar)  # raises ConfigError if llama.cpp cannot parse it
                assert any("x-contains" in p for p in schema["properties"].values()) == bool(ctype.keyword_fields)


def test_a_keyword_never_brings_back_a_banned_word(real_llm: Any) -> None:
    """The voice bans "coffee"; a keyword with it in is not forced in, and the word never survives."""
    brief = load_brief(BRIEFS / "slogan-2.toml").model_copy(
        update={"product": "BrewMate cold brew maker", "keywords": ["coffee maker", "cold brew"]})
    voice = load_voice(VOICES / "brewmate.toml")
    variants = generate_variants(brief, real_llm, n=2, candidates=2, voice=voice)
    for variant in variants:
        assert count_term("coffee", variant.text) == 0, variant.text
        assert term_pattern("cold brew").search(variant.text), variant.text  # the allowed keyword still lands
        assert variant.analysis.banned_found == []


def test_cancel_while_the_model_reads_a_studio_prompt(real_llm: Any) -> None:
    """The few-shot prompt of an email brief is about 380 tokens: 1.5 s to read on one core when the
    machine is quiet (much longer under load). A cancel 0.1 s in stops the reading within a chunk."""
    brief = load_brief(BRIEFS / "email-1.toml")
    real_llm._llm.reset()  # nothing cached: the prompt must be read from the start
    cancel = threading.Event()
    timer = threading.Timer(0.1, cancel.set)
    started = time.perf_counter()
    timer.start()
    with pytest.raises(Cancelled):
        generate_variants(brief, real_llm, n=1, candidates=1, attempts=1, cancel=cancel)
    elapsed = time.perf_counter() - started
    timer.cancel()
    assert real_llm._llm.n_tokens < 300, f"read {real_llm._llm.n_tokens} tokens in {elapsed:.2f} s"
    # the model works right after it
    [variant] = generate_variants(brief, real_llm, n=1, candidates=1, attempts=1)
    assert variant.text.strip()
