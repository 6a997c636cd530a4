"""Copy studio (Qt-free): briefs, content types, brand voices, generation, analysis, repair, rewrites.

The public API (the desktop panel and the remote API server call these; keep them stable)::

    brief = load_brief(Path("brief.toml"))          # or parse_brief(dict) / Brief(**json)
    variants = generate_variants(brief, llm, n=3, voice=voice, cancel=event)
    better = rewrite(variants[0], brief, llm, "shorter")
    live = evaluate(edited_fields, brief, voice)     # analysis only, no model: for hand edits

All calls are synchronous; run them on a worker thread and pass a ``threading.Event`` as ``cancel``.
"""

from app.studio.analysis import Analysis, Problem, analyze, readability, sentiment
from app.studio.brief import Brief, load_brief, parse_brief
from app.studio.generate import StudioLLM, Variant, evaluate, generate_variants, rewrite
from app.studio.types import ContentType, content_types, get_type
from app.studio.voice import BrandVoice, load_voice, parse_voice

__all__ = [
    "Analysis",
    "BrandVoice",
    "Brief",
    "ContentType",
    "Problem",
    "StudioLLM",
    "Variant",
    "analyze",
    "content_types",
    "evaluate",
    "generate_variants",
    "get_type",
    "load_brief",
    "load_voice",
    "parse_brief",
    "parse_voice",
    "readability",
    "rewrite",
    "sentiment",
]
