"""How a variant's analysis reads on its card: counts against the limits, the analysis table, the verdict.

Pure functions of a :class:`~app.studio.Variant` (rich text and plain strings; no widgets), so the card and
any screenshot or test show the same words.
"""

from __future__ import annotations

import html
from typing import Any

from app.studio import Variant

FAIL_COLOUR = "#c0392b"
PASS_COLOUR = "#1e8449"
NOTICE_STYLE = "background: #fdebd0; color: #784212; border-radius: 4px; padding: 4px;"
"""A fallback or something that could not be restored, shown above the cards or the clip."""


def count_text(stat: Any) -> tuple[str, bool]:
    """'23/30 chars · 4 words' for a field's stats, and whether it is over a limit."""
    if stat.items is not None:
        over = (stat.max_items is not None and stat.items > stat.max_items) or (
            stat.min_items is not None and stat.items < stat.min_items)
        limit = f"/{stat.max_items}" if stat.max_items is not None else ""
        return f"{stat.items}{limit} items · {stat.chars} chars", over
    over = (stat.max_chars is not None and stat.chars > stat.max_chars) or (
        stat.max_words is not None and stat.words > stat.max_words)
    limit = f"/{stat.max_chars}" if stat.max_chars is not None else ""
    words = f" · {stat.words}{f'/{stat.max_words}' if stat.max_words else ''} words"
    return f"{stat.chars}{limit} chars{words}", over


def analysis_html(variant: Variant) -> str:
    """The analysis panel of one variant as rich text."""
    a = variant.analysis
    rows: list[str] = []

    def row(name: str, value: str, bad: bool = False) -> None:
        colour = f' style="color:{FAIL_COLOUR}"' if bad else ""
        rows.append(f"<tr><td><b>{html.escape(name)}</b></td><td{colour}>{value}</td></tr>")

    row("Length", f"{a.chars} chars · {a.words} words · {a.sentences} sentences")
    ease = "–" if a.flesch_reading_ease is None else f"{a.flesch_reading_ease:.0f}"
    grade = "–" if a.flesch_kincaid_grade is None else f"{a.flesch_kincaid_grade:.1f}"
    row("Readability", f"Flesch ease {ease} · grade {grade}")
    row("Sentiment", f"{html.escape(a.sentiment.label)} ({a.sentiment.compound:+.2f})")
    if a.keywords:
        kws = ", ".join(f"{html.escape(k.keyword)} ×{k.count} ({k.density:.1f}%)" for k in a.keywords)
        row("Keywords", f"{a.keyword_coverage:.0%} covered: {kws}", bad=a.keyword_coverage < 1.0)
    else:
        row("Keywords", "none required")
    row("Banned words", html.escape(", ".join(a.banned_found)) or "none", bad=bool(a.banned_found))
    row("Passive voice", f"{len(a.passive_sentences)} sentence(s)", bad=bool(a.passive_sentences))
    row("Long sentences", f"{len(a.long_sentences)}", bad=bool(a.long_sentences))
    problems = "".join(
        f'<li style="color:{FAIL_COLOUR if p.hard else "#b9770e"}">{"✗" if p.hard else "!"} '
        f"{html.escape(p.message)}</li>" for p in variant.problems)
    repairs = "".join(f"<li>{html.escape(r)}</li>" for r in variant.repairs)
    out = f"<table cellspacing='2'>{''.join(rows)}</table>"
    if problems:
        out += f"<p style='margin:4px 0 0 0'><b>Problems</b></p><ul style='margin:0'>{problems}</ul>"
    if repairs:
        out += f"<p style='margin:4px 0 0 0'><b>Repaired automatically</b></p><ul style='margin:0'>{repairs}</ul>"
    return out


def verdict(variant: Variant) -> tuple[str, bool]:
    """The card's banner text and whether the variant fails a hard limit."""
    hard = [p for p in variant.problems if p.hard]
    if hard:
        return "✗ FAILS: " + "; ".join(p.message for p in hard[:2]) + (" …" if len(hard) > 2 else ""), True
    return f"✓ Meets every hard limit · score {variant.score:.0f}", False
