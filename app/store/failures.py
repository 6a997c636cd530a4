"""Translate sqlite3 / OS failures into a StorageError that tells the user what to do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.core.errors import StorageError

ELSEWHERE = "or choose another data folder with --data-dir or the VISAGE_DATA_DIR environment variable"


def os_error(exc: OSError, path: Path, doing: str) -> StorageError:
    """The data folder itself cannot be made or used (a file in the way, no permission, disk full)."""
    reason = exc.strerror or str(exc)
    return StorageError(
        f"Could not {doing}: {reason} ({path}).",
        hint=f"Make sure {path.parent} is a folder you can write to and that the disk has free space, {ELSEWHERE}.",
    )


def sqlite_error(exc: sqlite3.Error, path: Path, doing: str) -> StorageError:
    """A StorageError for a failure of SQLite while doing ``doing`` (e.g. "save the message")."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc).lower()
    if primary == sqlite3.SQLITE_FULL or "disk is full" in text:
        return StorageError(
            f"Could not {doing}: the disk holding {path} is full (nothing was saved).",
            hint=f"Free some disk space, {ELSEWHERE}.",
        )
    if primary in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT) or "not a database" in text:
        return StorageError(
            f"Could not {doing}: {path} is not a readable Visage database (damaged, or not SQLite).",
            hint=(
                f"Move {path.name} out of {path.parent} (Visage then starts a new, empty history) or "
                f"restore it from a backup, {ELSEWHERE}."
            ),
        )
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_IOERR):
        return StorageError(
            f"Could not {doing}: {path} cannot be written ({exc}).",
            hint=f"Make sure {path.parent} exists, is writable and has free space, {ELSEWHERE}.",
        )
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StorageError(
            f"Could not {doing}: another program is holding {path} locked.",
            hint="Close other Visage windows or tools using the database, then try again.",
        )
    return StorageError(
        f"Could not {doing}: SQLite reported '{exc}' for {path}.",
        hint=f"Check that the disk is healthy and has free space, {ELSEWHERE}.",
    )
