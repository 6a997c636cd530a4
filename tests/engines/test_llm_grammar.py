"""JSON schema -> GBNF (engines/llm/grammar.py): the same grammar as llama-cpp-python's converter, plus
``x-contains`` strings that llama.cpp accepts and that really make the model write the phrase."""

from __future__ import annotations

import json
import re

import pytest
from llama_cpp import llama_grammar

from app.core.config import LLMSettings
from app.core.errors import ConfigError
from app.studio.analysis import term_pattern
from app.studio.prompts import json_schema
from app.studio.types import content_types, limits_for
from engines.base import ChatMessage
from engines.llm.grammar import phrase_forms, schema_to_gbnf
from engines.llm.llama_cpp import LlamaCppLLM
from tests.model_choice import SMALL_LLM

pytestmark = pytest.mark.real_models


@pytest.fixture(scope="module")
def llm() -> LlamaCppLLM:
    # engine mechanics (streaming, cancel, grammar): the small shipped model keeps them quick
    return LlamaCppLLM(LLMSettings(model=SMALL_LLM, temperature=0.0, max_tokens=64))


def test_without_x_contains_the_grammar_is_llama_cpp_pythons_own() -> None:
    for ctype in content_types().values():
        for platform in [*ctype.platforms] or [None]:
            schema = json_schema(ctype, limits_for(ctype, platform))
            assert schema_to_gbnf(schema) == llama_grammar.json_schema_to_gbnf(json.dumps(schema))


def test_phrase_forms_are_as_given_or_capitalised_never_mixed_case() -> None:
    assert phrase_forms("cold brew") == ["cold brew", "Cold brew", "Cold Brew"]
    assert phrase_forms("GPS  collar") == ["GPS collar", "GPS Collar"]
    assert phrase_forms("noise-cancelling") == ["noise-cancelling", "Noise-cancelling"]
    assert phrase_forms("Ledgerly") == ["Ledgerly"]


def test_a_phrase_that_cannot_fit_is_a_config_error(llm: LlamaCppLLM) -> None:
    schema = {"type": "object", "properties": {"t": {"type": "string", "maxLength": 8, "x-contains": ["far too long"]}},
              "required": ["t"]}
    with pytest.raises(ConfigError, match="grammar"):
        llm.chat([ChatMessage("user", "Hi")], json_schema=schema)


@pytest.mark.parametrize("phrases", [["moon boots"], ["Lisbon", "tram"]])
def test_the_model_cannot_close_the_string_without_the_phrases(llm: LlamaCppLLM, phrases: list[str]) -> None:
    """The prompt never mentions the phrases: only the grammar can put them there (greedy decoding)."""
    schema = {"type": "object", "additionalProperties": False, "required": ["slogan"],
              "properties": {"slogan": {"type": "string", "minLength": 2, "maxLength": 45, "x-contains": phrases,
                                        "x-contains-within": 36}}}
    answer = llm.chat([ChatMessage("user", "Write a slogan for a bakery as JSON.")], json_schema=schema,
                      max_tokens=60)
    slogan = json.loads(answer)["slogan"]
    assert len(slogan) <= 45
    found = [term_pattern(p).search(slogan) for p in phrases]
    assert all(found), slogan
    assert [m.start() for m in found if m] == sorted(m.start() for m in found if m)  # in the order given
    assert all(m.end() <= 36 for m in found if m)
    assert not re.search(r"(?i)(?<=[a-z])(moon boots|lisbon|tram)", slogan)  # whole words


def test_a_lead_makes_the_string_open_with_the_phrase(llm: LlamaCppLLM) -> None:
    schema = {"type": "object", "additionalProperties": False, "required": ["slogan"],
              "properties": {"slogan": {"type": "string", "minLength": 2, "maxLength": 45, "x-contains": ["moon boots"],
                                        "x-contains-lead": ["", "Acme "]}}}
    for temperature in (0.0, 0.9):
        answer = llm.chat([ChatMessage("user", "Write a slogan for a bakery as JSON.")], json_schema=schema,
                          max_tokens=60, temperature=temperature)
        slogan = json.loads(answer)["slogan"]
        assert re.match(r"(Acme )?(moon boots|Moon boots|Moon Boots)(?!\w)", slogan), slogan
        assert len(slogan) <= 45


def test_checking_the_picked_token_answers_as_checking_the_whole_vocabulary(llm: LlamaCppLLM) -> None:
    """Greedy decoding picks the same tokens with engines.llm.sampling as with llama-cpp-python's own
    grammar-first chain (which checks all 49,152 tokens against the grammar for every token)."""
    import llama_cpp

    from app.studio.brief import parse_brief
    from app.studio.prompts import build_messages

    brief = parse_brief({"type": "ad", "product": "BrewMate cold brew maker", "cta": "Order today",
                         "keywords": ["cold brew"], "key_points": ["ready overnight", "easy to clean"]})
    ctype = content_types()["ad"]
    schema = json_schema(ctype, brief.hard_limits(), keywords=brief.keywords, product=brief.product)
    messages = [{"role": m.role, "content": m.content} for m in build_messages(brief, None, [])]
    plain = llama_cpp.Llama(model_path=str(llm.model_path), n_ctx=llm.settings.n_ctx, n_threads=llm.n_threads,
                            verbose=False)
    expected = plain.create_chat_completion(
        messages=messages, grammar=llama_cpp.LlamaGrammar.from_string(schema_to_gbnf(schema), verbose=False),
        temperature=0.0, max_tokens=120)["choices"][0]["message"]["content"]
    llm._llm.reset()  # read the prompt from the start, as the fresh model does
    got = llm.chat([ChatMessage(m["role"], m["content"]) for m in messages], json_schema=schema, max_tokens=120)
    assert got == expected
    assert json.loads(got)["headline"].lower().startswith(("cold brew", "brewmate"))
