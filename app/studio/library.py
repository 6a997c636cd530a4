"""Keeping studio work: save variants as drafts (with their brief), hand edits and rewrites as new
versions, brand voices by name, and export drafts as Markdown, plain text or CSV."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import ValidationError

from app.core.csv_export import to_csv
from app.core.errors import ConfigError, NotFoundError
from app.store.drafts import DraftStore, StoredDraft
from app.store.voices import VoiceStore
from app.studio.analysis import FieldValue
from app.studio.brief import Brief
from app.studio.generate import Variant, evaluate
from app.studio.types import get_type
from app.studio.voice import BrandVoice, parse_voice

ExportFormat = Literal["md", "txt", "csv"]
EXPORT_FORMATS: tuple[str, ...] = ("md", "txt", "csv")
CSV_COLUMNS = ["id", "type", "title", "project", "favourite", "version", "source", "score", "passes", "text",
               "fields"]


def save_variants(drafts: DraftStore, brief: Brief, variants: Sequence[Variant], *, project: str | None = None,
                  voice: BrandVoice | None = None) -> list[int]:
    """Save the brief once and each variant as a draft (version 1); returns the draft ids."""
    brief_id = drafts.save_brief(brief.type, brief.product, brief.model_dump(mode="json"))
    ids = []
    for index, variant in enumerate(variants, 1):
        ids.append(drafts.create_draft(
            type_=brief.type, title=f"{brief.product} ({get_type(brief.type).label.lower()} {index})",
            fields=variant.fields, text=variant.text, analysis=variant.analysis.model_dump(mode="json"),
            score=variant.score, passes=variant.passes, source=variant.source, brief_id=brief_id,
            project=project, voice=voice.name if voice else brief.voice,
        ))
    return ids


def brief_of(drafts: DraftStore, draft: StoredDraft) -> Brief:
    """The brief a draft was made from (a minimal one when it has none)."""
    if draft.brief_id is not None:
        return Brief.model_validate(drafts.get_brief(draft.brief_id).data)
    return Brief(type=draft.type, product=draft.title)


@dataclass(frozen=True)
class OpenedVariant:
    """One reopened draft: its current version, re-analysed against its brief."""

    draft_id: int
    title: str
    version: int
    favourite: bool
    variant: Variant


@dataclass(frozen=True)
class OpenedDraft:
    """A draft reopened for editing, with the other drafts of the same generation (same brief)."""

    draft_id: int
    brief: Brief
    voice: BrandVoice | None
    variants: list[OpenedVariant]
    #: what could not be restored as it was (shown to the user)
    notices: list[str] = field(default_factory=list)


def open_draft(drafts: DraftStore, voices: VoiceStore, draft_id: int) -> OpenedDraft:
    """Reopen a draft: its brief, its brand voice, and every live draft of its generation (oldest first)."""
    draft = drafts.get_draft(draft_id)
    notices: list[str] = []
    minimal = Brief(type=draft.type, product=draft.title)
    brief = minimal
    if draft.brief_id is None:
        notices.append("This draft has no saved brief: the form shows only its type and title.")
    else:
        try:
            brief = Brief.model_validate(drafts.get_brief(draft.brief_id).data)
        except (NotFoundError, ValidationError) as err:
            if isinstance(err, ValidationError):
                e = err.errors()[0]
                first = f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            else:
                first = err.message
            notices.append(f"This draft's brief could not be read ({first}): the form shows only its type and "
                           "title; fill in the rest before generating again.")
    family = drafts.drafts_of_brief(draft.brief_id) if draft.brief_id is not None and brief is not minimal else []
    if draft_id not in [d.id for d in family]:
        family = [draft]
    voice: BrandVoice | None = None
    name = draft.voice or brief.voice
    if name:
        try:
            voice = saved_voice(voices, name)
        except NotFoundError:
            notices.append(f"The brand voice {name!r} is no longer saved: the drafts are analysed without it.")
            brief = brief.model_copy(update={"voice": None})
    items = [OpenedVariant(draft_id=d.id, title=d.title, version=d.current.number, favourite=d.favourite,
                           variant=evaluate(d.current.fields, brief, voice, source=d.current.source))
             for d in family]
    return OpenedDraft(draft_id=draft_id, brief=brief, voice=voice, variants=items, notices=notices)


def save_edit(drafts: DraftStore, draft_id: int, fields: Mapping[str, FieldValue], *,
              voice: BrandVoice | None = None, source: str = "edited") -> Variant:
    """Save hand-edited ``fields`` as the draft's new version; returns the re-analysed variant."""
    draft = drafts.get_draft(draft_id)
    variant = evaluate(fields, brief_of(drafts, draft), voice, source=source)
    save_version(drafts, draft_id, variant)
    return variant


def save_version(drafts: DraftStore, draft_id: int, variant: Variant) -> int:
    """Save a variant (a rewrite, an edit) as the draft's new version; returns its number."""
    return drafts.add_version(draft_id, fields=variant.fields, text=variant.text,
                              analysis=variant.analysis.model_dump(mode="json"), score=variant.score,
                              passes=variant.passes, source=variant.source)


def save_voice(voices: VoiceStore, voice: BrandVoice, *, replace: bool = False) -> int:
    search_text = " ".join([voice.description, *voice.tone, *voice.do, *voice.dont, *voice.samples])
    return voices.save(voice.name, voice.model_dump(mode="json"), search_text=search_text, replace=replace)


def saved_voice(voices: VoiceStore, name: str) -> BrandVoice:
    stored = voices.get(name)
    return parse_voice(stored.data, source=f"The saved brand voice {stored.name!r}")


# -- export -------------------------------------------------------------------------------------------


def export_drafts(drafts: Sequence[StoredDraft], fmt: str) -> str:
    """The drafts' current versions as Markdown, plain text or CSV (one row per draft)."""
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"Cannot export drafts as {fmt!r}.", hint="Choose md, txt or csv.")
    if fmt == "csv":
        return _csv(drafts)
    parts = []
    for draft in drafts:
        version = draft.current
        star = " ★" if draft.favourite else ""
        status = "meets every hard limit" if version.passes else "FAILS a hard limit" \
            if version.passes is not None else "not analysed"
        meta = f"{get_type(draft.type).label} · version {version.number} ({version.source}) · " \
               f"score {version.score if version.score is not None else '-'} · {status}"
        if fmt == "md":
            body = []
            for name, value in version.fields.items():
                label = _label(draft.type, name)
                if isinstance(value, list):
                    body.append(f"**{label}:**\n" + "\n".join(f"- {item}" for item in value))
                else:
                    body.append(f"**{label}:** {value}")
            parts.append(f"## {draft.title}{star}\n\n_{meta}_\n\n" + "\n\n".join(body) + "\n")
        else:
            parts.append(f"{draft.title}{star}\n{meta}\n\n{version.text}\n")
    separator = "\n" if fmt == "md" else "\n" + "-" * 40 + "\n\n"
    header = "# Drafts\n\n" if fmt == "md" else ""
    return header + separator.join(parts)


def _label(type_: str, name: str) -> str:
    try:
        return get_type(type_).field(name).label
    except (KeyError, ConfigError):
        return name


def _csv(drafts: Sequence[StoredDraft]) -> str:
    rows = []
    for draft in drafts:
        version = draft.current
        rows.append([draft.id, draft.type, draft.title, draft.project or "", int(draft.favourite),
                     version.number, version.source, "" if version.score is None else version.score,
                     "" if version.passes is None else int(version.passes), version.text,
                     json.dumps(version.fields, ensure_ascii=False)])
    return to_csv(CSV_COLUMNS, rows)  # formula-looking cells neutralised (CSV injection)
