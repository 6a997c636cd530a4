"""Prompt building: per-type instructions and few-shot examples from ``assets/studio/types``, the
brief as short labelled lines, the brand voice, and a JSON schema that makes llama.cpp return each
field separately and within its hard limit."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from app.studio.brief import Brief
from app.studio.types import ContentType, Limits, get_type
from app.studio.voice import BrandVoice
from engines.base import ChatMessage

#: the model sees a field's character limit lowered by this much, leaving room for the repair step
LIMIT_MARGIN = 0.9
#: longest string the schema bounds: llama.cpp refuses (and aborts on) grammars with much larger
#: repetitions; longer fields (a LinkedIn post) are bounded by max_tokens and then by repair
SCHEMA_MAX_CHARS = 800


def brief_lines(brief: Mapping[str, Any], ctype: ContentType, limits: Limits | None = None) -> str:
    """The brief as the user message: a task line then ``Label: value`` lines for what is filled in."""
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
                caps: Mapping[str, int] | None = None) -> dict[str, Any]:
    """A JSON schema with every field required, in order, and each string within its limit."""
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
                text["maxLength"] = min(max(int(cap * scale), min(cap, 8)), SCHEMA_MAX_CHARS)
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
        messages.append(ChatMessage("user", brief_lines(example.brief, ctype)))
        messages.append(ChatMessage("assistant", json.dumps(example.output, ensure_ascii=False)))
    user = brief_lines(brief.model_dump(), ctype, limits)
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
    return [
        ChatMessage("system", system_prompt(ctype, limits, voice, banned)),
        ChatMessage("user", f"{brief_lines(brief.model_dump(), ctype, limits)}\n\nCurrent copy:\n{current}\n\n"
                            f"{instruction}"),
    ]
