"""EngineHost (app.session.engine_host): the loader's ``on_notice`` is the one path by which an engine's
fallback reaches the user, also when it happens long after loading (the online voice going offline mid
conversation), and ``run_tts`` speaks on the TTS's own worker."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

from app.core.config import Settings
from app.core.pipeline import Engines, Pipeline
from app.core.tts_fallback import FallbackTTS
from app.session.engine_host import EngineHost
from engines.base import AudioChunk
from tests.fakes import FakeHistory, ScriptedLLM, ToneTTS


class ThreadedTone(ToneTTS):
    """A tone voice that remembers the thread each call ran on."""

    def __init__(self, name: str, fail: bool = False) -> None:
        super().__init__(name, fail)
        self.threads: list[str] = []

    def synthesize(self, text: str, *, cancel: threading.Event | None = None) -> Iterator[AudioChunk]:
        self.threads.append(threading.current_thread().name)
        yield from super().synthesize(text, cancel=cancel)


def test_a_later_voice_fallback_reaches_the_user_once_and_run_tts_uses_the_tts_worker() -> None:
    offline = ThreadedTone("piper")
    reports: list[tuple[str, Any]] = []

    def loader(settings: Settings, progress: Callable[[int, int, str], None],
               on_notice: Callable[[str], None]) -> Engines:
        return Engines(llm=ScriptedLLM("Hi."),
                       tts=FallbackTTS(ThreadedTone("edge-tts", fail=True), offline, on_notice=on_notice))

    async def main() -> list[AudioChunk]:
        host = EngineHost(loader)
        engines = await host.load(Settings(), lambda name, payload: reports.append((name, payload)))
        assert engines is not None and reports == []  # nothing has fallen back yet
        pipeline = Pipeline(engines, Settings(), FakeHistory())
        try:
            await host.serve(pipeline)  # the warm-up speaks: the online voice fails, the offline one speaks
            chunks = [chunk async for chunk in host.run_tts("Read me again.")]
            await asyncio.sleep(0.05)  # the notice comes from the TTS worker through the loop
        finally:
            pipeline.close()
        return chunks

    chunks = asyncio.run(main())
    notices = [payload for name, payload in reports if name == "notice"]
    assert len(notices) == 1
    level, message = notices[0]
    assert level == "warning" and "edge-tts" in message and "offline voice" in message
    assert [c.text for c in chunks] == ["Read me again."]
    assert offline.spoken == ["Hello.", "Read me again."]
    assert all(name.startswith("visage-tts") for name in offline.threads)
