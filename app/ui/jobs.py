"""Background jobs for panels: run blocking work off the UI thread, get the result back as a signal.

Three kinds, all answered on the UI thread through a :class:`Job`'s queued signals:

- :func:`request_job` hands a copy-studio request (:mod:`app.studio.requests`) to the core through
  ``bridge.ask``; its LLM steps queue on the LLM's own worker (``Session.run_llm``), its store steps
  on the session's I/O worker.
- :func:`thread_job` runs a plain function in a small thread pool; for work that needs no engine
  (reading analytics with its own SQLite connection, finding a face in a photo).
- :func:`worker_job` is a thread job whose function gets the :class:`Job`, to report progress and
  honour Cancel (rendering a video clip with its own voice and avatar).

A job never blocks the UI: the widget connects ``sig_done`` / ``sig_failed`` (and ``sig_progress``
for items a callback hands over while the job runs) and returns at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.core.errors import Cancelled, VisageError

log = logging.getLogger(__name__)

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="visage-ui-job")
_running: set[Job] = set()  # keeps each job alive until it has reported


class Job(QObject):
    sig_done = Signal(object)
    """The job's result."""
    sig_failed = Signal(str)
    """What went wrong, written for the user (a VisageError's message and fix)."""
    sig_cancelled = Signal()
    """The user cancelled the job."""
    sig_progress = Signal(object)
    """An item the job handed over while running (e.g. a copy variant as soon as it is ready)."""

    # Emitted from the worker thread; delivered (queued) to this object's slots on the UI thread, which
    # re-emit the public signals there: every connected callable, lambdas included, runs on the UI thread.
    _relay = Signal(str, object)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.cancel_event = threading.Event()
        self.future: Future[Any] | None = None
        self.finished = False
        self._relay.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def progress(self, item: Any) -> None:
        """Hand an item to the UI; safe from any thread."""
        if not self.cancel_event.is_set():
            self._relay.emit("progress", item)

    def cancel(self) -> None:
        self.cancel_event.set()

    def _watch(self, future: Future[Any]) -> Job:
        self.future = future
        _running.add(self)
        future.add_done_callback(self._finish)
        return self

    def _finish(self, future: Future[Any]) -> None:  # any thread
        if future.cancelled():
            self._relay.emit("cancelled", None)
            return
        err = future.exception()
        if err is None:
            self._relay.emit("done", future.result())
        elif isinstance(err, Cancelled) or self.cancel_event.is_set():
            self._relay.emit("cancelled", None)
        elif isinstance(err, VisageError):
            self._relay.emit("failed", str(err))
        else:
            log.error("background job %s failed", self.name, exc_info=err)
            self._relay.emit("failed", f"{self.name} failed unexpectedly: {err}")

    @Slot(str, object)
    def _deliver(self, kind: str, payload: Any) -> None:  # the UI thread
        if kind == "progress":
            if not self.finished:
                self.sig_progress.emit(payload)
            return
        self.finished = True
        _running.discard(self)
        if kind == "done":
            self.sig_done.emit(payload)
        elif kind == "failed":
            self.sig_failed.emit(payload)
        else:
            self.sig_cancelled.emit()


Callback = Callable[..., Any] | None


def _connect(job: Job, on_done: Callback, on_failed: Callback, on_progress: Callback, on_cancelled: Callback) -> None:
    # connected before the work starts, so a job that finishes at once still reports
    for signal, slot in ((job.sig_done, on_done), (job.sig_failed, on_failed), (job.sig_progress, on_progress),
                         (job.sig_cancelled, on_cancelled)):
        if slot is not None:
            signal.connect(slot)


def request_job(bridge: Any, name: str, request: Any, *, on_done: Callback = None, on_failed: Callback = None,
                on_progress: Callback = None, on_cancelled: Callback = None) -> Job:
    """Ask the core ``request`` (``bridge.ask``); the job's Cancel reaches the request's model calls."""
    job = Job(name)
    _connect(job, on_done, on_failed, on_progress, on_cancelled)
    return job._watch(bridge.ask(request, cancel=job.cancel_event, progress=job.progress))


def thread_job(name: str, fn: Callable[..., Any], *args: Any, on_done: Callback = None, on_failed: Callback = None,
               on_cancelled: Callback = None) -> Job:
    """Run ``fn(*args)`` in a background thread."""
    job = Job(name)
    _connect(job, on_done, on_failed, None, on_cancelled)
    return job._watch(_pool.submit(fn, *args))


def worker_job(name: str, fn: Callable[[Job], Any], *, on_done: Callback = None, on_failed: Callback = None,
               on_progress: Callback = None, on_cancelled: Callback = None) -> Job:
    """Run ``fn(job)`` in a background thread: long work that reports (``job.progress``) and stops when
    ``job.cancel_event`` is set (raising :class:`Cancelled`), e.g. rendering a video clip."""
    job = Job(name)
    _connect(job, on_done, on_failed, on_progress, on_cancelled)
    return job._watch(_pool.submit(fn, job))


def cancel_all() -> None:
    """Ask every running job to stop (the window is closing)."""
    for job in list(_running):
        job.cancel()
