"""Generation: sample candidates with the local LLM (JSON-schema constrained, one field each), repair
them, regenerate what repair cannot fix, analyse and rank. Also rewrites and hand edits.

Everything is synchronous and Qt-free: a desktop panel calls it from a worker thread, passing a
``threading.Event`` as ``cancel`` and, to show variants as they come, an ``on_variant`` callback.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from app.core.errors import Cancelled, ConfigError
from app.studio.analysis import Analysis, FieldValue, Problem, analyze, banned_terms, render, term_pattern
from app.studio.brief import Brief
from app.studio.prompts import REWRITES, build_messages, json_schema, max_tokens_for, rewrite_messages
from app.studio.repair import parse_fields, repair, shorten
from app.studio.types import Limits, get_type
from app.studio.voice import BrandVoice
from engines.base import ChatMessage

log = logging.getLogger(__name__)

#: sampling temperatures, one per candidate in turn (variety without nonsense from a small model)
TEMPERATURES = (0.7, 0.9, 0.6, 1.0, 0.8)
#: most variants one call makes
MAX_VARIANTS = 10

RewriteKind = Literal["shorter", "formal", "playful", "keyword"]


class StudioLLM(Protocol):
    """What the studio needs from an LLM engine (``LlamaCppLLM`` has it)."""

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        grammar: str | None = None,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        cancel: threading.Event | None = None,
    ) -> str: ...


class Variant(BaseModel):
    """One piece of copy: its fields, the rendered text, its analysis and whether it meets every hard limit.

    ``problems`` lists everything found (``hard`` ones make ``passes`` false); ``repairs`` says what
    was changed automatically; ``source`` is ``generated``, ``edited`` or ``rewrite:<kind>``.
    """

    type: str
    fields: dict[str, FieldValue]
    text: str
    analysis: Analysis
    score: float
    passes: bool
    problems: list[Problem]
    repairs: list[str] = Field(default_factory=list)
    attempts: int = 1
    seconds: float = 0.0
    source: str = "generated"


def evaluate(fields: Mapping[str, FieldValue], brief: Brief, voice: BrandVoice | None = None, *,
             repairs: list[str] | None = None, attempts: int = 1, seconds: float = 0.0,
             source: str = "generated") -> Variant:
    """Analyse ``fields`` into a Variant (no model call): for hand edits and live analysis."""
    ctype = get_type(brief.type)
    clean: dict[str, FieldValue] = {}
    for spec in ctype.fields:
        value = fields.get(spec.name, [] if spec.kind == "list" else "")
        clean[spec.name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    analysis = analyze(clean, brief, voice)
    return Variant(type=brief.type, fields=clean, text=render(clean, ctype), analysis=analysis,
                   score=analysis.score, passes=analysis.passes, problems=analysis.problems,
                   repairs=repairs or [], attempts=attempts, seconds=round(seconds, 3), source=source)


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("Generation was cancelled.", hint="Start it again when you are ready.")


def _sample(llm: StudioLLM, messages: list[ChatMessage], brief: Brief, limits: Limits, banned: list[str], *,
            temperature: float, cancel: threading.Event | None,
            caps: Mapping[str, int] | None = None) -> dict[str, FieldValue]:
    ctype = get_type(brief.type)
    # a keyword with a banned word in it would be forced in by the grammar and cut out again by repair
    keywords = [k for k in brief.keywords if not any(term_pattern(b).search(k) for b in banned)]
    raw = llm.chat(messages, json_schema=json_schema(ctype, limits, caps=caps, keywords=keywords,
                                                       product=brief.product),
                   max_tokens=max_tokens_for(ctype, limits), temperature=temperature, cancel=cancel)
    _check_cancel(cancel)
    log.debug("studio raw answer (%s): %r", brief.type, raw[:400])
    return parse_fields(raw, ctype)


def _candidate(llm: StudioLLM, brief: Brief, voice: BrandVoice | None, limits: Limits, banned: list[str],
               temperature: float, attempts: int, cancel: threading.Event | None) -> Variant:
    """One candidate: sample, repair, and regenerate (up to ``attempts`` samples) while it fails."""
    ctype = get_type(brief.type)
    started = time.perf_counter()
    best: Variant | None = None
    emphasis: str | None = None
    for attempt in range(1, attempts + 1):
        messages = build_messages(brief, voice, banned, limits, emphasis=emphasis)
        raw_fields = _sample(llm, messages, brief, limits, banned, temperature=temperature, cancel=cancel)
        fields, done = repair(raw_fields, ctype, limits, banned, brief.keywords, brief.cta)
        variant = evaluate(fields, brief, voice, repairs=done, attempts=attempt, source="generated")
        if best is None or _rank(variant) > _rank(best):
            best = variant.model_copy(update={"attempts": attempt})
        if best.passes:
            break
        hard = [p for p in variant.problems if p.hard]
        log.info("candidate failed %s; regenerating", [p.code for p in hard])
        emphasis = "Fix this: " + "; ".join(p.message for p in hard[:3]) + "."
        temperature = max(0.3, temperature - 0.2)
    assert best is not None
    if best.attempts > 1:
        best.repairs.append(f"regenerated ({best.attempts} samples)")
    best.seconds = round(time.perf_counter() - started, 3)
    return best


def generate_variants(
    brief: Brief,
    llm: StudioLLM,
    *,
    n: int = 3,
    voice: BrandVoice | None = None,
    cancel: threading.Event | None = None,
    candidates: int | None = None,
    attempts: int = 2,
    on_variant: Callable[[Variant], None] | None = None,
) -> list[Variant]:
    """``n`` variants for ``brief``, best first.

    ``candidates`` samples are drawn (default ``n + 1``) at different temperatures, each repaired
    and, while it breaks a hard limit, regenerated up to ``attempts`` samples; the ``n`` best by
    (meets every hard limit, keyword coverage, score) are returned. Required keywords are built into
    the sampling (``prompts.json_schema``: the grammar cannot close their field without them). A
    variant that still fails is returned with ``passes=False`` and its problems, never dropped for
    being bad. ``on_variant`` sees each candidate as it is ready. Raises ``Cancelled`` when
    ``cancel`` is set.
    """
    if not isinstance(brief, Brief):
        raise ConfigError("generate_variants needs a Brief.", hint="Build one with parse_brief() or load_brief().")
    if not 1 <= n <= MAX_VARIANTS:
        raise ConfigError(f"Cannot make {n} variants.", hint=f"Ask for 1 to {MAX_VARIANTS}.")
    total = max(candidates if candidates is not None else n + 1, n)
    if total > 3 * MAX_VARIANTS:
        raise ConfigError(f"{total} candidates is too many.", hint=f"Use at most {3 * MAX_VARIANTS}.")
    if voice is not None and brief.voice and brief.voice != voice.name:
        log.info("brief names voice %r but %r was given; using the given one", brief.voice, voice.name)
    limits = brief.hard_limits()
    banned = banned_terms(brief, voice)
    pool: list[Variant] = []
    for index in range(total):
        _check_cancel(cancel)
        variant = _candidate(llm, brief, voice, limits, banned, TEMPERATURES[index % len(TEMPERATURES)],
                             attempts, cancel)
        if any(_same(variant, other) for other in pool):
            variant.problems.append(Problem(code="duplicate", message="Same text as another variant"))
            variant.score = max(variant.score - 20, 0)
        pool.append(variant)
        if on_variant is not None:
            on_variant(variant)
    pool.sort(key=_rank, reverse=True)
    chosen = pool[:n]
    log.info("studio %s: %d/%d candidates pass; kept scores %s", brief.type, sum(v.passes for v in pool),
             len(pool), [v.score for v in chosen])
    return chosen


def _rank(variant: Variant) -> tuple[bool, float, float]:
    """Best first: meets every hard limit, then uses more of the required keywords, then the score."""
    return variant.passes, variant.analysis.keyword_coverage, variant.score


def _same(a: Variant, b: Variant) -> bool:
    return " ".join(a.text.lower().split()) == " ".join(b.text.lower().split())


def rewrite(
    variant: Variant | Mapping[str, FieldValue],
    brief: Brief,
    llm: StudioLLM,
    how: RewriteKind,
    *,
    keyword: str | None = None,
    voice: BrandVoice | None = None,
    cancel: threading.Event | None = None,
    attempts: int = 2,
) -> Variant:
    """A rewrite of ``variant``: ``shorter``, more ``formal``, more ``playful``, or with ``keyword``.

    "shorter" is guaranteed shorter (cut at sentence or word boundaries if the model does not comply);
    "keyword" adds the keyword to the brief's required keywords for the analysis.
    """
    if how not in REWRITES:
        raise ConfigError(f"Unknown rewrite {how!r}.", hint=f"Choose one of: {', '.join(REWRITES)}.")
    fields = dict(variant.fields if isinstance(variant, Variant) else variant)
    if how == "keyword":
        if not keyword or not keyword.strip():
            raise ConfigError("A keyword rewrite needs the keyword.", hint="Pass keyword='the words to use'.")
        keyword = keyword.strip()
        if len(keyword) > 80:
            raise ConfigError("The rewrite `keyword` is longer than 80 characters.", hint="Use a shorter phrase.")
        if keyword.lower() not in (k.lower() for k in brief.keywords):
            brief = brief.model_copy(update={"keywords": [*brief.keywords, keyword]})
    ctype = get_type(brief.type)
    limits = brief.hard_limits()
    banned = banned_terms(brief, voice)
    caps: dict[str, int] = {}
    if how == "shorter":
        for spec in ctype.fields:
            current = fields.get(spec.name)
            if spec.kind == "text" and isinstance(current, str) and current:
                caps[spec.name] = max(int(len(current) * 0.75), 8)
    instruction = REWRITES[how].format(keyword=keyword or "")
    started = time.perf_counter()
    best: Variant | None = None
    for attempt in range(1, attempts + 1):
        _check_cancel(cancel)
        messages = rewrite_messages(fields, brief, voice, banned, instruction, limits)
        raw = _sample(llm, messages, brief, limits, banned, temperature=0.7, cancel=cancel, caps=caps or None)
        new_fields, done = repair(raw, ctype, limits, banned, brief.keywords, brief.cta)
        if how == "shorter":
            new_fields, cut = _force_shorter(new_fields, fields, ctype.field_names)
            done.extend(cut)
        candidate = evaluate(new_fields, brief, voice, repairs=done, attempts=attempt, source=f"rewrite:{how}")
        ok = candidate.passes and (how != "keyword" or term_pattern(keyword or "").search(candidate.text))
        if best is None or (bool(ok), candidate.score) > (best.passes, best.score):
            best = candidate
        if ok:
            break
    assert best is not None
    best.seconds = round(time.perf_counter() - started, 3)
    return best


def _force_shorter(new: dict[str, FieldValue], old: Mapping[str, FieldValue],
                   names: list[str]) -> tuple[dict[str, FieldValue], list[str]]:
    done: list[str] = []
    for name in names:
        before, after = old.get(name), new.get(name)
        if isinstance(before, str) and isinstance(after, str) and before and len(after) >= len(before):
            target = max(int(len(before) * 0.8), 1)
            new[name] = shorten(after, target) or shorten(before, target)
            done.append(f"cut {name} to {len(new[name])} characters")
    return new, done


