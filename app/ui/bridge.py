"""The one object between the Qt thread and the core: signals in, commands out.

``CoreBridge`` owns the core thread (:class:`~app.core.runner.CoreRunner`) and the Qt-free
:class:`~app.session.session.Session` that runs on it. Widgets call :meth:`CoreBridge.send` with a command
from :mod:`app.ui.commands`; it returns at once. The copy studio asks with a request from
:mod:`app.studio.requests` (:meth:`CoreBridge.ask`, answered through a future that
:func:`app.ui.jobs.request_job` turns into signals); the studio's work runs in
:class:`~app.studio.queued.QueuedStudio` on the session's workers, never on the Qt thread and never
through a store the UI holds. The session reports back through ``sig_*`` signals,
emitted on the core thread and delivered to the widgets on the UI thread (queued connections), so no
engine or database call ever runs on the UI thread. The bridge is the session's
:class:`~app.core.reports.SessionListener`: one typed method per report, each emitting its signal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, wait
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.core.config import Settings
from app.core.events import TurnFinished
from app.core.reports import Report, deliver
from app.core.runner import CoreRunner
from app.session.audio import AudioBackend
from app.session.engine_host import EngineLoader, load_engines
from app.session.session import Session
from app.studio.queued import QueuedStudio
from app.studio.requests import StudioRequest
from app.ui import commands as cmd
from engines.base import AudioChunk

log = logging.getLogger(__name__)


class CoreBridge(QObject):
    sig_state = Signal(str)
    """Visible state: loading / idle / listening / transcribing / thinking / speaking."""
    sig_models = Signal(int, int, str)
    """Model loading progress: (done, total, what is loading)."""
    sig_ready = Signal(str)
    """The models are loaded and warmed up; a one-line summary of the engines."""
    sig_failed = Signal(str)
    """The models could not be loaded: what is missing and the fix."""
    sig_audio = Signal(bool, str)
    """Voice on (True) or off (False) and why."""
    sig_transcript = Signal(str, str)
    """(turn_id, text): what the user said."""
    sig_saved = Signal(str, int)
    """(turn_id, message_id): the user's message of a turn is stored (regenerate/edit need its id)."""
    sig_token = Signal(str, str)
    """(turn_id, text): the next piece of the reply."""
    sig_chunk = Signal(object, float)
    """(AudioChunk, offset_s): speech queued on the speaker clock (drives the avatar's mouth)."""
    sig_finished = Signal(object)
    """TurnFinished: the reply as heard, interrupted or not, and the per-stage timings."""
    sig_notice = Signal(str, str)
    """(level, message): a fallback or problem the user must see."""
    sig_conversations = Signal(object)
    """list[ConversationSummary], pinned first."""
    sig_conversation = Signal(object)
    """Conversation opened (or None: a new, empty one)."""
    sig_search = Signal(str, object)
    """(query, list[SearchHit])."""
    sig_deleted = Signal(int, str)
    """(conversation_id, title): deleted, can be undone."""
    sig_hands_free = Signal(bool)
    """Hands-free listening stopped by the core (the source ended or failed)."""
    sig_error = Signal(str)
    """Something failed; the message says what to do."""
    sig_sync = Signal(bool, object)
    """(sync enabled, app.sync.SyncStatus or None when no sender runs): for the status-bar indicator."""

    def __init__(
        self,
        settings: Settings,
        data_dir: Path,
        *,
        audio: AudioBackend | None = None,
        loader: EngineLoader = load_engines,
        config_path: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.runner = CoreRunner()
        self.session = Session(settings, data_dir, self._notify, audio=audio, loader=loader, config_path=config_path)
        from app.api.window import WindowApi

        self.api = WindowApi(self.session)  # the local API (Settings › Local API), over the session's engines
        self.studio = QueuedStudio(self.session)
        self._closed = False
        self._pending: set[Future[Any]] = set()
        self._calls: set[Future[Any]] = set()  # studio requests (bridge.ask): cancelled, not awaited, on close

    # ---- core -> Qt: the SessionListener, called on the core thread; each signal is queued to the UI ----
    def _notify(self, name: Report, payload: Any) -> None:
        if not self._closed:
            deliver(self, name, payload)

    def on_state(self, state: str) -> None:
        self.sig_state.emit(state)

    def on_models(self, done: int, total: int, what: str) -> None:
        self.sig_models.emit(done, total, what)

    def on_ready(self, summary: str) -> None:
        self.sig_ready.emit(summary)

    def on_failed(self, message: str) -> None:
        self.sig_failed.emit(message)

    def on_audio(self, ok: bool, message: str) -> None:
        self.sig_audio.emit(ok, message)

    def on_transcript(self, turn_id: str, text: str) -> None:
        self.sig_transcript.emit(turn_id, text)

    def on_saved(self, turn_id: str, message_id: int) -> None:
        self.sig_saved.emit(turn_id, message_id)

    def on_token(self, turn_id: str, text: str) -> None:
        self.sig_token.emit(turn_id, text)

    def on_chunk(self, chunk: AudioChunk, offset_s: float) -> None:
        self.sig_chunk.emit(chunk, offset_s)

    def on_finished(self, event: TurnFinished) -> None:
        self.sig_finished.emit(event)

    def on_notice(self, level: str, message: str) -> None:
        self.sig_notice.emit(level, message)

    def on_conversations(self, conversations: Any) -> None:
        self.sig_conversations.emit(conversations)

    def on_conversation(self, conversation: Any) -> None:
        self.sig_conversation.emit(conversation)

    def on_search(self, query: str, hits: Any) -> None:
        self.sig_search.emit(query, hits)

    def on_deleted(self, conversation_id: int, title: str) -> None:
        self.sig_deleted.emit(conversation_id, title)

    def on_hands_free(self, on: bool) -> None:
        self.sig_hands_free.emit(on)

    def on_error(self, message: str) -> None:
        self.sig_error.emit(message)

    def on_sync(self, enabled: bool, status: Any) -> None:
        self.sig_sync.emit(enabled, status)

    # ---- Qt -> core ----
    def start(self) -> None:
        self._submit(self.session.start())
        self._submit(self.api.apply(self.settings.api))

    def send(self, command: cmd.Command) -> None:
        """Hand a command to the core; returns at once."""
        s = self.session
        match command:
            case cmd.SendText(text=text):
                self._submit(s.send_text(text))
            case cmd.PressTalk():
                self._submit(s.press_talk())
            case cmd.ReleaseTalk():
                self._submit(s.release_talk())
            case cmd.SetHandsFree(on=on):
                self._submit(s.set_hands_free(on))
            case cmd.Stop():
                self.runner.call_soon(s.interrupt)
            case cmd.NewConversation():
                self._submit(s.new_conversation())
            case cmd.OpenConversation(conversation_id=cid):
                self._submit(s.open_conversation(cid))
            case cmd.RenameConversation(conversation_id=cid, title=title):
                self._submit(s.rename(cid, title))
            case cmd.PinConversation(conversation_id=cid, pinned=pinned):
                self._submit(s.pin(cid, pinned))
            case cmd.DeleteConversation(conversation_id=cid):
                self._submit(s.delete(cid))
            case cmd.RestoreConversation(conversation_id=cid):
                self._submit(s.restore(cid))
            case cmd.Search(query=query):
                self._submit(s.search(query))
            case cmd.Resend(context=context, text=text, supersede_from=supersede_from):
                self._submit(s.resend(context, text, supersede_from=supersede_from))
            case cmd.ReadAloud(text=text):
                self._submit(s.read_aloud(text))
            case cmd.ApplySettings(settings=settings):
                self.settings = settings
                self._submit(s.apply_settings(settings))
                self._submit(self.api.apply(settings.api))
            case _:
                raise TypeError(f"unknown command {command!r}")

    def ask(self, request: StudioRequest, *, cancel: threading.Event | None = None,
            progress: Callable[[Any], None] | None = None) -> Future[Any]:
        """Hand a copy-studio request to the core; the future holds its answer (or its error: not shown as
        ``sig_error``, the asking panel shows it). ``cancel`` stops a generation or rewrite at its next token;
        ``progress`` gets each candidate variant, on the LLM's worker thread."""
        future = self.runner.submit(self.studio.handle(request, cancel=cancel, progress=progress))
        self._calls.add(future)
        future.add_done_callback(self._calls.discard)
        return future

    def _submit(self, coro: Any) -> Future[Any]:
        future = self.runner.submit(coro)
        self._pending.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        self._pending.discard(future)
        if future.cancelled():
            return
        err = future.exception()
        if err is not None:
            log.error("core command failed", exc_info=err)
            self._notify("error", str(err))

    # ---- cheap reads for the UI thread (locks only, no engine) ----
    def audible_time(self) -> float:
        """The speaker clock: seconds of speech the user has heard (the avatar's master clock)."""
        sink = self.session.sink
        return sink.audible_time() if sink is not None else 0.0

    @property
    def data_dir(self) -> Path:
        """The data folder (history, avatars, clips)."""
        return Path(self.session.data_dir)

    @property
    def voice_ok(self) -> bool:
        return self.session.voice_ok

    def close(self) -> None:
        if self._closed:
            return
        from app.ui.jobs import cancel_all

        cancel_all()  # a copy-studio generation stops at its next token
        for future in list(self._calls):
            future.cancel()
        try:
            self.runner.submit(self.api.close()).result(timeout=10)
        except Exception:
            log.warning("stopping the local API failed", exc_info=True)
        try:
            self.runner.submit(self.session.close()).result(timeout=10)
        except Exception:
            log.warning("closing the session failed", exc_info=True)
        # the running turn was interrupted: let it store what was heard, then give up on the rest
        _done, late = wait(list(self._pending), timeout=5)
        for future in late:
            future.cancel()  # e.g. a model reload still running when the window closes
        self._closed = True
        self.runner.stop()
