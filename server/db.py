"""Database connections for the server: SQLite (one process, one connection behind a lock) or PostgreSQL
(a psycopg_pool connection pool shared by the process's threads).

``Database.tx()`` yields a cursor inside one transaction that takes ``?`` placeholders on both backends.
Any driver error becomes :class:`StorageUnavailable` (the API answers 503 + Retry-After); a connection
broken by a PostgreSQL restart is checked and replaced by the pool before it is handed out again.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class StorageUnavailable(Exception):
    """The database cannot be reached or refused the operation (retry later)."""


def backend_of(url: str) -> str:
    if url.startswith("sqlite:"):
        return "sqlite"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql"
    raise ValueError(f"Unsupported DATABASE_URL {url.split(':', 1)[0]}:…; use sqlite:///PATH or postgresql://…")


def sqlite_path(url: str) -> str:
    """``sqlite:///rel/path``, ``sqlite:////abs/path`` or ``sqlite://`` (in memory)."""
    if url.startswith("sqlite:////"):
        return "/" + url.removeprefix("sqlite:////")
    return url.removeprefix("sqlite:").removeprefix("//").removeprefix("/") or ":memory:"


class Cursor:
    """A DB-API cursor that takes ``?`` placeholders on both backends."""

    def __init__(self, cur: Any, postgres: bool) -> None:
        self._cur = cur
        self._pg = postgres

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Cursor:
        self._cur.execute(statement.replace("?", "%s") if self._pg else statement, list(params))
        return self

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


class Database:
    """One database, either backend. ``pool_size`` bounds PostgreSQL connections of this process; a request
    waits at most ``connect_timeout_s`` for one (then :class:`StorageUnavailable`: 503)."""

    def __init__(self, url: str, *, pool_size: int = 8, connect_timeout_s: float = 3.0) -> None:
        self.backend = backend_of(url)
        self._url = url
        self._lock = threading.RLock()
        self._conn: Any = None
        self._pool: Any = None
        if self.backend == "sqlite":
            self._path = sqlite_path(url)
            self._open_sqlite()
        else:
            from psycopg_pool import ConnectionPool

            # reconnect_timeout: the pool's own retries back off exponentially; stop them soon, so that once the
            # database is back the next request starts a fresh (immediate) attempt instead of waiting out a backoff
            self._pool = ConnectionPool(
                url, min_size=1, max_size=pool_size, open=False, timeout=connect_timeout_s,
                reconnect_timeout=2.0, kwargs={"autocommit": True, "connect_timeout": 5},
                check=ConnectionPool.check_connection, name="visage-server",
            )
            self._pool.open(wait=False)

    @property
    def postgres(self) -> bool:
        return self.backend == "postgresql"

    def _open_sqlite(self) -> None:
        try:
            if self._path != ":memory:":
                Path(self._path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self._path, check_same_thread=False, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._conn = conn
        except (sqlite3.Error, OSError) as exc:
            raise StorageUnavailable(f"cannot open the sqlite database: {exc}") from exc

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A raw driver connection (autocommit), for advisory locks and LISTEN."""
        if not self.postgres:
            with self._lock:
                yield self._conn
            return
        try:
            with self._pool.connection() as conn:
                yield conn
        except Exception as exc:
            if _is_db_error(exc):
                raise StorageUnavailable(f"postgresql: {exc}") from exc
            raise

    @contextmanager
    def tx(self) -> Iterator[Cursor]:
        """A cursor inside one transaction (committed on success, rolled back on any error)."""
        try:
            if self.postgres:
                with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                    yield Cursor(cur, True)
            else:
                with self._lock:
                    cur = self._conn.cursor()
                    try:
                        cur.execute("BEGIN IMMEDIATE")
                        yield Cursor(cur, False)
                        cur.execute("COMMIT")
                    except BaseException:
                        cur.execute("ROLLBACK")
                        raise
                    finally:
                        cur.close()
        except Exception as exc:
            if _is_db_error(exc):
                raise StorageUnavailable(f"{self.backend}: {exc}") from exc
            raise

    def ping(self) -> bool:
        try:
            with self.tx() as cur:
                cur.execute("SELECT 1").fetchone()
            return True
        except StorageUnavailable:
            return False

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def wait_for_database(url: str, *, wait_s: float = 0.0, first_delay_s: float = 0.5, max_delay_s: float = 10.0,
                      sleep: Any = time.sleep) -> None:
    """Returns once the database answers; meanwhile logs one line per attempt and backs off (never crash-loops).

    ``wait_s`` = 0 retries for ever; otherwise :class:`StorageUnavailable` after that many seconds.
    """
    if backend_of(url) == "sqlite":
        return
    import psycopg

    started = time.monotonic()
    delay = first_delay_s
    attempt = 0
    while True:
        attempt += 1
        try:
            with psycopg.connect(url, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
            if attempt > 1:
                log.info("database reachable after %d attempts", attempt)
            return
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if wait_s and time.monotonic() - started + delay > wait_s:
                raise StorageUnavailable(f"the database is still unreachable after {wait_s:.0f} s: {reason}") from exc
            log.warning("database unreachable (%s); retrying in %.1f s (attempt %d)", reason, delay, attempt)
            sleep(delay)
            delay = min(max_delay_s, delay * 2)


def _is_db_error(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return True
    try:
        import psycopg
        from psycopg_pool import PoolTimeout
    except ImportError:  # pragma: no cover - psycopg is installed with the server extra
        return False
    return isinstance(exc, psycopg.Error | PoolTimeout)
