"""The desktop's door into the studio (``app.studio.queued``) without Qt: each request is answered on the
right worker — model steps on the LLM's, store steps on the I/O one — and Cancel reaches the model."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from app.core.errors import Cancelled
from app.store import Store
from app.studio import Brief
from app.studio import requests as rq
from app.studio.queued import QueuedStudio
from app.studio.voice import BrandVoice

from .conftest import ScriptedChatLLM

SLOGAN = Brief(type="slogan", product="Brightside Coffee", keywords=["coffee"])
TEXT = "Brightside coffee for your commute."
REPLY = f'{{"slogan": "{TEXT}"}}'


class Workers:
    """The session's two workers, recorded: which one ran each step."""

    def __init__(self, store: Store, llm: Any) -> None:
        self.store, self.llm = store, llm
        self.ran: list[str] = []

    async def run_llm(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.ran.append("llm")
        return await asyncio.to_thread(fn, self.llm, *args, **kwargs)

    async def run_io(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.ran.append("io")
        return await asyncio.to_thread(fn, *args, **kwargs)


def test_generate_writes_on_the_llm_worker_keeps_on_the_io_worker_and_reports_candidates(store: Store) -> None:
    workers = Workers(store, ScriptedChatLLM(REPLY))
    studio = QueuedStudio(workers)
    seen: list[str] = []
    drafted = asyncio.run(studio.handle(rq.Generate(SLOGAN, n=2), progress=lambda v: seen.append(v.text)))
    assert workers.ran == ["llm", "io"] and len(seen) == 3
    assert [v.text for v in drafted.variants] == [TEXT] * 2 and None not in drafted.ids
    page = asyncio.run(studio.handle(rq.BrowseDrafts()))
    assert page.total == 2 and {r.id for r in page.rows} == set(drafted.ids)

    rewritten = asyncio.run(studio.handle(rq.Rewrite(drafted.variants[0].fields, SLOGAN, "shorter",
                                                     draft_id=drafted.ids[0])))
    assert rewritten.version == 2 and workers.ran[-2:] == ["llm", "io"]
    opened = asyncio.run(studio.handle(rq.OpenDraft(drafted.ids[0])))  # type: ignore[arg-type]
    assert opened.variants[0].version == 2 and opened.variants[0].variant.source == "rewrite:shorter"


def test_voices_and_a_cancelled_generation_that_keeps_nothing(store: Store) -> None:
    workers = Workers(store, ScriptedChatLLM(REPLY))
    studio = QueuedStudio(workers)
    voice = BrandVoice(name="Brightside", tone=["warm"])
    assert asyncio.run(studio.handle(rq.SaveVoice(voice))) == "Brightside"
    assert asyncio.run(studio.handle(rq.ListVoices())) == {"Brightside": voice}
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        asyncio.run(studio.handle(rq.Generate(SLOGAN, voice=voice), cancel=cancel))
    assert asyncio.run(studio.handle(rq.BrowseDrafts())).total == 0
