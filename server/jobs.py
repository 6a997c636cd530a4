"""The PostgreSQL generation job queue between API workers and ``generate-worker`` processes.

An API worker inserts a job and polls for its result. A generation worker claims the oldest open job
with ``FOR UPDATE SKIP LOCKED`` (two workers never take the same one) and holds a lease on it, renewed
while it works; a job whose lease ran out (its worker was killed) is claimed again by another worker.
Only the worker that holds the job may store its result (``WHERE worker = me``), so a job is answered
once even when a worker that lost its lease finishes late. After :data:`MAX_ATTEMPTS` lost leases the
job fails with a message instead of being retried for ever.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from server.db import Database

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
#: finished jobs are deleted after this long (their results live on in the cache and idempotency keys)
KEEP_FINISHED_S = 86_400.0
#: a generation worker that has not checked in for this long is not counted as live
WORKER_SILENCE_S = 15.0


@dataclass(frozen=True)
class Job:
    id: int
    payload: dict[str, Any]
    attempts: int


class JobFailed(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", "generation failed"))
        self.error = error


class JobTimeout(Exception):
    """No result within the wait; the job is abandoned if no worker has started it."""


_CLAIM = """
UPDATE generation_jobs SET status = 'running', attempts = attempts + 1, worker = %(worker)s,
       lease_until = now() + make_interval(secs => %(lease)s)
WHERE id = (
    SELECT id FROM generation_jobs
    WHERE status = 'queued' OR (status = 'running' AND lease_until < now() AND attempts < %(max)s)
    ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
RETURNING id, payload, attempts
"""
_GIVE_UP = """
UPDATE generation_jobs SET status = 'failed', finished_at = now(), error = %(error)s
WHERE status = 'running' AND lease_until < now() AND attempts >= %(max)s
"""


class JobQueue:
    def __init__(self, db: Database, *, lease_s: float) -> None:
        self.db = db
        self.lease_s = lease_s

    # -- the API side -------------------------------------------------------------------------------

    def submit(self, payload: dict[str, Any]) -> int:
        with self.db.connection() as conn:
            return int(conn.execute("INSERT INTO generation_jobs (payload) VALUES (%s) RETURNING id",
                                    [Jsonb(payload)]).fetchone()[0])

    def wait(self, job_id: int, timeout_s: float) -> Any:
        """The job's result; :class:`JobFailed` with the worker's error, :class:`JobTimeout` after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        delay = 0.02
        while True:
            with self.db.connection() as conn:
                status, result, error = conn.execute(
                    "SELECT status, result, error FROM generation_jobs WHERE id = %s", [job_id]).fetchone()
                if status == "done":
                    return result
                if status == "failed":
                    raise JobFailed(error or {})
                if time.monotonic() >= deadline:
                    conn.execute("UPDATE generation_jobs SET status = 'abandoned', finished_at = now()"
                                 " WHERE id = %s AND status = 'queued'", [job_id])
                    raise JobTimeout
            time.sleep(delay)
            delay = min(0.2, delay * 1.5)

    def waiting(self) -> int:
        """Jobs not yet taken by a worker."""
        with self.db.connection() as conn:
            return int(conn.execute("SELECT count(*) FROM generation_jobs WHERE status = 'queued'").fetchone()[0])

    def live_workers(self) -> int:
        with self.db.connection() as conn:
            return int(conn.execute("SELECT count(*) FROM generation_workers"
                                    " WHERE seen_at > now() - make_interval(secs => %s)",
                                    [WORKER_SILENCE_S]).fetchone()[0])

    # -- the generation worker's side ---------------------------------------------------------------

    def claim(self, worker: str) -> Job | None:
        with self.db.connection() as conn:
            conn.execute(_GIVE_UP, {"max": MAX_ATTEMPTS, "error": Jsonb({
                "code": "generation_unavailable", "status": 503,
                "message": f"The generation workers stopped {MAX_ATTEMPTS} times while writing this brief.",
                "hint": "Retry later; the operator should check the generate-worker logs."})})
            row = conn.execute(_CLAIM, {"worker": worker, "lease": self.lease_s, "max": MAX_ATTEMPTS}).fetchone()
        if row is None:
            return None
        if row[2] > 1:
            log.warning("job %d taken again (attempt %d): its previous worker's lease ran out", row[0], row[2])
        return Job(int(row[0]), row[1], int(row[2]))

    def renew(self, job_id: int, worker: str) -> bool:
        with self.db.connection() as conn:
            return bool(conn.execute(
                "UPDATE generation_jobs SET lease_until = now() + make_interval(secs => %s)"
                " WHERE id = %s AND worker = %s AND status = 'running'", [self.lease_s, job_id, worker]).rowcount)

    def finish(self, job_id: int, worker: str, *, result: Any = None, error: dict[str, Any] | None = None) -> bool:
        """Stores the result (or error) if ``worker`` still holds the job; False when it lost it."""
        with self.db.connection() as conn:
            done = conn.execute(
                "UPDATE generation_jobs SET status = %s, result = %s, error = %s, finished_at = now()"
                " WHERE id = %s AND worker = %s AND status = 'running'",
                ["failed" if error else "done", None if error else Jsonb(result),
                 Jsonb(error) if error else None, job_id, worker]).rowcount
        if not done:
            log.warning("job %d was taken over by another worker; dropping this worker's late result", job_id)
        return bool(done)

    def prune(self) -> int:
        """Deletes jobs finished more than :data:`KEEP_FINISHED_S` ago, and expired idempotency keys and cache
        entries (housekeeping of the shared tables, done by the generation workers now and then)."""
        with self.db.connection() as conn:
            gone = conn.execute("DELETE FROM generation_jobs WHERE finished_at < now() - make_interval(secs => %s)",
                                [KEEP_FINISHED_S]).rowcount
            conn.execute("DELETE FROM idempotency_keys WHERE expires_at <= now()")
            conn.execute("DELETE FROM response_cache WHERE expires_at <= now()")
        return gone

    def check_in(self, worker: str, model: str) -> None:
        with self.db.connection() as conn:
            conn.execute("INSERT INTO generation_workers (name, model) VALUES (%s, %s)"
                         " ON CONFLICT (name) DO UPDATE SET model = excluded.model, seen_at = now()",
                         [worker, model])

    def leave(self, worker: str) -> None:
        with self.db.connection() as conn:
            conn.execute("DELETE FROM generation_workers WHERE name = %s", [worker])
