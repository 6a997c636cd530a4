"""``Store``: the database and its conversation repository in one object, for the callers that open a path.

A compatibility surface, kept thin on purpose: ``Store(path)`` was the one entry point for years and is
called (``add_message``, ``search``, ``list_conversations`` ...) from the CLI, the session, the UI, the
benchmarks and most tests. It opens a :class:`~app.store.db.Database` and *is* that database's
:class:`~app.store.history.Conversations`; every other repository is built from ``store.database``
(``Drafts(store.database)``). New code that only needs one repository should take that repository.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from app.core import paths
from app.store.db import Database
from app.store.history import Conversations
from app.store.outbox import Outbox


class Store(Conversations):
    """An open Visage database (created and migrated on open) as its conversation history."""

    def __init__(self, db_path: Path) -> None:
        super().__init__(Database(db_path))

    @classmethod
    def open_default(cls, data_dir: Path | None = None) -> Store:
        """The store in ``data_dir`` (default: VISAGE_DATA_DIR, else the platform's user data folder)."""
        return cls(paths.database_file(paths.data_dir(data_dir)))

    @property
    def path(self) -> Path:
        return self.database.path

    @property
    def outbox(self) -> Outbox:
        """The sync outbox in this database (``app.store.outbox``)."""
        return Outbox(self.database)

    def close(self) -> None:
        """Close the database (safe to call twice). Everything was already committed."""
        self.database.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
