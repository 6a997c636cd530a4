"""The studio service on the running session's workers, for the desktop (the core loop, never the Qt thread).

:meth:`QueuedStudio.handle` answers one :mod:`app.studio.requests` request: model steps run through
``run_llm`` (the LLM's own worker, so they queue behind a conversation reply instead of overlapping it),
database steps through ``run_io`` (a thread, once the history is open). The work itself is
:class:`app.studio.service.StudioService`'s, the same as ``visage draft``'s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from app.studio import requests as rq
from app.studio.service import Drafted, Rewritten, StudioService

T = TypeVar("T")


class Workers(Protocol):
    """What the studio needs of the session (``app.session.session.Session`` has it)."""

    store: Any
    """The open history (``app.store.Store``), once ``run_io`` runs."""

    async def run_llm(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

    async def run_io(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...


class QueuedStudio:
    def __init__(self, workers: Workers) -> None:
        self.workers = workers
        self._service: StudioService | None = None
        self._store: Any = None

    def service(self) -> StudioService:
        """The service over the session's store (built again if the store was reopened)."""
        store = self.workers.store
        if self._service is None or store is not self._store:
            self._service, self._store = StudioService.of(store), store
        return self._service

    async def _io(self, fn: Callable[[StudioService], T]) -> T:
        return await self.workers.run_io(lambda: fn(self.service()))  # type: ignore[no-any-return]

    async def handle(self, request: rq.StudioRequest, *, cancel: threading.Event | None = None,
                     progress: Callable[[Any], None] | None = None) -> Any:
        """The answer to ``request`` (each request's docstring names it); errors are raised as they are."""
        match request:
            case rq.Generate(brief=brief, n=n, voice=voice, remote=remote):
                on_variant = progress if remote is None else None  # the remote API hands back the ranked ones only
                written = await self.workers.run_llm(
                    lambda llm: StudioService.write(brief, llm, n=n, voice=voice, remote=remote, cancel=cancel,
                                                    on_variant=on_variant))
                ids = await self._io(lambda s: s.keep(brief, written.variants, voice=voice))
                return Drafted(brief=brief, voice=voice, written=written, ids=list(ids))
            case rq.Rewrite(fields=fields, brief=brief, how=how, keyword=keyword, voice=voice, draft_id=draft_id):
                variant = await self.workers.run_llm(
                    lambda llm: StudioService.rewrite(fields, brief, llm, how, keyword=keyword, voice=voice,
                                                      cancel=cancel))
                if draft_id is None:
                    return Rewritten(variant)
                return Rewritten(variant, await self._io(lambda s: s.save_edit(draft_id, variant)))
            case rq.SaveEdit(draft_id=draft_id, variant=variant):
                return await self._io(lambda s: s.save_edit(draft_id, variant))
            case rq.StarDraft(draft_id=draft_id, on=on):
                return await self._io(lambda s: s.star(draft_id, on))
            case rq.OpenDraft(draft_id=draft_id):
                return await self._io(lambda s: s.open_draft(draft_id))
            case rq.ReadDraft(draft_id=draft_id):
                return await self._io(lambda s: s.get_draft(draft_id))
            case rq.DeleteDraft(draft_id=draft_id):
                return await self._io(lambda s: s.delete(draft_id))
            case rq.RestoreDraft(draft_id=draft_id):
                return await self._io(lambda s: s.restore(draft_id))
            case rq.BrowseDrafts(query=query, starred=starred, limit=limit, offset=offset):
                return await self._io(lambda s: s.browse(query, starred=starred, limit=limit, offset=offset))
            case rq.ExportDrafts(ids=ids, fmt=fmt, path=path):
                return await self._io(lambda s: s.export(fmt, ids=ids, path=path))
            case rq.ListVoices():
                return await self._io(lambda s: s.all_voices())
            case rq.SaveVoice(voice=voice, replace=replace):
                return await self._io(lambda s: s.save_voice(voice, replace=replace))
            case _:
                raise TypeError(f"unknown studio request {request!r}")
