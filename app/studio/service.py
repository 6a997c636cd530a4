"""The copy studio's workflow, written once for every front end: ``visage draft|voice|drafts`` and the
desktop's Copy studio tab (through :mod:`app.studio.queued`) both call a :class:`StudioService`.

Qt-free and synchronous. Two kinds of step, so a caller can put each on the right worker:

- **writing** needs the language model and no database: :meth:`StudioService.write` (n variants,
  locally or on the remote API with a local fallback) and :meth:`StudioService.rewrite`;
- **keeping** needs the database and no model: :meth:`~StudioService.keep` (variants become drafts),
  :meth:`~StudioService.save_edit` (a new version), :meth:`~StudioService.open_draft`, star, delete,
  restore, :meth:`~StudioService.browse`, :meth:`~StudioService.export`, and the brand voices.

:meth:`StudioService.draft` is writing then keeping in one call, for a caller with one thread (the CLI).
The saving and export formats themselves stay in :mod:`app.studio.library`; this module decides which
drafts, which voice and in what order. Errors are :class:`~app.core.errors.VisageError` with the fix.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app.core.config import SyncSettings
from app.core.files import write_text_atomic
from app.store.drafts import DraftHit, DraftStore, DraftSummary, StoredDraft
from app.store.voices import StoredVoice, VoiceStore
from app.studio import library
from app.studio.analysis import FieldValue
from app.studio.brief import Brief
from app.studio.generate import StudioLLM, Variant, generate_variants
from app.studio.generate import rewrite as rewrite_variant
from app.studio.library import OpenedDraft
from app.studio.voice import BrandVoice

EXPORT_ALL = 100_000
"""Most drafts one export of a project (or of everything) holds."""


@dataclass(frozen=True)
class Written:
    """What the model wrote for a brief: the ranked variants, where they came from, and any fallback notice."""

    variants: list[Variant]
    source: Literal["local", "remote"] = "local"
    notice: str | None = None


@dataclass(frozen=True)
class Drafted:
    """Variants written and (unless told not to) kept as drafts; ``ids[i]`` is ``variants[i]``'s draft or None."""

    brief: Brief
    voice: BrandVoice | None
    written: Written
    ids: list[int | None] = field(default_factory=list)

    @property
    def variants(self) -> list[Variant]:
        return self.written.variants


@dataclass(frozen=True)
class Rewritten:
    """A rewrite and, when it belongs to a saved draft, the number of the version it was kept as."""

    variant: Variant
    version: int | None = None


@dataclass(frozen=True)
class DraftPage:
    """One page of the drafts list (``total``: how many in all), or search hits (``total`` is -1)."""

    rows: list[DraftSummary] | list[DraftHit]
    total: int


@dataclass(frozen=True)
class Exported:
    """An export: the text (Markdown, plain text or CSV), how many drafts it holds, and the file if written."""

    text: str
    count: int
    path: Path | None = None


class StudioService:
    """The copy studio over one open database (its drafts and brand voices)."""

    def __init__(self, drafts: DraftStore, voices: VoiceStore) -> None:
        self.drafts = drafts
        self.voices = voices

    @classmethod
    def of(cls, store: Any) -> StudioService:
        """The service over an open :class:`app.store.Store` (the one place the repositories are built)."""
        return cls(DraftStore(store), VoiceStore(store))

    # ---- brand voices ----
    def voice(self, name: str) -> BrandVoice:
        """A saved brand voice by name (NotFoundError, naming ``visage voice list``, when there is none)."""
        return library.saved_voice(self.voices, name)

    def voice_for(self, brief: Brief, name: str | None = None) -> BrandVoice | None:
        """The voice a generation follows: ``name`` (an override), else the brief's own, else none."""
        chosen = name or brief.voice
        return self.voice(chosen) if chosen else None

    def voice_records(self) -> list[StoredVoice]:
        """The saved voices as stored (name and data), by name."""
        return self.voices.list()

    def all_voices(self) -> dict[str, BrandVoice]:
        """Every saved voice, validated, by name."""
        return {stored.name: self.voice(stored.name) for stored in self.voices.list()}

    def save_voice(self, voice: BrandVoice, *, replace: bool = False) -> str:
        """Save ``voice`` under its name (refused when the name is taken, unless ``replace``); returns the name."""
        library.save_voice(self.voices, voice, replace=replace)
        return voice.name

    # ---- writing (the model; no database) ----
    @staticmethod
    def write(brief: Brief, llm: StudioLLM | Callable[[], StudioLLM], *, n: int = 3,
              voice: BrandVoice | None = None, remote: SyncSettings | None = None,
              cancel: threading.Event | None = None,
              on_variant: Callable[[Variant], None] | None = None) -> Written:
        """``n`` ranked variants of ``brief``. With ``remote`` (the sync settings), the remote API writes them
        and any failure falls back to ``llm`` with a notice; ``on_variant`` sees each local candidate."""
        if remote is not None:
            from app.sync import generate_copy

            result = generate_copy(brief, settings=remote, local_llm=llm, n=n, voice=voice, cancel=cancel)
            return Written(result.variants, result.source, result.notice)
        model = llm() if callable(llm) and not hasattr(llm, "chat") else llm
        return Written(generate_variants(brief, model, n=n, voice=voice, cancel=cancel,  # type: ignore[arg-type]
                                         on_variant=on_variant))

    @staticmethod
    def rewrite(fields: Mapping[str, FieldValue], brief: Brief, llm: StudioLLM, how: str, *, keyword: str = "",
                voice: BrandVoice | None = None, cancel: threading.Event | None = None) -> Variant:
        """Rewrite ``fields`` shorter / more formal / more playful / with ``keyword``, analysed and repaired."""
        return rewrite_variant(fields, brief, llm, how, keyword=keyword or None, voice=voice,  # type: ignore[arg-type]
                               cancel=cancel)

    # ---- keeping (the database; no model) ----
    def keep(self, brief: Brief, variants: Sequence[Variant], *, voice: BrandVoice | None = None,
             project: str | None = None) -> list[int]:
        """Save the brief once and each variant as a draft (version 1); returns the draft ids, in order."""
        return library.save_variants(self.drafts, brief, variants, project=project, voice=voice)

    def draft(self, brief: Brief, llm: StudioLLM | Callable[[], StudioLLM], *, n: int = 3,
              voice: BrandVoice | None = None, project: str | None = None, save: bool = True,
              remote: SyncSettings | None = None, cancel: threading.Event | None = None,
              on_variant: Callable[[Variant], None] | None = None) -> Drafted:
        """Write ``n`` variants and keep them as drafts (``save=False``: write only), in one call."""
        written = self.write(brief, llm, n=n, voice=voice, remote=remote, cancel=cancel, on_variant=on_variant)
        ids: list[int | None] = [None] * len(written.variants)
        if save:
            ids = list(self.keep(brief, written.variants, voice=voice, project=project))
        return Drafted(brief=brief, voice=voice, written=written, ids=ids)

    def save_edit(self, draft_id: int, variant: Variant) -> int:
        """Keep an edited (or rewritten, or restored) variant as the draft's newest version; returns its number."""
        return library.save_version(self.drafts, draft_id, variant)

    def open_draft(self, draft_id: int) -> OpenedDraft:
        """A saved draft to edit again: its brief, brand voice and the drafts of its generation, re-analysed."""
        return library.open_draft(self.drafts, self.voices, draft_id)

    def get_draft(self, draft_id: int) -> StoredDraft:
        """One draft with every version (the version history)."""
        return self.drafts.get_draft(draft_id)

    def star(self, draft_id: int, on: bool = True) -> None:
        self.drafts.set_favourite(draft_id, on)

    def delete(self, draft_id: int) -> None:
        """Move a draft to the trash (:meth:`restore` brings it back)."""
        self.drafts.delete_draft(draft_id)

    def restore(self, draft_id: int) -> None:
        self.drafts.restore_draft(draft_id)

    def list_drafts(self, limit: int = 50, *, favourites: bool = False,
                    project: str | None = None) -> list[StoredDraft]:
        """Drafts, starred first, then the most recently changed."""
        return self.drafts.list_drafts(limit, favourites_only=favourites, project=project)

    def search(self, query: str, *, limit: int = 20, favourites: bool = False) -> list[DraftHit]:
        """Full-text search over draft titles and texts, best first."""
        return self.drafts.search(query, limit=limit, favourites_only=favourites)

    def browse(self, query: str = "", *, starred: bool = False, limit: int = 50, offset: int = 0) -> DraftPage:
        """What the drafts browser shows: search hits for ``query``, else one page of the list and the total."""
        if query.strip():
            return DraftPage(self.search(query.strip(), limit=limit, favourites=starred), -1)
        return DraftPage(self.drafts.list_summaries(limit, offset, favourites_only=starred),
                         self.drafts.count_drafts(favourites_only=starred))

    def export(self, fmt: str, *, ids: Sequence[int] | None = None, project: str | None = None,
               path: Path | None = None) -> Exported:
        """The drafts ``ids`` (when given, even none), else a project's, else all (the most recently changed
        last), as ``fmt`` (md, txt or csv); written to ``path`` (atomically) when one is given."""
        if ids is not None:
            rows = self.drafts.drafts(list(ids))
        else:
            rows = list(reversed(self.drafts.list_drafts(EXPORT_ALL, project=project)))
        text = library.export_drafts(rows, fmt)
        if path is not None:
            write_text_atomic(path, text)
        return Exported(text=text, count=len(rows), path=path)


__all__ = ["DraftPage", "Drafted", "Exported", "Rewritten", "StudioService", "Written"]
