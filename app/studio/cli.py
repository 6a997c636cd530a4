"""Copy-studio commands: ``visage draft``, ``visage voice add|list|show``, ``visage drafts ...``.

Registered on the main group in ``app/cli.py``. ``ctx.obj`` is the main CLI's ``Context`` (settings,
data folder, store). Every command is a thin shell over :class:`app.studio.service.StudioService` (the
same workflow the desktop's Copy studio runs): it parses options, calls the service and prints.
Heavy imports happen inside the commands.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click


@contextmanager
def _studio(ctx: Any) -> Iterator[Any]:
    """The studio service over the CLI's store, closed again when the command is done with it."""
    from app.studio.service import StudioService

    store = ctx.store()
    try:
        yield StudioService.of(store)
    finally:
        store.close()


def _print_variant(index: int, variant: Any, draft_id: int | None) -> None:
    a = variant.analysis
    status = click.style("PASS", fg="green") if variant.passes else click.style("FAIL", fg="red")
    saved = f"  draft #{draft_id}" if draft_id is not None else ""
    click.echo(f"\n=== variant {index}  {status}  score {variant.score:.0f}{saved}")
    click.echo(variant.text)
    click.echo("--- analysis")
    counts = []
    for name, stat in a.fields.items():
        if stat.items is not None:
            limit = f"/{stat.max_items}" if stat.max_items is not None else ""
            counts.append(f"{name} {stat.items}{limit} items")
        else:
            limit = f"/{stat.max_chars}" if stat.max_chars is not None else ""
            counts.append(f"{name} {stat.chars}{limit} chars")
    click.echo("  " + ", ".join(counts) + f"; {a.words} words")
    if a.flesch_reading_ease is not None:
        click.echo(f"  readability: Flesch {a.flesch_reading_ease:.0f}, grade {a.flesch_kincaid_grade:.1f}")
    click.echo(f"  sentiment: {a.sentiment.label} ({a.sentiment.compound:+.2f})")
    if a.keywords:
        click.echo("  keywords: " + ", ".join(f"{k.keyword} ×{k.count} ({k.density:.1f}%)" for k in a.keywords))
    for problem in variant.problems:
        mark = click.style("✗", fg="red") if problem.hard else "!"
        click.echo(f"  {mark} {problem.message}")
    for repair in variant.repairs:
        click.echo(f"  ↺ {repair}")


@click.command()
@click.option("--brief", "brief_path", required=True, type=click.Path(dir_okay=False),
              help="The brief: a TOML (or JSON) file with product, audience, key_points, keywords, ...")
@click.option("--type", "type_", help="Content type (overrides the brief's `type`); see --list-types.")
@click.option("--variants", "n", default=3, show_default=True, type=click.IntRange(1, 10),
              help="How many variants to return.")
@click.option("--voice", "voice_name", help="A saved brand voice to follow (overrides the brief's `voice`).")
@click.option("--project", help="Group the saved drafts under this project name.")
@click.option("--no-save", is_flag=True, help="Do not save the variants as drafts.")
@click.option("--json", "as_json", is_flag=True, help="Print the variants as JSON.")
@click.pass_obj
def draft(ctx: Any, brief_path: str, type_: str | None, n: int, voice_name: str | None, project: str | None,
          no_save: bool, as_json: bool) -> None:
    """Draft marketing copy offline from a brief: N variants, analysed, repaired and ranked."""
    from app.core.assembly import build_engines
    from app.studio.brief import load_brief

    brief = load_brief(Path(brief_path), type_override=type_)
    with _studio(ctx) as studio:
        voice = studio.voice_for(brief, voice_name)
        llm = build_engines(ctx.settings, roles=("llm",)).llm
        if not as_json:
            click.echo(f"Drafting {n} variant(s): {brief.summary()} …", err=True)
        drafted = studio.draft(brief, llm, n=n, voice=voice, project=project, save=not no_save)
    variants, ids = drafted.variants, drafted.ids
    if as_json:
        payload = [{"draft_id": i, **v.model_dump(mode="json")} for i, v in zip(ids, variants, strict=True)]
        click.echo(json.dumps({"brief": brief.model_dump(mode="json"), "variants": payload}, indent=2,
                              ensure_ascii=False))
        return
    for index, (variant, draft_id) in enumerate(zip(variants, ids, strict=True), 1):
        _print_variant(index, variant, draft_id)
    failing = sum(not v.passes for v in variants)
    if failing:
        click.echo(f"\n{failing} variant(s) still break a hard limit (marked FAIL); edit them or draft again.",
                   err=True)


@click.group()
def voice() -> None:
    """Brand voices: tone words, do/don't lists, banned words and samples that drafts follow."""


@voice.command("add")
@click.argument("name", required=False)
@click.option("--from", "from_file", type=click.Path(dir_okay=False),
              help="Read the voice from a TOML file (name, tone, do, dont, banned, samples).")
@click.option("--description", default="", help="One line about the brand.")
@click.option("--tone", multiple=True, help="A tone word (repeat the option for more).")
@click.option("--do", "do_", multiple=True, help="Something the copy should do (repeatable).")
@click.option("--dont", multiple=True, help="Something the copy must not do (repeatable).")
@click.option("--banned", multiple=True, help="A word that must never appear (repeatable).")
@click.option("--sample", multiple=True, help="A short text in this voice (repeatable).")
@click.option("--replace", is_flag=True, help="Overwrite a saved voice of the same name.")
@click.pass_obj
def voice_add(ctx: Any, name: str | None, from_file: str | None, description: str, tone: tuple[str, ...],
              do_: tuple[str, ...], dont: tuple[str, ...], banned: tuple[str, ...], sample: tuple[str, ...],
              replace: bool) -> None:
    """Save a brand voice, from options or from a TOML file (--from)."""
    from app.core.errors import ConfigError
    from app.studio.voice import load_voice, parse_voice

    if from_file:
        brand = load_voice(Path(from_file))
        if name:
            brand = brand.model_copy(update={"name": name})
    elif name:
        brand = parse_voice({"name": name, "description": description, "tone": list(tone), "do": list(do_),
                             "dont": list(dont), "banned": list(banned), "samples": list(sample)})
    else:
        raise ConfigError("A brand voice needs a NAME or --from FILE.",
                          hint='e.g. visage voice add Acme --tone warm --banned cheap')
    with _studio(ctx) as studio:
        studio.save_voice(brand, replace=replace)
    click.echo(f"saved brand voice {brand.name!r}")


@voice.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def voice_list(ctx: Any, as_json: bool) -> None:
    """List the saved brand voices."""
    with _studio(ctx) as studio:
        rows = studio.voice_records()
    if as_json:
        click.echo(json.dumps([r.data for r in rows], indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No brand voices yet. Add one with `visage voice add NAME --tone ...`.")
    for r in rows:
        tone = ", ".join(r.data.get("tone", []))
        click.echo(f"{r.name}" + (f"  ({tone})" if tone else ""))


@voice.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def voice_show(ctx: Any, name: str, as_json: bool) -> None:
    """Show one brand voice with all its rules and samples."""
    with _studio(ctx) as studio:
        brand = studio.voice(name)
    if as_json:
        click.echo(json.dumps(brand.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    click.echo(f"# {brand.name}")
    if brand.description:
        click.echo(brand.description)
    for label, values in (("tone", brand.tone), ("do", brand.do), ("don't", brand.dont),
                          ("banned", brand.banned), ("sample", brand.samples)):
        for value in values:
            click.echo(f"{label}: {value}")


@click.group()
def drafts() -> None:
    """Saved drafts from the copy studio: list, show, star, search and export."""


@drafts.command("list")
@click.option("--limit", default=50, show_default=True, help="How many drafts to show.")
@click.option("--favourites", is_flag=True, help="Only starred drafts.")
@click.option("--project", help="Only drafts of this project.")
@click.pass_obj
def drafts_list(ctx: Any, limit: int, favourites: bool, project: str | None) -> None:
    """List drafts, starred first, then the most recently changed."""
    with _studio(ctx) as studio:
        rows = studio.list_drafts(limit, favourites=favourites, project=project)
    if not rows:
        click.echo("No drafts yet. Make some with `visage draft --brief brief.toml`.")
    for d in rows:
        v = d.current
        star = "★" if d.favourite else " "
        status = "pass" if v.passes else "FAIL"
        click.echo(f"{star}{d.id:>5}  {d.type:<20} v{v.number} {status}  {d.title}")


@drafts.command("show")
@click.argument("draft_id", type=int)
@click.option("--versions", is_flag=True, help="Print every version, not only the current one.")
@click.pass_obj
def drafts_show(ctx: Any, draft_id: int, versions: bool) -> None:
    """Print one draft (its current version, or all versions)."""
    with _studio(ctx) as studio:
        d = studio.get_draft(draft_id)
    click.echo(f"# {d.title}{' ★' if d.favourite else ''}  (#{d.id}, {d.type})")
    for v in d.versions if versions else [d.current]:
        status = "meets every hard limit" if v.passes else "FAILS a hard limit"
        click.echo(f"\n-- version {v.number} ({v.source}, score {v.score}, {status})\n{v.text}")


@drafts.command("star")
@click.argument("draft_id", type=int)
@click.option("--off", is_flag=True, help="Remove the star instead.")
@click.pass_obj
def drafts_star(ctx: Any, draft_id: int, off: bool) -> None:
    """Star a draft as a favourite (or --off to unstar it)."""
    with _studio(ctx) as studio:
        studio.star(draft_id, not off)
    click.echo(f"draft #{draft_id} {'unstarred' if off else 'starred'}")


@drafts.command("search")
@click.argument("query")
@click.option("--limit", default=20, show_default=True, help="Most hits to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def drafts_search(ctx: Any, query: str, limit: int, as_json: bool) -> None:
    """Full-text search over draft titles and texts; hits are [highlighted]."""
    from dataclasses import asdict

    from app.store.drafts import MARK_END, MARK_START

    with _studio(ctx) as studio:
        hits = studio.search(query, limit=limit)
    if as_json:
        # the window's marks (control characters) become the [brackets] the snippet uses
        marked = {ord(MARK_START): "[", ord(MARK_END): "]"}
        rows = [{**asdict(h), "title_marked": h.title_marked.translate(marked),
                 "text_snippet": h.text_snippet.translate(marked)} for h in hits]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not hits:
        click.echo(f"Nothing found for {query!r}.")
    for h in hits:
        click.echo(f"#{h.draft_id} {h.title!r} ({h.type}): {h.snippet}")


@drafts.command("export")
@click.argument("draft_ids", type=int, nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["md", "txt", "csv"]), default="md", show_default=True,
              help="Markdown, plain text or CSV (one row per draft).")
@click.option("--project", help="Export this project's drafts (instead of IDs).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.pass_obj
def drafts_export(ctx: Any, draft_ids: tuple[int, ...], fmt: str, project: str | None,
                  out_path: str | None) -> None:
    """Export drafts (the IDs given, a --project, or all) as Markdown, text or CSV."""
    with _studio(ctx) as studio:
        exported = studio.export(fmt, ids=draft_ids or None, project=project, path=Path(out_path) if out_path else None)
    if out_path:
        click.echo(f"exported {exported.count} draft(s) to {out_path}", err=True)
    else:
        sys.stdout.write(exported.text)
