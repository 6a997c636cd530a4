"""Prompt building: per-type instructions and few-shot examples from ``assets/studio/types``, the
brief as short labelled lines, the brand voice, and a JSON schema that makes llama.cpp return each
field separately and within its hard limit.

Required keywords are bound to the type's ``keyword_fields`` (``keyword_plan``): the brief line says
where each goes, the few-shot examples show it there, and the schema marks that field
``"x-contains": [keyword]``, which the llama.cpp engine turns into a grammar (``engines/llm/grammar.py``).
The field opens with its (first) keyword, alone or after the brand ("Cold brew, ready when you
are", "BrewMate cold brew ..."): a tiny model that did not plan the keyword would otherwise get it
forced in wherever its room ran out, often mid-word, and a long field would ramble on while the
grammar kept it from closing (measured: product descriptions took 10.1 instead of 6.1 s a variant).
Further keywords of the same field come anywhere before its last quarter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from app.studio.brief import Brief
from app.studio.types import ContentType, Limits, get_type, limits_for
from app.studio.voice import BrandVoice
from engines.base import ChatMessage

#: the model sees a field's character limit lowered by this much, leaving room for the repair step
LIMIT_MARGIN = 0.9
#: longest string the schema bounds: llama.cpp refuses (and aborts on) grammars with much larger
#: repetitions; longer fields (a LinkedIn post) are bounded by max_tokens and then by repair
SCHEMA_MAX_CHARS = 800
#: keywords bound to one field take at most this share of its (schema) length: room to write around them
KEYWORD_SHARE = 0.5
#: a field's keywords must be written this far before its end (a quarter of it, 6 to 60 characters), so
#: that a keyword the grammar forces in is not the cut-off end of the text
KEYWORD_ROOM = (0.25, 6, 60)


def brand_of(product: str) -> str | None:
    """The brand at the head of a product name: a CamelCase first word ("BrewMate cold brew maker")."""
    first = product.split()[0] if product.split() else ""
    if len(first) >= 3 and first[0].isupper() and any(c.isupper() for c in first[1:]) and first.isalnum():
        return first
    return None


def keyword_leads(product: str) -> list[str]:
    """What a field may put before its first keyword: nothing, or the brand."""
    brand = brand_of(product)
    return ["", f"{brand} ", f"{brand}: "] if brand else [""]


def schema_max_length(cap: int, scale: float = LIMIT_MARGIN) -> int:
    """The length the schema allows for a field whose hard limit is ``cap``."""
    return min(max(int(cap * scale), min(cap, 8)), SCHEMA_MAX_CHARS)


def keyword_plan(ctype: ContentType, limits: Limits, keywords: Sequence[str], *,
                 caps: Mapping[str, int] | None = None, scale: float = LIMIT_MARGIN) -> dict[str, list[str]]:
    """Which of the type's ``keyword_fields`` carries each required keyword (brief order kept in a field).

    Each keyword goes to the field with the fewest keywords so far (ties: the type's order) where all
    its keywords take at most ``KEYWORD_SHARE`` of the length; a keyword that fits nowhere is left to
    the prompt alone.
    """
    budgets: dict[str, int] = {}
    for name in ctype.keyword_fields:
        cap = (caps or {}).get(name) or limits.max_chars.get(name)
        if cap:
            budgets[name] = schema_max_length(cap, scale)
    plan: dict[str, list[str]] = {name: [] for name in budgets}
    for keyword in keywords:
        phrase = " ".join(keyword.split())
        if not phrase:
            continue
        fits = [name for name in budgets
                if sum(len(k) + 1 for k in plan[name]) + len(phrase) <= KEYWORD_SHARE * budgets[name]]
        if fits:
            best = min(fits, key=lambda name: (len(plan[name]), ctype.keyword_fields.index(name)))
            plan[best].append(phrase)
    return {name: words for name, words in plan.items() if words}


def brief_lines(brief: Mapping[str, Any], ctype: ContentType, limits: Limits | None = None,
                plan: Mapping[str, list[str]] | None = None) -> str:
    """The brief as the user message: a task line then ``Label: value`` lines for what is filled in.

    With a keyword ``plan`` the keywords line says which field each keyword goes in."""
    platform = brief.get("platform") or (limits.platform if limits else None)
    task = f"Write a {ctype.label.lower()}"
    if platform and platform in ctype.platforms:
        task += f" for {ctype.platforms[platform].label}"
    lines = [task + "."]
    labels = [("product", "Product"), ("audience", "Audience"), ("key_points", "Key points"),
              ("keywords", "Use these words"), ("tone", "Tone"), ("cta", "Call to action"),
              ("notes", "Notes")]
    for key, label in labels:
        value = brief.get(key)
        if not value:
            continue
        if key == "keywords" and plan:
            value = [_placed(str(k), plan, ctype) for k in value]
        text = "; ".join(value) if isinstance(value, list) else str(value)
        lines.append(f"{label}: {text}")
    language = brief.get("language") or "English"
    if str(language).lower() not in ("english", "en"):
        lines.append(f"Language: write in {language}")
    length = brief.get("length") or "medium"
    for spec in ctype.fields:
        if spec.target_words:
            lines.append(f"Length of the {spec.label.lower()}: about {spec.target_words[length]} words")
    if brief.get("avoid"):
        lines.append(f"Never use these words: {', '.join(brief['avoid'])}")
    return "\n".join(lines)


def _placed(keyword: str, plan: Mapping[str, list[str]], ctype: ContentType) -> str:
    phrase = " ".join(keyword.split())
    for name, placed in plan.items():
        if phrase in placed:
            label = ctype.field(name).label.lower()
            return f"{keyword} ({'at the start of' if placed[0] == phrase else 'in'} the {label})"
    return keyword


def field_rules(ctype: ContentType, limits: Limits) -> str:
    parts = []
    for spec in ctype.fields:
        if spec.kind == "list":
            count = limits.max_items.get(spec.name)
            low = limits.min_items.get(spec.name, 0)
            span = f"{low} to {count}" if count else f"at least {low}"
            parts.append(f'"{spec.name}" ({spec.label.lower()}: a list of {span} short items)')
        else:
            cap = limits.max_chars.get(spec.name)
            parts.append(f'"{spec.name}" ({spec.label.lower()}' + (f", at most {cap} characters)" if cap else ")"))
    return "Answer with JSON only, with these fields: " + ", ".join(parts) + "."


def system_prompt(ctype: ContentType, limits: Limits, voice: BrandVoice | None, banned: list[str]) -> str:
    lines = ["You are an expert marketing copywriter.", ctype.instructions]
    if voice is not None:
        lines.extend(voice.system_lines())
    if banned:
        lines.append(f"Never use these words: {', '.join(banned)}.")
    lines.append(field_rules(ctype, limits))
    return "\n".join(lines)


def json_schema(ctype: ContentType, limits: Limits, *, scale: float = LIMIT_MARGIN,
                caps: Mapping[str, int] | None = None, keywords: Sequence[str] = (),
                product: str = "") -> dict[str, Any]:
    """A JSON schema with every field required, in order, and each string within its limit; the
    fields that carry ``keywords`` (``keyword_plan``) list them in ``x-contains``: the field opens
    with the first (``x-contains-lead``: nothing or the brand of ``product`` before it) and uses the
    others before its last quarter (``x-contains-within``)."""
    plan = keyword_plan(ctype, limits, keywords, caps=caps, scale=scale)
    props: dict[str, Any] = {}
    for spec in ctype.fields:
        if spec.kind == "list":
            item: dict[str, Any] = {"type": "string", "minLength": 2}
            if spec.item_max_chars:
                item["maxLength"] = spec.item_max_chars
            if spec.item_pattern:
                item["pattern"] = spec.item_pattern
            schema: dict[str, Any] = {"type": "array", "items": item,
                                      "minItems": max(limits.min_items.get(spec.name, 0), 1)}
            if spec.name in limits.max_items:
                schema["maxItems"] = limits.max_items[spec.name]
            props[spec.name] = schema
        else:
            cap = (caps or {}).get(spec.name) or limits.max_chars.get(spec.name)
            text: dict[str, Any] = {"type": "string", "minLength": 2}
            if cap:
                text["maxLength"] = schema_max_length(cap, scale)
            if spec.name in plan and "maxLength" in text:
                length = text["maxLength"]
                share, low, high = KEYWORD_ROOM
                needed = sum(len(k) + 1 for k in plan[spec.name]) - 1
                text["x-contains"] = plan[spec.name]
                text["x-contains-within"] = max(length - min(max(int(share * length), low), high), needed)
                text["x-contains-lead"] = keyword_leads(product)
            props[spec.name] = text
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def max_tokens_for(ctype: ContentType, limits: Limits) -> int:
    """Enough tokens for every field at its limit (about 3.5 characters a token) plus the JSON."""
    chars = 0
    for spec in ctype.fields:
        if spec.kind == "list":
            chars += (limits.max_items.get(spec.name, 5)) * (spec.item_max_chars or 60)
        else:
            chars += limits.max_chars.get(spec.name, 300)
    return min(int(chars / 3.2) + 12 * len(ctype.fields) + 16, 700)


def build_messages(brief: Brief, voice: BrandVoice | None, banned: list[str],
                   limits: Limits | None = None, *, emphasis: str | None = None) -> list[ChatMessage]:
    """System instructions, the type's few-shot examples (brief -> JSON) and the brief."""
    ctype = get_type(brief.type)
    limits = limits or brief.hard_limits()
    messages = [ChatMessage("system", system_prompt(ctype, limits, voice, banned))]
    for example in ctype.examples:
        example_limits = limits_for(ctype, example.platform)
        example_plan = keyword_plan(ctype, example_limits, example.brief.get("keywords") or [])
        messages.append(ChatMessage("user", brief_lines(example.brief, ctype, plan=example_plan)))
        messages.append(ChatMessage("assistant", json.dumps(example.output, ensure_ascii=False)))
    user = brief_lines(brief.model_dump(), ctype, limits, keyword_plan(ctype, limits, brief.keywords))
    if emphasis:
        user += "\n" + emphasis
    messages.append(ChatMessage("user", user))
    return messages


REWRITES: dict[str, str] = {
    "shorter": "Rewrite this copy to be clearly shorter: cut about a third, keep the key message.",
    "formal": "Rewrite this copy in a more formal, professional tone.",
    "playful": "Rewrite this copy in a more playful, lively tone.",
    "keyword": 'Rewrite this copy so that it uses the words "{keyword}" naturally.',
}


def rewrite_messages(fields: Mapping[str, Any], brief: Brief, voice: BrandVoice | None, banned: list[str],
                     instruction: str, limits: Limits) -> list[ChatMessage]:
    ctype = get_type(brief.type)
    current = json.dumps({name: fields.get(name, "") for name in ctype.field_names}, ensure_ascii=False)
    lines = brief_lines(brief.model_dump(), ctype, limits, keyword_plan(ctype, limits, brief.keywords))
    return [
        ChatMessage("system", system_prompt(ctype, limits, voice, banned)),
        ChatMessage("user", f"{lines}\n\nCurrent copy:\n{current}\n\n{instruction}"),
    ]
