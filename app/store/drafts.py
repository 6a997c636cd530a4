"""Copy-studio drafts, their versions, and the briefs they came from.

``Drafts(database)`` shares the ``Database``'s connection and lock (one writer for the whole database).
Each write is one committed transaction.
A draft's current text is the text of its newest version; every edit or rewrite adds a version,
so history is never overwritten. Fields and analyses are kept as JSON text: the studio layer
(``app.studio``) turns them back into its models.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.core.errors import ConfigError, NotFoundError
from app.store.db import Database, HasDatabase, now_iso
from app.store.fts import fts_query

_SNIPPET_TOKENS = 16
MARK_START, MARK_END = "\x02", "\x03"
"""Around the matched words in :attr:`DraftHit.title_marked` and :attr:`DraftHit.text_snippet`
(unlike ``[ ]``, never part of a draft's own text)."""


@dataclass(frozen=True)
class DraftVersion:
    number: int
    source: str
    fields: dict[str, Any]
    text: str
    analysis: dict[str, Any]
    score: float | None
    passes: bool | None
    created_at: str


@dataclass(frozen=True)
class StoredDraft:
    """A draft with all its versions (oldest first); ``text`` is the newest version's."""

    id: int
    type: str
    title: str
    project: str | None
    voice: str | None
    text: str
    favourite: bool
    brief_id: int | None
    created_at: str
    updated_at: str
    versions: list[DraftVersion] = field(default_factory=list)

    @property
    def current(self) -> DraftVersion:
        return self.versions[-1]


@dataclass(frozen=True)
class DraftSummary:
    """One line of a drafts list: no versions loaded (cheap to list hundreds)."""

    id: int
    type: str
    title: str
    favourite: bool
    #: the start of the current text (200 characters at most)
    text: str
    versions: int
    passes: bool | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class DraftHit:
    """A search hit; ``snippet`` is from the best-matching column, matches in ``[brackets]``."""

    draft_id: int
    title: str
    type: str
    snippet: str
    favourite: bool
    updated_at: str
    #: the whole title, matches between MARK_START and MARK_END (control characters no text holds)
    title_marked: str = ""
    #: a stretch of the current text, marked the same way (its start when only the title matched)
    text_snippet: str = ""


@dataclass(frozen=True)
class StoredBrief:
    id: int
    type: str
    product: str
    data: dict[str, Any]
    created_at: str


def _json(value: Any, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"The draft's {what} cannot be saved as JSON ({err}).",
                          hint="Pass plain strings, numbers, lists and dicts.") from err


class Drafts:
    """Drafts, versions and briefs in the history database."""

    def __init__(self, database: HasDatabase) -> None:
        self._database: Database = database.database

    # -- briefs -----------------------------------------------------------------------------------

    def save_brief(self, type_: str, product: str, data: dict[str, Any]) -> int:
        with self._database.writing("save the brief") as db:
            cur = db.execute("INSERT INTO briefs (type, product, data, created_at) VALUES (?, ?, ?, ?)",
                             [type_, product, _json(data, "brief"), now_iso()])
            return int(cur.lastrowid or 0)

    def get_brief(self, brief_id: int) -> StoredBrief:
        with self._database.reading("read the brief") as db:
            row = db.execute("SELECT id, type, product, data, created_at FROM briefs WHERE id = ?",
                             [brief_id]).fetchone()
        if row is None:
            raise NotFoundError(f"There is no brief {brief_id}.", hint="`visage drafts list` shows the drafts.")
        return StoredBrief(id=row[0], type=row[1], product=row[2], data=json.loads(row[3]), created_at=row[4])

    # -- drafts -----------------------------------------------------------------------------------

    def create_draft(
        self,
        *,
        type_: str,
        title: str,
        fields: dict[str, Any],
        text: str,
        analysis: dict[str, Any] | None = None,
        score: float | None = None,
        passes: bool | None = None,
        source: str = "generated",
        brief_id: int | None = None,
        project: str | None = None,
        voice: str | None = None,
    ) -> int:
        """A new draft with its first version; returns the draft id."""
        title = " ".join(str(title).split())
        if not title:
            raise ConfigError("A draft needs a title.", hint="Give it a few words (the brief's product is used).")
        stamp = now_iso()
        with self._database.writing("save the draft") as db:
            cur = db.execute(
                "INSERT INTO drafts (brief_id, type, title, project, voice, text, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [brief_id, type_, title, project, voice, text, stamp, stamp],
            )
            draft_id = int(cur.lastrowid or 0)
            self._insert_version(db, draft_id, 1, source, fields, text, analysis, score, passes, stamp)
        return draft_id

    def add_version(
        self,
        draft_id: int,
        *,
        fields: dict[str, Any],
        text: str,
        analysis: dict[str, Any] | None = None,
        score: float | None = None,
        passes: bool | None = None,
        source: str = "edited",
    ) -> int:
        """Save a new version (hand edit, rewrite) as the draft's current one; returns its number."""
        stamp = now_iso()
        with self._database.writing("save the new version") as db:
            self._live(db, draft_id)
            number = int(db.execute("SELECT coalesce(max(number), 0) + 1 FROM draft_versions WHERE draft_id = ?",
                                    [draft_id]).fetchone()[0])
            self._insert_version(db, draft_id, number, source, fields, text, analysis, score, passes, stamp)
            db.execute("UPDATE drafts SET text = ?, updated_at = ? WHERE id = ?", [text, stamp, draft_id])
        return number

    def _insert_version(self, db: Any, draft_id: int, number: int, source: str, fields: dict[str, Any], text: str,
                        analysis: dict[str, Any] | None, score: float | None, passes: bool | None,
                        stamp: str) -> None:
        db.execute(
            "INSERT INTO draft_versions (draft_id, number, source, fields, text, analysis, score, passes, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [draft_id, number, source, _json(fields, "fields"), text, _json(analysis or {}, "analysis"),
             score, None if passes is None else int(passes), stamp],
        )

    def set_favourite(self, draft_id: int, favourite: bool = True) -> None:
        with self._database.writing("star the draft") as db:
            self._live(db, draft_id)
            db.execute("UPDATE drafts SET favourite = ? WHERE id = ?", [int(bool(favourite)), draft_id])

    def rename(self, draft_id: int, title: str) -> None:
        clean = " ".join(str(title).split())
        if not clean:
            raise ConfigError("A draft title cannot be empty.", hint="Give a title with at least one word.")
        with self._database.writing("rename the draft") as db:
            self._live(db, draft_id)
            db.execute("UPDATE drafts SET title = ? WHERE id = ?", [clean, draft_id])

    def delete_draft(self, draft_id: int) -> None:
        """Move a draft to the trash (hidden from lists, search and export)."""
        with self._database.writing("delete the draft") as db:
            self._live(db, draft_id)
            db.execute("UPDATE drafts SET deleted_at = ? WHERE id = ?", [now_iso(), draft_id])

    def restore_draft(self, draft_id: int) -> None:
        """Take a deleted draft out of the trash (undo of :meth:`delete_draft`); a live draft is left as it is."""
        with self._database.writing("restore the draft") as db:
            cur = db.execute("UPDATE drafts SET deleted_at = NULL WHERE id = ?", [draft_id])
            if cur.rowcount == 0:
                raise NotFoundError(f"There is no draft {draft_id} to restore.",
                                    hint="Run `visage drafts list` to see the drafts and their numbers.")

    def _live(self, db: Any, draft_id: int) -> Sequence[Any]:
        row = db.execute("SELECT id, deleted_at FROM drafts WHERE id = ?", [draft_id]).fetchone()
        if row is None or row[1] is not None:
            raise NotFoundError(f"There is no draft {draft_id}.",
                                hint="Run `visage drafts list` to see the drafts and their numbers.")
        return tuple(row)

    # -- reading ------------------------------------------------------------------------------------

    def get_draft(self, draft_id: int) -> StoredDraft:
        with self._database.reading("read the draft") as db:
            return self._draft(db, draft_id)

    def _draft(self, db: Any, draft_id: int) -> StoredDraft:
        self._live(db, draft_id)
        row = db.execute(
            "SELECT id, type, title, project, voice, text, favourite, brief_id, created_at, updated_at"
            " FROM drafts WHERE id = ?", [draft_id]).fetchone()
        versions = [
            DraftVersion(number=v[0], source=v[1], fields=json.loads(v[2]), text=v[3], analysis=json.loads(v[4]),
                         score=v[5], passes=None if v[6] is None else bool(v[6]), created_at=v[7])
            for v in db.execute(
                "SELECT number, source, fields, text, analysis, score, passes, created_at FROM draft_versions"
                " WHERE draft_id = ? ORDER BY number", [draft_id]).fetchall()
        ]
        return StoredDraft(id=row[0], type=row[1], title=row[2], project=row[3], voice=row[4], text=row[5],
                           favourite=bool(row[6]), brief_id=row[7], created_at=row[8], updated_at=row[9],
                           versions=versions)

    def list_drafts(self, limit: int = 100, *, favourites_only: bool = False,
                    project: str | None = None) -> list[StoredDraft]:
        """Favourites first, then the most recently changed (versions included)."""
        if limit < 0:
            raise ConfigError("limit cannot be negative.", hint="Pass 0 or a positive number.")
        where = ["deleted_at IS NULL"]
        args: list[Any] = []
        if favourites_only:
            where.append("favourite = 1")
        if project is not None:
            where.append("project = ?")
            args.append(project)
        with self._database.reading("list the drafts") as db:
            ids = [r[0] for r in db.execute(
                f"SELECT id FROM drafts WHERE {' AND '.join(where)}"
                " ORDER BY favourite DESC, updated_at DESC, id DESC LIMIT ?", [*args, limit]).fetchall()]
            return [self._draft(db, i) for i in ids]

    def list_summaries(self, limit: int = 50, offset: int = 0, *,
                       favourites_only: bool = False) -> list[DraftSummary]:
        """A page of the drafts list (same order as :meth:`list_drafts`), without loading the versions."""
        if limit < 0 or offset < 0:
            raise ConfigError("limit and offset cannot be negative.", hint="Pass 0 or a positive number.")
        star = " AND d.favourite = 1" if favourites_only else ""
        with self._database.reading("list the drafts") as db:
            rows = db.execute(
                "SELECT d.id, d.type, d.title, d.favourite, substr(d.text, 1, 200), d.created_at, d.updated_at,"
                " (SELECT count(*) FROM draft_versions v WHERE v.draft_id = d.id),"
                " (SELECT v.passes FROM draft_versions v WHERE v.draft_id = d.id ORDER BY v.number DESC LIMIT 1)"
                f" FROM drafts d WHERE d.deleted_at IS NULL{star}"
                " ORDER BY d.favourite DESC, d.updated_at DESC, d.id DESC LIMIT ? OFFSET ?",
                [limit, offset]).fetchall()
        return [DraftSummary(id=r[0], type=r[1], title=r[2], favourite=bool(r[3]), text=r[4], created_at=r[5],
                             updated_at=r[6], versions=int(r[7]), passes=None if r[8] is None else bool(r[8]))
                for r in rows]

    def count_drafts(self, *, favourites_only: bool = False) -> int:
        """How many drafts are not in the trash (only starred ones with ``favourites_only``)."""
        star = " AND favourite = 1" if favourites_only else ""
        with self._database.reading("count the drafts") as db:
            return int(db.execute(f"SELECT count(*) FROM drafts WHERE deleted_at IS NULL{star}").fetchone()[0])

    def drafts_of_brief(self, brief_id: int) -> list[StoredDraft]:
        """The drafts made from one brief (one generation's variants), oldest first, trash left out."""
        with self._database.reading("read the drafts") as db:
            ids = [r[0] for r in db.execute(
                "SELECT id FROM drafts WHERE brief_id = ? AND deleted_at IS NULL ORDER BY id", [brief_id]).fetchall()]
            return [self._draft(db, i) for i in ids]

    def drafts(self, ids: Sequence[int]) -> list[StoredDraft]:
        with self._database.reading("read the drafts") as db:
            return [self._draft(db, i) for i in ids]

    def search(self, query: str, limit: int = 50, *, favourites_only: bool = False) -> list[DraftHit]:
        """Full-text search over draft titles and current texts; any text is a valid query."""
        match = fts_query(query)
        if match is None or limit <= 0:
            return []
        star = " AND d.favourite = 1" if favourites_only else ""
        with self._database.reading("search the drafts") as db:
            rows = db.execute(
                "SELECT d.id, d.title, d.type,"
                f" snippet(drafts_fts, -1, '[', ']', '…', {_SNIPPET_TOKENS}), d.favourite, d.updated_at,"
                " highlight(drafts_fts, 0, char(2), char(3)),"
                f" snippet(drafts_fts, 1, char(2), char(3), '…', {_SNIPPET_TOKENS})"
                " FROM drafts_fts JOIN drafts d ON d.id = drafts_fts.rowid"
                f" WHERE drafts_fts MATCH ? AND d.deleted_at IS NULL{star}"
                " ORDER BY drafts_fts.rank, d.id DESC LIMIT ?", [match, limit]).fetchall()
        return [DraftHit(draft_id=r[0], title=r[1], type=r[2], snippet=r[3], favourite=bool(r[4]),
                         updated_at=r[5], title_marked=r[6], text_snippet=r[7]) for r in rows]

    def search_briefs(self, query: str, limit: int = 50) -> list[StoredBrief]:
        match = fts_query(query)
        if match is None or limit <= 0:
            return []
        with self._database.reading("search the briefs") as db:
            rows = db.execute(
                "SELECT b.id, b.type, b.product, b.data, b.created_at FROM briefs_fts"
                " JOIN briefs b ON b.id = briefs_fts.rowid WHERE briefs_fts MATCH ?"
                " ORDER BY briefs_fts.rank LIMIT ?", [match, limit]).fetchall()
        return [StoredBrief(id=r[0], type=r[1], product=r[2], data=json.loads(r[3]), created_at=r[4]) for r in rows]


#: The old name (it took the ``Store``; a ``Store`` still works, as does a ``Database``). Kept while the studio,
#: session and UI callers move to ``Drafts`` (issue 12 parts 1-3); no new code should use it.
DraftStore = Drafts
