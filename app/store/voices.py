"""Saved brand voices (copy studio), in the history database, searchable by name and content.

``Voices(database)`` shares the ``Database``'s connection and lock. A voice is saved as JSON (the
studio's ``BrandVoice`` model dumps it) plus ``search_text`` for full-text search. Names are unique
without regard to case.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from app.core.errors import ConfigError, NotFoundError
from app.store.db import Database, HasDatabase, now_iso
from app.store.fts import fts_query


@dataclass(frozen=True)
class StoredVoice:
    id: int
    name: str
    data: dict[str, Any]
    created_at: str
    updated_at: str


class Voices:
    def __init__(self, database: HasDatabase) -> None:
        self._database: Database = database.database

    def save(self, name: str, data: dict[str, Any], *, search_text: str = "", replace: bool = False) -> int:
        """Save a voice; an existing one of the same name is refused unless ``replace``."""
        clean = " ".join(str(name).split())
        if not clean:
            raise ConfigError("A brand voice needs a name.", hint="Give it the brand's name.")
        payload = json.dumps(data, ensure_ascii=False, sort_keys=True)
        stamp = now_iso()
        with self._database.writing("save the brand voice") as db:
            row = db.execute("SELECT id FROM brand_voices WHERE name = ?", [clean]).fetchone()
            if row is not None and not replace:
                raise ConfigError(f"A brand voice named {clean!r} already exists.",
                                  hint="Use another name, or --replace to overwrite it.")
            if row is not None:
                db.execute("UPDATE brand_voices SET name = ?, search_text = ?, data = ?, updated_at = ? WHERE id = ?",
                           [clean, search_text, payload, stamp, row[0]])
                return int(row[0])
            try:
                cur = db.execute(
                    "INSERT INTO brand_voices (name, search_text, data, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?)", [clean, search_text, payload, stamp, stamp])
            except sqlite3.IntegrityError as err:  # a second writer got there first
                raise ConfigError(f"A brand voice named {clean!r} already exists.",
                                  hint="Use another name, or --replace to overwrite it.") from err
            return int(cur.lastrowid or 0)

    def get(self, name: str) -> StoredVoice:
        with self._database.reading("read the brand voice") as db:
            row = db.execute("SELECT id, name, data, created_at, updated_at FROM brand_voices WHERE name = ?",
                             [" ".join(str(name).split())]).fetchone()
        if row is None:
            raise NotFoundError(f"There is no brand voice named {name!r}.",
                                hint="`visage voice list` shows the saved voices; `visage voice add` makes one.")
        return StoredVoice(id=row[0], name=row[1], data=json.loads(row[2]), created_at=row[3], updated_at=row[4])

    def list(self) -> list[StoredVoice]:
        with self._database.reading("list the brand voices") as db:
            rows = db.execute("SELECT id, name, data, created_at, updated_at FROM brand_voices"
                              " ORDER BY name COLLATE NOCASE").fetchall()
        return [StoredVoice(id=r[0], name=r[1], data=json.loads(r[2]), created_at=r[3], updated_at=r[4])
                for r in rows]

    def delete(self, name: str) -> None:
        with self._database.writing("delete the brand voice") as db:
            cur = db.execute("DELETE FROM brand_voices WHERE name = ?", [" ".join(str(name).split())])
            if cur.rowcount == 0:
                raise NotFoundError(f"There is no brand voice named {name!r}.",
                                    hint="`visage voice list` shows the saved voices.")

    def search(self, query: str, limit: int = 20) -> list[StoredVoice]:
        match = fts_query(query)
        if match is None or limit <= 0:
            return []
        with self._database.reading("search the brand voices") as db:
            rows = db.execute(
                "SELECT v.id, v.name, v.data, v.created_at, v.updated_at FROM brand_voices_fts"
                " JOIN brand_voices v ON v.id = brand_voices_fts.rowid WHERE brand_voices_fts MATCH ?"
                " ORDER BY brand_voices_fts.rank LIMIT ?", [match, limit]).fetchall()
        return [StoredVoice(id=r[0], name=r[1], data=json.loads(r[2]), created_at=r[3], updated_at=r[4])
                for r in rows]


#: The old name (it took the ``Store``; a ``Store`` still works, as does a ``Database``). Kept while the studio,
#: session and UI callers move to ``Voices`` (issue 12 parts 1-3); no new code should use it.
VoiceStore = Voices
