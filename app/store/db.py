"""The one SQLite database of Visage: its connection, its lock, its migrations and its transactions.

Every repository (``Conversations``, ``Drafts``, ``Voices``, ``Facts``, ``Outbox``) takes a ``Database``
and works through its two public doors:

- ``reading(doing)``: the lock held, SQLite errors turned into a ``StorageError`` that names ``doing``;
- ``writing(doing)``: the same, inside one transaction that is committed whole or not at all.

The connection is shared by the threads of the app (the voice pipeline writes from a worker) and
guarded by the lock, so there is one writer at a time for the whole database.

Write hooks (``set_write_hook``) let a layer above the store add rows to the transaction of a change
it does not own: sync registers one that queues a usage event with each saved message, so the event
lands in the same transaction without the conversation repository knowing about analytics.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol

from sqlite_utils import Database as Handle

from app.core import paths
from app.core.errors import StorageError
from app.store.failures import os_error, sqlite_error
from app.store.records import MessageSaved
from app.store.schema import migrate

logger = logging.getLogger(__name__)

#: How long a write waits for another process (a second Visage, the CLI) to release the database.
BUSY_TIMEOUT_MS = 5000

#: Called inside the transaction that saved the message; it may write with the handle it is given.
#: An exception it raises rolls the whole transaction back (the message is not saved either).
WriteHook = Callable[[Handle, MessageSaved], None]

__all__ = ["BUSY_TIMEOUT_MS", "Database", "Handle", "HasDatabase", "WriteHook", "now_iso"]


def now_iso() -> str:
    """The current time as ISO-8601 UTC with microseconds (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")

class Database:
    """One open Visage database file (created and migrated on open)."""

    def __init__(self, db_path: Path) -> None:
        self._path = Path(db_path).expanduser()
        self._lock = threading.RLock()
        self._closed = False
        self._hooks: dict[str, WriteHook] = {}
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(exc, self._path, "create the data folder") from exc
        if self._path.is_dir():
            raise StorageError(
                f"Could not open the history database: {self._path} is a folder.",
                hint="Choose another data folder with --data-dir or the VISAGE_DATA_DIR environment variable.",
            )
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(str(self._path), check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                logger.warning("SQLite refused WAL mode for %s (journal_mode=%s)", self._path, mode)
            conn.execute("PRAGMA synchronous = FULL")
            self._handle = Handle(conn, execute_plugins=False)
            migrate(self._handle)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise sqlite_error(exc, self._path, "open the history database") from exc
        except OSError as exc:
            if conn is not None:
                conn.close()
            raise os_error(exc, self._path, "open the history database") from exc
        logger.debug("database open at %s", self._path)

    @classmethod
    def open_default(cls, data_dir: Path | None = None) -> Database:
        """The database in ``data_dir`` (default: VISAGE_DATA_DIR, else the platform's user data folder)."""
        return cls(paths.database_file(paths.data_dir(data_dir)))

    @property
    def path(self) -> Path:
        return self._path

    # -- the two doors ----------------------------------------------------------------------------

    @contextmanager
    def reading(self, doing: str) -> Iterator[Handle]:
        """The handle, under the lock; ``doing`` ("read the draft") is what a failure message says."""
        with self._lock:
            self._check_open()
            try:
                yield self._handle
            except sqlite3.Error as exc:
                raise sqlite_error(exc, self._path, doing) from exc

    @contextmanager
    def writing(self, doing: str) -> Iterator[Handle]:
        """One transaction: all of it is committed, or (on any error) none of it."""
        with self._lock:
            self._check_open()
            try:
                with self._handle.atomic():
                    yield self._handle
            except sqlite3.Error as exc:
                raise sqlite_error(exc, self._path, doing) from exc

    # -- write hooks ------------------------------------------------------------------------------

    def set_write_hook(self, name: str, hook: WriteHook | None) -> None:
        """Register ``hook`` under ``name`` (replacing one of that name), or remove it with ``None``."""
        with self._lock:
            if hook is None:
                self._hooks.pop(name, None)
            else:
                self._hooks[name] = hook

    def message_saved(self, handle: Handle, saved: MessageSaved) -> None:
        """Run the write hooks for a message just saved; call it inside the ``writing`` block that saved it."""
        for hook in list(self._hooks.values()):
            hook(handle, saved)

    # -- lifetime ---------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(
                "The history store was closed.",
                hint="Open it again (Store.open_default) before using it; this is a bug in the caller.",
            )

    def close(self) -> None:
        """Close the database (safe to call twice). Everything was already committed."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._handle.close()
            except sqlite3.Error as exc:
                logger.warning("closing %s failed: %s", self._path, exc)

    def __enter__(self) -> Database:
        return self

    @property
    def database(self) -> Database:
        """Itself, so a ``Database`` serves wherever something holding one (``HasDatabase``) is asked for."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class HasDatabase(Protocol):
    """Anything that holds an open ``Database``: a ``Database`` itself, the ``Store`` façade, ``Conversations``."""

    @property
    def database(self) -> Database: ...
