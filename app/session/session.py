"""The desktop session (:class:`Session`): the conversation store, the microphone (push-to-talk or hands-free
with the echo gate) and the speaker around one :class:`~app.core.pipeline.Pipeline`, over the engines that
:class:`~app.session.engine_host.EngineHost` loads in the background.

Qt-free. Every coroutine runs on the core loop (:class:`app.core.runner.CoreRunner`); blocking work
(engines, SQLite) runs in worker threads. The session reports to its owner through one callback,
``notify(name, payload)``; the names and payloads are listed in :mod:`app.session`. The sound card and the
open microphone are :mod:`app.session.audio`, the open conversation :mod:`app.session.conversation`, the
opt-in sync :mod:`app.session.sync_link`.

Other Qt-free parts of the app (the copy studio) run their blocking work through :meth:`Session.run_llm`
(on the LLM's own worker, so it never overlaps a reply) and :meth:`Session.run_io` (SQLite in a thread).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core import config as config_mod
from app.core.audio_io import ASR_RATE
from app.core.config import Settings
from app.core.echo import EchoGatedSource, TimelineSink
from app.core.errors import AudioInputError, VisageError
from app.core.events import (
    Event,
    Notice,
    SpeechChunk,
    SpeechEnded,
    SpeechStarted,
    Token,
    Transcript,
    TurnDropped,
    TurnFinished,
    UserMessageSaved,
)
from app.core.pipeline import Engines, Pipeline
from app.core.reports import Notify
from app.core.workers import EngineWorker
from app.session.audio import AudioBackend, DeviceAudio, Microphone
from app.session.conversation import Conversation
from app.session.engine_host import EngineHost, EngineLoader, load_engines
from app.session.sync_link import SyncLink
from engines.base import AudioChunk

if TYPE_CHECKING:
    from app.store import Store

log = logging.getLogger(__name__)


@dataclass
class _Live:
    """What the session keeps about the running turn for the visible state."""

    turn_id: str = ""
    spoke: bool = False


class Session:
    def __init__(
        self,
        settings: Settings,
        data_dir: Path,
        notify: Notify,
        *,
        audio: AudioBackend | None = None,
        loader: EngineLoader = load_engines,
        config_path: Path | None = None,
    ) -> None:
        self.settings = settings
        self.data_dir = Path(data_dir)
        self.notify = notify
        self.audio = audio if audio is not None else DeviceAudio(settings)
        self.host = EngineHost(loader)
        self.config_path = config_path
        #: the conversation history (and the database the studio, memory and sync share), once :meth:`start`
        #: opened it; None before, or when it could not be opened (an "error" report said why)
        self.store: Store | None = None
        self.pipeline: Pipeline | None = None
        self.sink: TimelineSink | None = None
        self.voice_ok = False
        self.conversation = Conversation()
        self._store_ready = asyncio.Event()
        self.mic = Microphone(self.audio)
        self._live = _Live()
        self._turn_lock = asyncio.Lock()
        self._state = ""
        self._tasks: set[asyncio.Task[Any]] = set()
        self.sync = SyncLink(notify, lambda: self.settings.sync)

    # ---- plumbing ----
    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.notify("state", state)

    @property
    def state(self) -> str:
        return self._state

    def _rest_state(self) -> str:
        if self.mic.listening:
            return "listening"
        return "idle"

    async def _io(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking call (SQLite, device queries) in a thread, never on the loop."""
        await self._store_ready.wait()
        return await asyncio.to_thread(fn, *args, **kwargs)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            err = task.exception()
            log.error("session task failed", exc_info=err)
            self.notify("error", str(err))

    # ---- start-up ----
    def _open_store(self) -> Store:
        from app.store import Store

        return Store.open_default(self.data_dir)

    @property
    def _history(self) -> Store:
        """The open store (the callers run after :meth:`start` opened it)."""
        if self.store is None:
            raise VisageError("The conversation history is not open.",
                              hint="It opens when Visage starts; if that failed, the error shown then says why.")
        return self.store

    async def start(self) -> None:
        """Open the history (fast), then load the models in the background."""
        self._set_state("loading")
        try:
            self.store = await asyncio.to_thread(self._open_store)
        except VisageError as err:
            self.notify("error", str(err))
            return
        self._store_ready.set()
        await self.sync.attach(self.store)
        await self.refresh_conversations()
        latest = await self._io(self._history.latest_conversation_id)
        if latest is not None:
            await self.open_conversation(latest)
        self._spawn(self._load())

    async def _load(self) -> None:
        try:
            await asyncio.to_thread(self.audio.check)
            self.voice_ok = True
            self.notify("audio", (True, "Voice is on."))
        except VisageError as err:
            self.voice_ok = False
            self.notify("audio", (False, err.message))
        if await self.host.load(self.settings, self.notify) is None:
            self._set_state("idle")
            self.notify("failed", self.host.load_error)
            return
        self._build_pipeline()
        assert self.pipeline is not None
        await self.host.serve(self.pipeline)
        self._set_state("idle")
        self.notify("ready", self.host.summary())

    def _build_pipeline(self) -> None:
        assert self.engines is not None
        if self.voice_ok:
            try:
                self.sink = TimelineSink(self.audio.open_sink(), on_play=self._on_play)
            except VisageError as err:
                self.voice_ok = False
                self.notify("audio", (False, err.message))
        from app.store.memory import MemoryStore

        self.pipeline = Pipeline(
            self.engines,
            self.settings,
            self._history,
            sink=self.sink if self.voice_ok else None,
            on_event=self._on_event,
            conversation=self.conversation.state,
            memory=MemoryStore(self._history),
        )

    @property
    def conversation_id(self) -> int | None:
        """The open conversation's id (None for a new one, until its first message is stored)."""
        return self.conversation.id

    @property
    def engines(self) -> Engines | None:
        return self.host.engines

    @property
    def load_error(self) -> str | None:
        return self.host.load_error

    @property
    def ready(self) -> bool:
        return self.host.ready

    async def wait_ready(self) -> None:
        """Until the models are loaded and warmed up (forever if loading failed: watch "failed")."""
        await self.host.wait_ready()

    def echo_stats(self) -> dict[str, int]:
        """What the echo handling of the hands-free microphone did so far (the details view shows it)."""
        pipeline = self.pipeline
        stats = {"own_voice_ignored": pipeline.echo_discarded if pipeline is not None else 0,
                 "replies_resumed": pipeline.resumed if pipeline is not None else 0}
        gate = self.mic.gate
        if gate is not None:
            stats |= {"gated_frames": gate.gated_frames, "resyncs": gate.resyncs}
        return stats

    # ---- events from the pipeline (loop thread) ----
    def _on_play(self, chunk: AudioChunk, offset: float) -> None:
        self.notify("chunk", (chunk, offset))

    def _on_event(self, event: Event) -> None:
        if isinstance(event, SpeechStarted):
            self._set_state("listening")
        elif isinstance(event, SpeechEnded):
            self._live = _Live(turn_id=event.turn_id)
            self._set_state("transcribing")
        elif isinstance(event, Transcript):
            self.notify("transcript", (event.turn_id, event.text.strip()))
            self._set_state("thinking")
        elif isinstance(event, UserMessageSaved):
            self.notify("saved", (event.turn_id, event.message_id))
        elif isinstance(event, Token):
            self.notify("token", (event.turn_id, event.text))
        elif isinstance(event, SpeechChunk):
            self._live.spoke = True
            self._set_state("speaking")
        elif isinstance(event, Notice):
            self.notify("notice", (event.level, event.message))
        elif isinstance(event, TurnDropped):
            if self.pipeline is None or self.pipeline.current is None:
                self._set_state(self._rest_state())
        elif isinstance(event, TurnFinished):
            self.notify("finished", event)
            self._spawn(self._after_turn(event.turn_id))

    async def _after_turn(self, turn_id: str) -> None:
        if turn_id:
            await self.refresh_conversations()
        # Speaking lasts until the listener has heard the last chunk, not until the LLM is done.
        while self.sink is not None and self.sink.pending_s() > 0.02:
            await asyncio.sleep(0.05)
            if self.pipeline is not None and self.pipeline.current is not None:
                return  # a new turn owns the state now
        if self.pipeline is None or self.pipeline.current is None:
            self._set_state(self._rest_state())

    # ---- turns ----
    async def send_text(
        self,
        text: str,
        *,
        context: Iterable[tuple[str, str]] | None = None,
        supersede_from: int | None = None,
    ) -> TurnFinished | None:
        """Answer a typed message. With ``context`` (role, text) the model sees only that conversation
        before it; ``supersede_from`` replaces that stored message and the ones after it (see :meth:`resend`)."""
        text = text.strip()
        if not text:
            return None
        self.interrupt()
        async with self._turn_lock:
            self._set_state("thinking")
            await self.host.wait_ready()
            assert self.pipeline is not None
            if context is not None:  # set under the lock: a turn still finishing appends to the old history
                self.conversation.replace(context)
            try:
                return await self.pipeline.text_turn(text, speak=self.voice_ok, supersede_from=supersede_from)
            except VisageError as err:
                self.notify("error", str(err))
                self._set_state(self._rest_state())
                return None

    async def resend(
        self, context: Iterable[tuple[str, str]], text: str, *, supersede_from: int | None = None
    ) -> TurnFinished | None:
        """Regenerate a reply or send an edited message.

        ``text`` is answered with ``context`` as the conversation before it. ``supersede_from`` is the stored
        message being replaced (the user message of a regenerated reply, or the edited one): it and every later
        message are hidden from the conversation in the same transaction that stores the new user message.
        """
        return await self.send_text(text, context=tuple(context), supersede_from=supersede_from)

    def interrupt(self) -> None:
        """Esc: stop the current reply (LLM, TTS and playback). Safe from any thread."""
        if self.pipeline is not None:
            self.pipeline.interrupt()
        if self.sink is not None and self.sink.pending_s() > 0:
            self.sink.stop()  # also stops a "read aloud"

    async def read_aloud(self, text: str) -> None:
        """Speak a message again through the voice and the avatar."""
        if not self.voice_ok:
            self.notify("notice", ("info", "Voice is off: there is no speaker to read aloud on."))
            return
        self.interrupt()
        await self.host.wait_ready()
        assert self.pipeline is not None and self.engines is not None and self.sink is not None
        if self.engines.tts is None:
            return
        cancel = threading.Event()
        self._set_state("speaking")
        async for chunk in self.host.run_tts(text, cancel=cancel):
            start = self.sink.start_time()
            self.sink.play(chunk)
            self.pipeline.played.played(chunk.text or text, start, start + chunk.duration)
        self._spawn(self._after_turn(""))

    # ---- microphone ----
    async def press_talk(self) -> None:
        """Push-to-talk pressed: stop Visage talking (barge-in) and start recording."""
        if not self.voice_ok or self.mic.ptt is not None:
            return
        self.interrupt()
        await self.mic.press()
        self._set_state("listening")

    async def release_talk(self) -> TurnFinished | None:
        if self.mic.ptt is None:
            return None
        try:
            utterance = await self.mic.release()
        except VisageError as err:
            self.notify("error", str(err))
            self._set_state(self._rest_state())
            return None
        if utterance is None or len(utterance.audio) < ASR_RATE // 5:
            self.notify("notice", ("info", "Hold the talk button while you speak."))
            self._set_state(self._rest_state())
            return None
        async with self._turn_lock:
            await self.host.wait_ready()
            assert self.pipeline is not None
            try:
                return await self.pipeline.voice_turn(utterance, speak=self.voice_ok)
            except AudioInputError as err:
                self.notify("notice", ("info", err.message))
                self._set_state(self._rest_state())
                return None

    async def set_hands_free(self, on: bool) -> None:
        if on and self.mic.hands_free is None and self.voice_ok:
            await self.host.wait_ready()
            assert self.pipeline is not None and self.sink is not None
            gated = await self.mic.open_hands_free(self.sink)
            self.mic.hands_free = self._spawn(self._listen(gated))
            self._set_state("listening")
        elif not on and self.mic.hands_free is not None:
            task = self.mic.stop_hands_free()
            assert task is not None
            await asyncio.wait({task}, timeout=5)
            if self.pipeline is None or self.pipeline.current is None:
                self._set_state("idle")

    async def _listen(self, source: EchoGatedSource) -> None:
        assert self.pipeline is not None
        try:
            await self.pipeline.listen(source, barge_in=True, speak=True)
        finally:
            if self.mic.hands_free_ended():
                self._spawn(self._after_turn(""))  # idle once the last reply has been heard
            self.notify("hands_free", False)

    # ---- history ----
    async def refresh_conversations(self) -> None:
        self.notify("conversations", await self._io(self._history.list_conversations))

    async def new_conversation(self) -> None:
        self.interrupt()
        self.conversation.clear()
        self.notify("conversation", None)

    async def open_conversation(self, conversation_id: int) -> None:
        try:
            conversation = await self._io(self._history.get_conversation, conversation_id)
        except VisageError as err:
            self.notify("error", str(err))
            return
        if conversation_id != self.conversation_id:
            self.interrupt()
        self.conversation.open(conversation_id, conversation)
        self.notify("conversation", conversation)

    async def rename(self, conversation_id: int, title: str) -> None:
        try:
            await self._io(self._history.rename_conversation, conversation_id, title)
        except VisageError as err:
            self.notify("error", str(err))
        await self.refresh_conversations()

    async def pin(self, conversation_id: int, pinned: bool) -> None:
        await self._io(self._history.set_pinned, conversation_id, pinned)
        await self.refresh_conversations()

    async def delete(self, conversation_id: int) -> None:
        conversation = await self._io(self._history.get_conversation, conversation_id)
        await self._io(self._history.delete_conversation, conversation_id)
        if conversation_id == self.conversation_id:
            await self.new_conversation()
        self.notify("deleted", (conversation_id, conversation.title))
        await self.refresh_conversations()

    async def restore(self, conversation_id: int) -> None:
        await self._io(self._history.restore_conversation, conversation_id)
        await self.refresh_conversations()

    async def search(self, query: str) -> None:
        hits = await self._io(self._history.search, query) if query.strip() else []
        self.notify("search", (query, hits))

    # ---- work for other parts of the app (copy studio) ----
    async def run_llm(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(llm, *args, **kwargs)`` on the LLM's own worker, once loaded (:meth:`EngineHost.run_llm`)."""
        return await self.host.run_llm(fn, *args, **kwargs)

    async def engine_worker(self, role: str) -> tuple[Any, EngineWorker]:
        """The loaded engine for ``role`` and the worker its calls run on (:meth:`EngineHost.engine_worker`)."""
        return await self.host.engine_worker(role)

    async def run_io(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A blocking call (SQLite through ``self.store``, files) in a thread, once the store is open."""
        return await self._io(fn, *args, **kwargs)

    # ---- sync (opt-in, app.sync) ----
    @property
    def sync_worker(self) -> Any:
        """``app.sync.SyncWorker`` while analytics sharing is on, else None."""
        return self.sync.worker

    async def refresh_sync(self) -> None:
        """Report the sync state now (the sender also reports after every batch)."""
        await self.sync.refresh()

    async def resume_sync(self) -> None:
        """After the user fixed a permanent error (a new key): clear the stop and send again."""
        await self.sync.resume()

    # ---- settings ----
    async def apply_settings(self, settings: Settings) -> None:
        """Save the settings; reload the engines when an engine setting changed."""
        path = await asyncio.to_thread(config_mod.save, settings, self.config_path)
        engines_changed = any(
            getattr(settings, role) != getattr(self.settings, role) for role in ("llm", "asr", "tts", "vad")
        ) or settings.audio != self.settings.audio
        sync_changed = settings.sync != self.settings.sync
        self.settings = settings
        if sync_changed and self.store is not None:
            await self.sync.attach(self.store)
        self.notify("notice", ("info", f"Settings saved to {path}."))
        if isinstance(self.audio, DeviceAudio):
            self.audio.settings = settings
        if engines_changed and self.host.ready:
            await self._reload()
        elif self.pipeline is not None:
            self.pipeline.settings = settings

    async def _reload(self) -> None:
        await self.set_hands_free(False)
        self.interrupt()
        async with self._turn_lock:
            self.host.unload()
            self._set_state("loading")
            if self.pipeline is not None:
                self.pipeline.close()
                self.pipeline = None
            if self.sink is not None:
                await asyncio.to_thread(self.sink.close)
                self.sink = None
        await self._load()

    # ---- shutdown ----
    async def close(self) -> None:
        await self.set_hands_free(False)
        self.interrupt()
        for _ in range(100):  # let an interrupted turn store what was heard (it ends within ms)
            if self.pipeline is None or self.pipeline.current is None:
                break
            await asyncio.sleep(0.05)
        for task in list(self._tasks):
            task.cancel()
        if self.pipeline is not None:
            self.pipeline.close()
        if self.sink is not None:
            await asyncio.to_thread(self.sink.close)
        await self.sync.stop()
        if self.store is not None:
            await asyncio.to_thread(self.store.close)
