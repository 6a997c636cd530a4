"""Long-term memory: facts about the user that persist across conversations (user-editable).

``Facts(database)`` shares the ``Database``'s connection and lock. A fact is one short line ("My name is
Sam.", "I am allergic to peanuts."). The pipeline reads :meth:`Facts.texts` at every turn and gives
them to the model with the persona (``app.core.memory``). Removing is undoable (:meth:`restore`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.core.errors import ConfigError, NotFoundError
from app.store.db import Database, Handle, HasDatabase, now_iso

#: one fact stays a short line: the whole memory must fit the model's context with the conversation
MAX_FACT_CHARS = 200
#: the most facts kept (about 1,500 tokens at most; the default context is 2,048 tokens)
MAX_FACTS = 40

Source = Literal["user", "said"]


@dataclass(frozen=True)
class Fact:
    id: int
    text: str
    source: str
    created_at: str
    updated_at: str


def clean_fact(text: str) -> str:
    """One line, no surrounding spaces, ending with a full stop; ConfigError when empty or too long."""
    if not isinstance(text, str):
        raise ConfigError("A fact must be text.", hint="Write it as one short sentence.")
    clean = " ".join(text.split()).strip()
    if not clean:
        raise ConfigError("A fact cannot be empty.", hint='Write it as one short sentence, e.g. "My name is Sam."')
    if len(clean) > MAX_FACT_CHARS:
        raise ConfigError(f"A fact can be at most {MAX_FACT_CHARS} characters (this one has {len(clean)}).",
                          hint="Split it into shorter facts.")
    clean = clean[0].upper() + clean[1:]
    return clean if clean[-1] in ".!?" else clean + "."


class Facts:
    """The remembered facts (``memory_facts``), at most :data:`MAX_FACTS`, removable and restorable."""

    def __init__(self, database: HasDatabase) -> None:
        self._database: Database = database.database

    def add(self, text: str, *, source: Source = "user") -> Fact:
        """Remember ``text``; the same fact again (any case) is not added twice: the existing one returns."""
        clean = clean_fact(text)
        stamp = now_iso()
        with self._database.writing("remember the fact") as db:
            row = db.execute(
                "SELECT id FROM memory_facts WHERE deleted_at IS NULL AND lower(text) = lower(?)", [clean]
            ).fetchone()
            if row is not None:
                return self._get(db, int(row[0]))
            count = db.execute("SELECT count(*) FROM memory_facts WHERE deleted_at IS NULL").fetchone()[0]
            if count >= MAX_FACTS:
                raise ConfigError(f"Memory is full ({MAX_FACTS} facts).",
                                  hint="Remove facts that no longer matter, then add this one again.")
            cur = db.execute(
                "INSERT INTO memory_facts (text, source, created_at, updated_at) VALUES (?, ?, ?, ?)",
                [clean, source, stamp, stamp],
            )
            return self._get(db, int(cur.lastrowid or 0))

    def remember(self, text: str) -> str:
        """A fact the user asked for in a turn ("remember that ..."); returns it as kept."""
        return self.add(text, source="said").text

    def update(self, fact_id: int, text: str) -> Fact:
        clean = clean_fact(text)
        with self._database.writing("change the fact") as db:
            self._get(db, fact_id)
            db.execute("UPDATE memory_facts SET text = ?, source = 'user', updated_at = ? WHERE id = ?",
                       [clean, now_iso(), fact_id])
            return self._get(db, fact_id)

    def remove(self, fact_id: int) -> Fact:
        """Forget a fact (undo with :meth:`restore`)."""
        with self._database.writing("forget the fact") as db:
            fact = self._get(db, fact_id)
            db.execute("UPDATE memory_facts SET deleted_at = ? WHERE id = ?", [now_iso(), fact_id])
            return fact

    def restore(self, fact_id: int) -> Fact:
        with self._database.writing("restore the fact") as db:
            row = db.execute("SELECT id FROM memory_facts WHERE id = ? AND deleted_at IS NOT NULL",
                             [fact_id]).fetchone()
            if row is None:
                raise NotFoundError(f"There is no forgotten fact {fact_id} to restore.",
                                    hint="`visage memory list` shows the facts remembered now.")
            db.execute("UPDATE memory_facts SET deleted_at = NULL WHERE id = ?", [fact_id])
            return self._get(db, fact_id)

    def list(self) -> list[Fact]:
        """The remembered facts, oldest first."""
        with self._database.reading("read the memory") as db:
            rows = db.execute(
                "SELECT id, text, source, created_at, updated_at FROM memory_facts"
                " WHERE deleted_at IS NULL ORDER BY id"
            ).fetchall()
        return [Fact(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    def texts(self) -> list[str]:
        """What the model is given: the facts' texts, oldest first."""
        return [fact.text for fact in self.list()]

    def _get(self, db: Handle, fact_id: int) -> Fact:
        row = db.execute(
            "SELECT id, text, source, created_at, updated_at FROM memory_facts WHERE id = ? AND deleted_at IS NULL",
            [fact_id],
        ).fetchone()
        if row is None:
            raise NotFoundError(f"There is no remembered fact {fact_id}.",
                                hint="`visage memory list` shows the facts and their numbers.")
        return Fact(int(row[0]), row[1], row[2], row[3], row[4])


#: The old name (it took the ``Store``; a ``Store`` still works, as does a ``Database``). Kept while the studio,
#: session and UI callers move to ``Facts`` (issue 12 parts 1-3); no new code should use it.
MemoryStore = Facts
