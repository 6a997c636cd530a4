"""``python -m server generate-worker``: a process that holds the LLM and writes queued briefs.

It checks in every few seconds (``/health`` counts live workers), takes one job at a time from the
queue, renews its lease while the model works, and stores the variants (or the error) for the API
worker that waits for them. Stopping it (SIGTERM / Ctrl-C) finishes the job in hand first.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from server.db import StorageUnavailable
from server.generation import GenerationError, LLMFactory, run_studio
from server.jobs import WORKER_SILENCE_S, Job, JobQueue

log = logging.getLogger(__name__)

#: idle poll interval when the queue is empty
IDLE_S = 0.1
#: how often a worker prunes old jobs and expired keys
PRUNE_EVERY_S = 300.0


class GenerationWorker:
    def __init__(self, queue: JobQueue, llm_factory: LLMFactory, *, name: str, model_name: str) -> None:
        self.queue = queue
        self.factory = llm_factory
        self.name = name
        self.model_name = model_name
        self._current: int | None = None
        self._lock = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        started = time.perf_counter()
        llm = self.factory()
        log.info("generation worker %s: %s loaded in %.1f s", self.name, self.model_name, time.perf_counter() - started)
        self.queue.check_in(self.name, self.model_name)
        beat = threading.Thread(target=self._heartbeat, args=(stop,), name="lease-renewal", daemon=True)
        beat.start()
        try:
            while not stop.is_set():
                try:
                    job = self.queue.claim(self.name)
                except StorageUnavailable as err:
                    log.warning("cannot reach the job queue (%s); retrying in 1 s", err)
                    stop.wait(1.0)
                    continue
                if job is None:
                    stop.wait(IDLE_S)
                    continue
                try:
                    self._work(llm, job)
                except StorageUnavailable as err:  # the result could not be stored: the lease runs out, it is redone
                    log.warning("job %d: cannot store its result (%s); another worker will take it again", job.id, err)
        finally:
            self.queue.leave(self.name)
            log.info("generation worker %s stopped", self.name)

    def _work(self, llm: Any, job: Job) -> None:
        with self._lock:
            self._current = job.id
        started = time.perf_counter()
        try:
            try:
                result = run_studio(llm, job.payload)
            except GenerationError as err:
                self.queue.finish(job.id, self.name, error=err.as_dict())
                return
            except Exception as exc:  # the model crashed on this brief: say so, keep serving
                log.exception("job %d failed", job.id)
                self.queue.finish(job.id, self.name, error=GenerationError(
                    503, "generation_unavailable", f"The model failed on this brief ({type(exc).__name__}).",
                    "Retry; if it keeps failing the operator should check the generate-worker logs.", "30").as_dict())
                return
            self.queue.finish(job.id, self.name, result=result)
            log.info("job %d written in %.1f s", job.id, time.perf_counter() - started)
        finally:
            with self._lock:
                self._current = None

    def _heartbeat(self, stop: threading.Event) -> None:
        interval = max(0.2, min(self.queue.lease_s, WORKER_SILENCE_S) / 3)
        pruned = time.monotonic()
        while not stop.wait(interval):
            try:
                self.queue.check_in(self.name, self.model_name)
                if time.monotonic() - pruned > PRUNE_EVERY_S:
                    pruned = time.monotonic()
                    log.info("housekeeping: %d finished jobs deleted", self.queue.prune())
                with self._lock:
                    current = self._current
                if current is not None and not self.queue.renew(current, self.name):
                    log.warning("lost the lease on job %d", current)
            except Exception:
                log.warning("check-in failed (database unreachable?); retrying", exc_info=True)
