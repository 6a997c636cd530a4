"""The conversation history: conversations and their messages, with full-text search, soft delete and export.

``Conversations(database)`` is the repository; it works through the ``Database``'s public ``reading`` /
``writing`` (``app.store.db``). Every write is one transaction, committed before the method returns, so
a crash never loses a message that was reported saved and never leaves half of one behind.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from app.core.errors import ConfigError, NotFoundError
from app.store import export as exporting
from app.store.db import Database, Handle, HasDatabase, now_iso
from app.store.fts import fts_query
from app.store.records import ROLES, Conversation, ConversationSummary, MessageSaved, SearchHit, StoredMessage
from app.store.search import search_messages, search_titles

logger = logging.getLogger(__name__)

#: Shown for a conversation that has no title yet (no user message and never renamed).
UNTITLED = "New conversation"
#: Titles taken from the first user message are cut to about this many characters.
TITLE_CHARS = 60


def title_from_text(text: str, limit: int = TITLE_CHARS) -> str | None:
    """A one-line title from a message: whitespace collapsed, cut at a word near ``limit`` chars."""
    flat = " ".join(text.split())
    if not flat:
        return None
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:!?-") + "…"


class Conversations:
    """Conversations and their messages, with full-text search, soft delete and export."""

    def __init__(self, database: HasDatabase) -> None:
        self._database: Database = database.database

    @property
    def database(self) -> Database:
        """The database this repository reads and writes (shared with the other repositories)."""
        return self._database

    def _live_row(self, db: Handle, conversation_id: int) -> tuple[Any, ...]:
        """The conversation row, or NotFoundError if it never existed or sits in the trash."""
        row = db.execute(
            "SELECT id, title, created_at, updated_at, pinned, deleted_at FROM conversations WHERE id = ?",
            [conversation_id],
        ).fetchone()
        if row is None:
            raise NotFoundError(
                f"There is no conversation {conversation_id}.",
                hint="Run `visage history list` to see the conversations and their numbers.",
            )
        if row[5] is not None:
            raise NotFoundError(
                f"Conversation {conversation_id} was deleted.",
                hint=f"Restore it first (`visage history restore {conversation_id}`) if you still need it.",
            )
        return tuple(row)

    # -- writing --------------------------------------------------------------------------------

    def create_conversation(self, title: str | None = None) -> int:
        """A new, empty conversation; without a title it takes one from its first user message."""
        clean = _clean_title(title) if title is not None else None
        stamp = now_iso()
        with self._database.writing("start a new conversation") as db:
            cur = db.execute(
                "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)",
                [clean, stamp, stamp],
            )
            new_id = int(cur.lastrowid or 0)
        logger.debug("created conversation %d", new_id)
        return new_id

    def add_message(
        self,
        conversation_id: int,
        role: str,
        text: str,
        *,
        interrupted: bool = False,
        timings: dict[str, float] | None = None,
        turn_id: str | None = None,
        supersede_from: int | None = None,
        incomplete: bool = False,
    ) -> int:
        """Save one message; it is committed (and searchable) when this returns.

        ``incomplete``: a reply still streaming, saved so far; :meth:`update_message` finishes it in place
        (the database's write hooks hear of it then, once).

        ``supersede_from`` (regenerate, edit-and-resend): the message with that id and every later one in the
        conversation are hidden as replaced, in the same transaction as this message is saved, so the
        conversation never shows both versions nor loses the old one if saving fails.
        """
        if role not in ROLES:
            raise ConfigError(
                f"Unknown message role {role!r}.",
                hint=f"Use one of: {', '.join(sorted(ROLES))}.",
            )
        if not isinstance(text, str):
            raise ConfigError(
                f"A message text must be a string, not {type(text).__name__}.",
                hint="Pass the text the user said or heard.",
            )
        timings_json = _timings_json(timings)
        stamp = now_iso()
        with self._database.writing("save the message") as db:
            title = self._live_row(db, conversation_id)[1]
            if supersede_from is not None:
                self._supersede(db, conversation_id, supersede_from, stamp)
            cur = db.execute(
                "INSERT INTO messages (conversation_id, role, text, created_at, interrupted, timings, turn_id,"
                " incomplete) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [conversation_id, role, text, stamp, int(bool(interrupted)), timings_json, turn_id,
                 int(bool(incomplete))],
            )
            message_id = int(cur.lastrowid or 0)
            if not incomplete:
                self._database.message_saved(db, MessageSaved(conversation_id, message_id, role, bool(interrupted),
                                                              dict(timings or {}), stamp))
            new_title = title_from_text(text) if title is None and role == "user" else None
            if new_title is not None:
                db.execute(
                    "UPDATE conversations SET updated_at = ?, title = ? WHERE id = ?",
                    [stamp, new_title, conversation_id],
                )
            else:
                db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", [stamp, conversation_id])
        logger.debug("saved %s message %d in conversation %d (turn %s)", role, message_id, conversation_id, turn_id)
        return message_id

    def update_message(
        self,
        message_id: int,
        text: str,
        *,
        interrupted: bool = False,
        incomplete: bool = False,
        timings: dict[str, float] | None = None,
    ) -> None:
        """Rewrite a reply saved while streaming: more text so far, or (``incomplete=False``) its final form."""
        if not isinstance(text, str):
            raise ConfigError(
                f"A message text must be a string, not {type(text).__name__}.",
                hint="Pass the text the user said or heard.",
            )
        stamp = now_iso()
        with self._database.writing("save the reply") as db:
            row = db.execute("SELECT role, incomplete, conversation_id FROM messages WHERE id = ?",
                             [message_id]).fetchone()
            if row is None:
                raise NotFoundError(f"Message {message_id} does not exist.", hint="Reopen the conversation.")
            role, was_incomplete, conversation_id = row
            db.execute(
                "UPDATE messages SET text = ?, interrupted = ?, incomplete = ?, timings = ? WHERE id = ?",
                [text, int(bool(interrupted)), int(bool(incomplete)), _timings_json(timings), message_id],
            )
            if was_incomplete and not incomplete:
                self._database.message_saved(db, MessageSaved(int(conversation_id), message_id, role,
                                                              bool(interrupted), dict(timings or {}), stamp))

    def _supersede(self, db: Handle, conversation_id: int, message_id: int, stamp: str) -> None:
        row = db.execute(
            "SELECT conversation_id FROM messages WHERE id = ? AND superseded_at IS NULL", [message_id]
        ).fetchone()
        if row is None or int(row[0]) != conversation_id:
            raise NotFoundError(
                f"Message {message_id} is not a current message of conversation {conversation_id}.",
                hint="Reopen the conversation and try again.",
            )
        db.execute(
            "UPDATE messages SET superseded_at = ? WHERE conversation_id = ? AND id >= ? AND superseded_at IS NULL",
            [stamp, conversation_id, message_id],
        )

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        clean = _clean_title(title)
        with self._database.writing("rename the conversation") as db:
            self._live_row(db, conversation_id)
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", [clean, conversation_id])

    def set_pinned(self, conversation_id: int, pinned: bool) -> None:
        with self._database.writing("pin the conversation") as db:
            self._live_row(db, conversation_id)
            db.execute("UPDATE conversations SET pinned = ? WHERE id = ?", [int(bool(pinned)), conversation_id])

    def delete_conversation(self, conversation_id: int) -> None:
        """Move a conversation to the trash: hidden everywhere, restorable until purged."""
        with self._database.writing("delete the conversation") as db:
            row = db.execute("SELECT deleted_at FROM conversations WHERE id = ?", [conversation_id]).fetchone()
            if row is None:
                raise NotFoundError(
                    f"There is no conversation {conversation_id}.",
                    hint="Run `visage history list` to see the conversations and their numbers.",
                )
            if row[0] is None:
                db.execute("UPDATE conversations SET deleted_at = ? WHERE id = ?", [now_iso(), conversation_id])

    def restore_conversation(self, conversation_id: int) -> None:
        """Take a deleted conversation out of the trash (undo of delete_conversation)."""
        with self._database.writing("restore the conversation") as db:
            cur = db.execute("UPDATE conversations SET deleted_at = NULL WHERE id = ?", [conversation_id])
            if cur.rowcount == 0:
                raise NotFoundError(
                    f"There is no conversation {conversation_id} to restore.",
                    hint="It was never there or has been purged for good; `visage history list` shows the rest.",
                )

    def purge_deleted(self, older_than_s: float = 0) -> int:
        """Erase for good the conversations deleted at least ``older_than_s`` seconds ago; return how many."""
        if not isinstance(older_than_s, int | float) or math.isnan(older_than_s) or older_than_s < 0:
            raise ConfigError(
                f"Cannot purge conversations deleted {older_than_s!r} seconds ago.",
                hint="Give an age in seconds, 0 or more (0 purges everything in the trash).",
            )
        cutoff = (datetime.now(UTC) - timedelta(seconds=older_than_s)).isoformat(timespec="microseconds")
        with self._database.writing("purge deleted conversations") as db:
            cur = db.execute("DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at <= ?", [cutoff])
            count = max(cur.rowcount, 0)
        if count:
            logger.info("purged %d deleted conversation(s)", count)
        return count

    # -- reading --------------------------------------------------------------------------------

    def list_conversations(self, limit: int = 100, offset: int = 0) -> list[ConversationSummary]:
        """Pinned conversations first, then the most recently updated."""
        _check_window(limit, offset)
        with self._database.reading("list the conversations") as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.created_at, c.updated_at,"
                " (SELECT count(*) FROM messages m"
                "  WHERE m.conversation_id = c.id AND m.superseded_at IS NULL), c.pinned"
                " FROM conversations c WHERE c.deleted_at IS NULL"
                " ORDER BY c.pinned DESC, c.updated_at DESC, c.id DESC LIMIT ? OFFSET ?",
                [limit, offset],
            ).fetchall()
        return [_summary(row) for row in rows]

    def get_conversation(self, conversation_id: int) -> Conversation:
        with self._database.reading("read the conversation") as db:
            return self._conversation(db, conversation_id)

    def _conversation(self, db: Handle, conversation_id: int) -> Conversation:
        cid, title, created_at, updated_at, pinned, _ = self._live_row(db, conversation_id)
        rows = db.execute(
            "SELECT id, conversation_id, role, text, created_at, interrupted, timings, turn_id, incomplete"
            " FROM messages WHERE conversation_id = ? AND superseded_at IS NULL ORDER BY id",
            [conversation_id],
        ).fetchall()
        messages = [_message(row) for row in rows]
        return Conversation(
            id=cid,
            title=title or UNTITLED,
            created_at=created_at,
            updated_at=updated_at,
            message_count=len(messages),
            pinned=bool(pinned),
            messages=messages,
        )

    def latest_conversation_id(self) -> int | None:
        """The most recently updated conversation not in the trash (to continue it), if any."""
        with self._database.reading("find the latest conversation") as db:
            row = db.execute(
                "SELECT id FROM conversations WHERE deleted_at IS NULL ORDER BY updated_at DESC, id DESC LIMIT 1"
            ).fetchone()
        return int(row[0]) if row else None

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Full-text search over message texts and conversation titles; any text is a valid query.

        Conversations whose title matches but none of whose messages do come first (one hit each),
        then matching messages, best match first (``app.store.search``: fast on a large history too).
        """
        _check_window(limit, 0)
        if fts_query(query) is None or limit == 0:
            return []
        with self._database.reading("search the history") as db:
            message_rows = search_messages(db, query, limit)
            title_rows = search_titles(db, query, limit)
        in_messages = {row[1] for row in message_rows}
        hits = [_hit(row) for row in title_rows if row[1] not in in_messages]
        hits.extend(_hit(row) for row in message_rows)
        return hits[:limit]

    def export(self, conversation_ids: Sequence[int] | None, fmt: Literal["md", "json"]) -> str:
        """The conversations (``None``: all but the deleted, oldest first) as Markdown or JSON text."""
        if fmt not in ("md", "json"):
            raise ConfigError(f"Cannot export as {fmt!r}.", hint="Choose md (Markdown) or json.")
        with self._database.reading("export the history") as db:
            if conversation_ids is None:
                ids = [
                    int(row[0])
                    for row in db.execute(
                        "SELECT id FROM conversations WHERE deleted_at IS NULL ORDER BY created_at, id"
                    ).fetchall()
                ]
            else:
                ids = list(conversation_ids)
            conversations = [self._conversation(db, cid) for cid in ids]
        if fmt == "md":
            return exporting.to_markdown(conversations)
        return exporting.to_json(conversations)


def _clean_title(title: str) -> str:
    flat = " ".join(str(title).split())
    if not flat:
        raise ConfigError("A conversation title cannot be empty.", hint="Give a title with at least one word.")
    return flat


def _timings_json(timings: dict[str, float] | None) -> str:
    try:
        clean = {str(k): float(v) for k, v in (timings or {}).items()}
        return json.dumps(clean, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"Stage timings must map stage names to seconds as finite numbers, got {timings!r}.",
            hint='Pass e.g. {"asr": 0.41, "first_token": 0.12}.',
        ) from exc


def _check_window(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise ConfigError(
            f"limit and offset cannot be negative (got limit={limit}, offset={offset}).",
            hint="Pass 0 or a positive number.",
        )


def _summary(row: Sequence[Any]) -> ConversationSummary:
    cid, title, created_at, updated_at, count, pinned = row
    return ConversationSummary(
        id=cid,
        title=title or UNTITLED,
        created_at=created_at,
        updated_at=updated_at,
        message_count=count,
        pinned=bool(pinned),
    )


def _message(row: Sequence[Any]) -> StoredMessage:
    mid, cid, role, text, created_at, interrupted, timings, turn_id, incomplete = row
    return StoredMessage(
        id=mid,
        conversation_id=cid,
        role=role,
        text=text,
        created_at=created_at,
        interrupted=bool(interrupted),
        timings={str(k): float(v) for k, v in json.loads(timings or "{}").items()},
        turn_id=turn_id,
        incomplete=bool(incomplete),
    )


def _hit(row: Sequence[Any]) -> SearchHit:
    mid, cid, title, role, snippet, created_at = row
    return SearchHit(
        message_id=mid,
        conversation_id=cid,
        conversation_title=title or UNTITLED,
        role=role,
        snippet=snippet,
        created_at=created_at,
    )
