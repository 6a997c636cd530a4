"""What a front end may ask of the copy studio: one small frozen dataclass per request.

The desktop hands these to :meth:`app.ui.bridge.CoreBridge.ask` (its one door into the core for the
studio); :meth:`app.studio.queued.QueuedStudio.handle` answers each on the right worker. The answer of
each request is named in its docstring.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.core.config import SyncSettings
from app.studio.analysis import FieldValue
from app.studio.brief import Brief
from app.studio.generate import Variant
from app.studio.voice import BrandVoice


@dataclass(frozen=True, slots=True)
class Generate:
    """Write ``n`` variants (remotely when ``remote`` holds the sync settings) and keep them: a ``Drafted``.
    Each local candidate is handed to the request's ``progress`` as soon as it is ready."""

    brief: Brief
    n: int = 3
    voice: BrandVoice | None = None
    remote: SyncSettings | None = None


@dataclass(frozen=True, slots=True)
class Rewrite:
    """Rewrite ``fields`` (``how``: shorter, formal, playful, keyword) and keep it as a new version of
    ``draft_id`` when there is one: a ``Rewritten``."""

    fields: Mapping[str, FieldValue]
    brief: Brief
    how: str
    keyword: str = ""
    voice: BrandVoice | None = None
    draft_id: int | None = None


@dataclass(frozen=True, slots=True)
class SaveEdit:
    """Keep ``variant`` as the newest version of ``draft_id``: its number (int)."""

    draft_id: int
    variant: Variant


@dataclass(frozen=True, slots=True)
class StarDraft:
    """Star (or unstar) a draft: None."""

    draft_id: int
    on: bool = True


@dataclass(frozen=True, slots=True)
class OpenDraft:
    """A saved draft to edit again, with the drafts of its brief: an ``OpenedDraft``."""

    draft_id: int


@dataclass(frozen=True, slots=True)
class ReadDraft:
    """One draft with every version: a ``StoredDraft``."""

    draft_id: int


@dataclass(frozen=True, slots=True)
class DeleteDraft:
    """Move a draft to the trash: None."""

    draft_id: int


@dataclass(frozen=True, slots=True)
class RestoreDraft:
    """Bring a deleted draft back: None."""

    draft_id: int


@dataclass(frozen=True, slots=True)
class BrowseDrafts:
    """Search hits for ``query``, else a page of the list: a ``DraftPage``."""

    query: str = ""
    starred: bool = False
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ExportDrafts:
    """Write the drafts ``ids`` to ``path`` as ``fmt`` (md, txt, csv): an ``Exported``."""

    ids: tuple[int, ...]
    fmt: str
    path: Path


@dataclass(frozen=True, slots=True)
class ListVoices:
    """Every saved brand voice by name: ``dict[str, BrandVoice]``."""


@dataclass(frozen=True, slots=True)
class SaveVoice:
    """Save a brand voice (``replace``: overwrite one of the same name): its name."""

    voice: BrandVoice
    replace: bool = False


StudioRequest = (
    Generate | Rewrite | SaveEdit | StarDraft | OpenDraft | ReadDraft | DeleteDraft | RestoreDraft | BrowseDrafts
    | ExportDrafts | ListVoices | SaveVoice
)
