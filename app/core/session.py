"""A live desktop session: models loading in the background, the conversation store, the microphone
(push-to-talk or hands-free with the echo gate) and the speaker, around one :class:`Pipeline`.

Qt-free. Every coroutine runs on the core loop (:class:`app.core.runner.CoreRunner`); blocking work
(engines, SQLite) runs in worker threads. The session reports to its owner through one callback,
``notify(name, payload)`` (names typed: :data:`app.core.reports.Report`); the Qt bridge implements
:class:`app.core.reports.SessionListener`, whose method for each name emits its ``sig_<name>`` signal:

=================  ======================================================================
name               payload
=================  ======================================================================
``state``          "loading" | "idle" | "listening" | "transcribing" | "thinking" | "speaking"
``models``         ``(done, total, label)`` while loading
``ready``          a one-line summary of the engines in use
``failed``         a message saying what is missing and how to fix it (text history still works)
``audio``          ``(ok, message)``: voice on/off and why
``transcript``     ``(turn_id, text)``: what the user said
``token``          ``(turn_id, text)``: a piece of the reply
``chunk``          ``(AudioChunk, offset_s)``: speech queued at ``offset_s`` on the speaker clock
``finished``       :class:`~app.core.events.TurnFinished`
``notice``         ``(level, message)``: fallbacks and problems the user must see
``conversations``  ``list[ConversationSummary]``
``conversation``   :class:`~app.store.records.Conversation` (opened, or changed)
``search``         ``(query, list[SearchHit])``
``deleted``        ``(conversation_id, title)``: can be undone with :meth:`restore`
``error``          a message for the user
``sync``           ``(enabled, SyncStatus | None)``: the opt-in sync (``app.sync``) and its sender's state
=================  ======================================================================

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
from typing import Any, Protocol

import numpy as np

from app.core import config as config_mod
from app.core.audio_io import ASR_RATE, AudioSink, AudioSource
from app.core.config import Settings
from app.core.echo import EchoGate, EchoGatedSource, TimelineSink
from app.core.errors import AudioDeviceError, AudioInputError, VisageError
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
from app.core.segmenter import Utterance
from engines.base import AudioChunk, ChatMessage

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
EngineLoader = Callable[[Settings, Progress, Callable[[str], None]], Engines]

ROLES = ("llm", "asr", "vad", "tts")  # the engines the status line names


def load_engines(settings: Settings, progress: Progress, on_notice: Callable[[str], None]) -> Engines:
    """Load every engine, one role at a time, reporting progress (runs in a worker thread); the same
    assembly as the CLI's, so the same machine choices and fallbacks are reported here too."""
    from app.core.assembly import build_engines

    return build_engines(settings, on_notice=on_notice, progress=progress)


class AudioBackend(Protocol):
    """Where the microphone frames come from and the speech goes to."""

    def check(self) -> None:
        """Raise AudioDeviceError (with the fix) when there is no usable input/output device."""

    def open_source(self) -> AudioSource: ...

    def open_sink(self) -> AudioSink: ...


class DeviceAudio:
    """The sound card through sounddevice, with the devices chosen in the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def check(self) -> None:
        from app.core.audio_device import NO_DEVICE_HINT, list_devices

        devices = list_devices()
        if not any(d.inputs for d in devices) or not any(d.outputs for d in devices):
            raise AudioDeviceError("No microphone/speakers found.", hint=NO_DEVICE_HINT)

    def open_source(self) -> AudioSource:
        from app.core.audio_device import MicrophoneSource

        return MicrophoneSource(self.settings.audio.input_device, ASR_RATE)

    def open_sink(self) -> AudioSink:
        from app.core.audio_device import SpeakerSink

        return SpeakerSink(self.settings.audio.output_device)


def audio_with_devices(audio: AudioBackend, input_device: str | None, output_device: str | None) -> AudioBackend:
    """``audio`` as it would be with other devices chosen (the settings' sound check before saving)."""
    if isinstance(audio, DeviceAudio):
        devices = audio.settings.audio.model_copy(update={"input_device": input_device, "output_device": output_device})
        return DeviceAudio(audio.settings.model_copy(update={"audio": devices}))
    return audio  # a file-backed or test backend has no devices to choose


class PushToTalk:
    """Records the microphone between :meth:`start` and :meth:`finish` in its own thread."""

    def __init__(self, source: AudioSource, frame_samples: int = 512) -> None:
        self.source = source
        self.frame_samples = frame_samples
        self._frames: list[np.ndarray] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._record, name="visage-ptt", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def _record(self) -> None:
        try:
            for frame in self.source.frames(self.frame_samples):
                if self._stop.is_set():
                    return
                self._frames.append(np.array(frame, dtype=np.float32))
        except BaseException as err:  # reported by finish()
            self.error = err

    def finish(self) -> Utterance | None:
        """Stop recording (blocks briefly: call it in a worker) and return what was said, if anything."""
        self._stop.set()
        self.source.close()
        self._thread.join(timeout=2.0)
        if self.error is not None:
            raise AudioInputError(f"The microphone failed while recording: {self.error}")
        if not self._frames:
            return None
        audio = np.concatenate(self._frames)
        seconds = len(audio) / self.source.sample_rate
        return Utterance(audio=audio, start_s=0.0, end_s=seconds, hangover_s=0.0)


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
        self.loader = loader
        self.config_path = config_path
        self.store: Any = None
        self.engines: Engines | None = None
        self.pipeline: Pipeline | None = None
        self.sink: TimelineSink | None = None
        self.voice_ok = False
        self.conversation_id: int | None = None
        self._history: list[ChatMessage] = []
        self._ready = asyncio.Event()
        self._store_ready = asyncio.Event()
        self._hands_free: asyncio.Task[Any] | None = None
        self._hands_free_source: AudioSource | None = None
        self._gate: EchoGate | None = None  # the hands-free microphone's echo handling
        self._ptt: PushToTalk | None = None
        self._live = _Live()
        self._turn_lock = asyncio.Lock()
        self._state = ""
        self._tasks: set[asyncio.Task[Any]] = set()
        self.sync_worker: Any = None  # app.sync.SyncWorker while analytics sharing is on
        self.load_error: str | None = None

    # ---- plumbing ----
    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.notify("state", state)

    @property
    def state(self) -> str:
        return self._state

    def _rest_state(self) -> str:
        if self._hands_free is not None or self._ptt is not None:
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
    def _open_store(self) -> Any:
        from app.store import Store

        return Store.open_default(self.data_dir)

    async def start(self) -> None:
        """Open the history (fast), then load the models in the background."""
        self._set_state("loading")
        try:
            self.store = await asyncio.to_thread(self._open_store)
        except VisageError as err:
            self.notify("error", str(err))
            return
        self._store_ready.set()
        await self._attach_sync()
        await self.refresh_conversations()
        latest = await self._io(self.store.latest_conversation_id)
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
        loop = asyncio.get_running_loop()

        def progress(done: int, total: int, label: str) -> None:
            loop.call_soon_threadsafe(self.notify, "models", (done, total, label))

        def notice(message: str) -> None:
            loop.call_soon_threadsafe(self.notify, "notice", ("warning", message))

        try:
            self.engines = await asyncio.to_thread(self.loader, self.settings, progress, notice)
        except VisageError as err:
            self._set_state("idle")
            self.load_error = str(err)
            self.notify("failed", str(err))
            return
        except Exception as err:  # an engine library failed in a way we did not foresee
            log.exception("loading the models failed")
            self._set_state("idle")
            self.load_error = f"Loading the models failed: {err}"
            self.notify("failed", self.load_error)
            return
        self.load_error = None
        self._build_pipeline()
        assert self.pipeline is not None
        try:
            await self.pipeline.warm_up()
        except Exception:  # warm-up is an optimisation; the first turn will just be slower
            log.warning("warm-up failed", exc_info=True)
        self._ready.set()
        self._set_state("idle")
        self.notify("ready", self._summary())

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
            self.store,
            sink=self.sink if self.voice_ok else None,
            on_event=self._on_event,
            conversation_id=self.conversation_id,
            history=self._history,
            memory=MemoryStore(self.store),
        )

    def _summary(self) -> str:
        assert self.engines is not None
        parts = []
        for role in ROLES:
            engine = getattr(self.engines, role)
            if engine is None:
                continue
            try:
                info = engine.info()
                parts.append(f"{role.upper()}: {info.model} ({info.device})")
            except Exception:
                parts.append(role.upper())
        return " · ".join(parts)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        """Until the models are loaded and warmed up (forever if loading failed: watch "failed")."""
        await self._ready.wait()

    def echo_stats(self) -> dict[str, int]:
        """What the echo handling of the hands-free microphone did so far (the details view shows it)."""
        stats = {"own_voice_ignored": self.pipeline.echo_discarded if self.pipeline is not None else 0}
        if self._gate is not None:
            stats |= {"gated_frames": self._gate.gated_frames, "resyncs": self._gate.resyncs}
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
            if self.pipeline is not None:
                self.conversation_id = self.pipeline.conversation_id
                self._history = self.pipeline.history
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
            await self._ready.wait()
            assert self.pipeline is not None
            if context is not None:  # set under the lock: a turn still finishing appends to the old history
                self.pipeline.history = [
                    ChatMessage(role, content)  # type: ignore[arg-type]
                    for role, content in context
                    if role in ("user", "assistant") and content
                ]
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
        await self._ready.wait()
        assert self.pipeline is not None and self.engines is not None and self.sink is not None
        tts = self.engines.tts
        if tts is None:
            return
        cancel = threading.Event()
        self._set_state("speaking")
        worker = self.pipeline._workers["tts"]  # the TTS is not re-entrant: its own worker only
        async for chunk in worker.iterate(tts.synthesize, text, cancel=cancel):
            start = max(self.sink.end_time, self.sink.audible_time())
            self.sink.play(chunk)
            self.pipeline.played.played(chunk.text or text, start, start + chunk.duration)
        self._spawn(self._after_turn(""))

    # ---- microphone ----
    async def press_talk(self) -> None:
        """Push-to-talk pressed: stop Visage talking (barge-in) and start recording."""
        if not self.voice_ok or self._ptt is not None:
            return
        self.interrupt()
        source = await asyncio.to_thread(self.audio.open_source)
        self._ptt = PushToTalk(source)
        self._ptt.start()
        self._set_state("listening")

    async def release_talk(self) -> TurnFinished | None:
        ptt, self._ptt = self._ptt, None
        if ptt is None:
            return None
        try:
            utterance = await asyncio.to_thread(ptt.finish)
        except VisageError as err:
            self.notify("error", str(err))
            self._set_state(self._rest_state())
            return None
        if utterance is None or len(utterance.audio) < ASR_RATE // 5:
            self.notify("notice", ("info", "Hold the talk button while you speak."))
            self._set_state(self._rest_state())
            return None
        async with self._turn_lock:
            await self._ready.wait()
            assert self.pipeline is not None
            try:
                return await self.pipeline.voice_turn(utterance, speak=self.voice_ok)
            except AudioInputError as err:
                self.notify("notice", ("info", err.message))
                self._set_state(self._rest_state())
                return None

    async def set_hands_free(self, on: bool) -> None:
        if on and self._hands_free is None and self.voice_ok:
            await self._ready.wait()
            assert self.pipeline is not None and self.sink is not None
            source = await asyncio.to_thread(self.audio.open_source)
            self._hands_free_source = source
            self._gate = EchoGate.for_sink(self.sink)
            gated = EchoGatedSource(source, self._gate)
            self._hands_free = self._spawn(self._listen(gated))
            self._set_state("listening")
        elif not on and self._hands_free is not None:
            task, self._hands_free = self._hands_free, None
            if self._hands_free_source is not None:
                self._hands_free_source.close()
                self._hands_free_source = None
            await asyncio.wait({task}, timeout=5)
            if self.pipeline is None or self.pipeline.current is None:
                self._set_state("idle")

    async def _listen(self, source: EchoGatedSource) -> None:
        assert self.pipeline is not None
        try:
            await self.pipeline.listen(source, barge_in=True, speak=True)
        finally:
            if self._hands_free is not None and self._hands_free is asyncio.current_task():
                self._hands_free = None
                self._hands_free_source = None
                self._spawn(self._after_turn(""))  # idle once the last reply has been heard
            self.notify("hands_free", False)

    # ---- history ----
    async def refresh_conversations(self) -> None:
        self.notify("conversations", await self._io(self.store.list_conversations))

    async def new_conversation(self) -> None:
        self.interrupt()
        self.conversation_id = None
        self._history = []
        if self.pipeline is not None:
            self.pipeline.conversation_id = None
            self.pipeline.history = []
        self.notify("conversation", None)

    async def open_conversation(self, conversation_id: int) -> None:
        try:
            conversation = await self._io(self.store.get_conversation, conversation_id)
        except VisageError as err:
            self.notify("error", str(err))
            return
        if conversation_id != self.conversation_id:
            self.interrupt()
        self.conversation_id = conversation_id
        self._history = [
            ChatMessage(m.role, m.text)  # type: ignore[arg-type]
            for m in conversation.messages
            if m.role in ("user", "assistant")
        ]
        if self.pipeline is not None:
            self.pipeline.conversation_id = conversation_id
            self.pipeline.history = list(self._history)
        self.notify("conversation", conversation)

    async def rename(self, conversation_id: int, title: str) -> None:
        try:
            await self._io(self.store.rename_conversation, conversation_id, title)
        except VisageError as err:
            self.notify("error", str(err))
        await self.refresh_conversations()

    async def pin(self, conversation_id: int, pinned: bool) -> None:
        await self._io(self.store.set_pinned, conversation_id, pinned)
        await self.refresh_conversations()

    async def delete(self, conversation_id: int) -> None:
        conversation = await self._io(self.store.get_conversation, conversation_id)
        await self._io(self.store.delete_conversation, conversation_id)
        if conversation_id == self.conversation_id:
            await self.new_conversation()
        self.notify("deleted", (conversation_id, conversation.title))
        await self.refresh_conversations()

    async def restore(self, conversation_id: int) -> None:
        await self._io(self.store.restore_conversation, conversation_id)
        await self.refresh_conversations()

    async def search(self, query: str) -> None:
        hits = await self._io(self.store.search, query) if query.strip() else []
        self.notify("search", (query, hits))

    # ---- work for other parts of the app (copy studio) ----
    async def run_llm(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(llm, *args, **kwargs)`` on the LLM's own worker once the models are loaded.

        The LLM is not re-entrant: running here queues the call behind (or before) a conversation
        reply instead of overlapping it. Raises EngineError when the models could not be loaded.
        """
        llm, worker = await self.engine_worker("llm")
        return await worker.call(fn, llm, *args, **kwargs)

    async def engine_worker(self, role: str) -> tuple[Any, Any]:
        """The loaded engine for ``role`` ("llm", "asr", "tts") and the worker its calls run on, once the models
        are loaded. Other front ends (the copy studio, the local API in ``app.api``) queue their calls there
        instead of loading a second copy. Raises EngineError when the models could not be loaded."""
        from app.core.errors import EngineError

        while not self._ready.is_set():
            if self.load_error is not None:
                raise EngineError("The models are not loaded.", hint=self.load_error)
            try:
                await asyncio.wait_for(self._ready.wait(), timeout=0.25)
            except TimeoutError:
                continue
        assert self.pipeline is not None and self.engines is not None
        engine = getattr(self.engines, role)
        if engine is None:
            raise EngineError(f"There is no {role} engine loaded.", hint="Check `visage doctor` for what is missing.")
        return engine, self.pipeline._workers[role]

    async def run_io(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A blocking call (SQLite through ``self.store``, files) in a thread, once the store is open."""
        return await self._io(fn, *args, **kwargs)

    # ---- sync (opt-in, app.sync) ----
    async def _attach_sync(self) -> None:
        """Start (or stop) the sync sender for the current settings; report the state."""
        from app.sync import attach

        loop = asyncio.get_running_loop()

        def on_status(status: Any) -> None:  # the worker's thread
            loop.call_soon_threadsafe(self.notify, "sync", (self.settings.sync.enabled, status))

        old, self.sync_worker = self.sync_worker, None
        if old is not None:
            await asyncio.to_thread(old.stop)
        try:
            self.sync_worker = await asyncio.to_thread(attach, self.store, self.settings.sync, on_status=on_status)
        except VisageError as err:
            self.notify("notice", ("warning", f"Sync is not running: {err}"))
        await self.refresh_sync()

    async def refresh_sync(self) -> None:
        """Report the sync state now (the sender also reports after every batch)."""
        worker = self.sync_worker
        status = await asyncio.to_thread(worker.status) if worker is not None else None
        self.notify("sync", (self.settings.sync.enabled, status))

    async def resume_sync(self) -> None:
        """After the user fixed a permanent error (a new key): clear the stop and send again."""
        if self.sync_worker is not None:
            await asyncio.to_thread(self.sync_worker.resume)
        await self.refresh_sync()

    # ---- settings ----
    async def apply_settings(self, settings: Settings) -> None:
        """Save the settings; reload the engines when an engine setting changed."""
        path = await asyncio.to_thread(config_mod.save, settings, self.config_path)
        engines_changed = any(
            getattr(settings, role) != getattr(self.settings, role) for role in ("llm", "asr", "tts", "vad")
        ) or settings.audio != self.settings.audio
        sync_changed = settings.sync != self.settings.sync
        self.settings = settings
        if sync_changed and self._store_ready.is_set():
            await self._attach_sync()
        self.notify("notice", ("info", f"Settings saved to {path}."))
        if isinstance(self.audio, DeviceAudio):
            self.audio.settings = settings
        if engines_changed and self._ready.is_set():
            await self._reload()
        elif self.pipeline is not None:
            self.pipeline.settings = settings

    async def _reload(self) -> None:
        await self.set_hands_free(False)
        self.interrupt()
        async with self._turn_lock:
            self._ready.clear()
            self._set_state("loading")
            if self.pipeline is not None:
                self.pipeline.close()
                self.pipeline = None
            if self.sink is not None:
                await asyncio.to_thread(self.sink.close)
                self.sink = None
            self.engines = None
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
        if self.sync_worker is not None:
            await asyncio.to_thread(self.sync_worker.stop)
            self.sync_worker = None
        if self.store is not None:
            await asyncio.to_thread(self.store.close)
