"""The database schema, as an ordered list of sqlite-utils migrations.

Rules for whoever adds tables (drafts, brand_voices, outbox, ...):
- append a new ``@MIGRATIONS(name="00N_what")`` function at the END of this module; never edit,
  rename or reorder one that has shipped (a user's database remembers the names it applied);
- use ``db.execute`` with one statement per call: ``executescript`` (and sqlite-utils helpers built on
  it, such as ``enable_fts``) commits on its own and would break the migration's transaction.
Each migration runs in its own transaction together with the record of it (sqlite-utils does that).
"""

from __future__ import annotations

import logging

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

logger = logging.getLogger(__name__)

MIGRATIONS = Migrations("visage")

#: Tokenizer shared by every full-text index: Unicode-aware, "cafe" finds "café".
FTS_TOKENIZE = "unicode61 remove_diacritics 2"


@MIGRATIONS(name="001_conversations_messages")
def _conversations_messages(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            pinned INTEGER NOT NULL DEFAULT 0,
            deleted_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
            text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            interrupted INTEGER NOT NULL DEFAULT 0,
            timings TEXT NOT NULL DEFAULT '{}',
            turn_id TEXT
        )
        """
    )
    db.execute("CREATE INDEX messages_by_conversation ON messages (conversation_id, id)")
    db.execute("CREATE INDEX conversations_by_update ON conversations (pinned, updated_at)")


@MIGRATIONS(name="002_full_text_search")
def _full_text_search(db: Database) -> None:
    # External-content FTS5 indexes: the text is stored once, in messages / conversations.
    db.execute(
        "CREATE VIRTUAL TABLE messages_fts USING fts5("
        f"text, content='messages', content_rowid='id', tokenize='{FTS_TOKENIZE}')"
    )
    db.execute(
        "CREATE VIRTUAL TABLE conversations_fts USING fts5("
        f"title, content='conversations', content_rowid='id', tokenize='{FTS_TOKENIZE}')"
    )
    db.execute(
        """
        CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
        END
        """
    )
    db.execute(
        """
        CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END
        """
    )
    db.execute(
        """
        CREATE TRIGGER messages_fts_au AFTER UPDATE OF text ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
        END
        """
    )
    db.execute(
        """
        CREATE TRIGGER conversations_fts_ai AFTER INSERT ON conversations BEGIN
            INSERT INTO conversations_fts (rowid, title) VALUES (new.id, coalesce(new.title, ''));
        END
        """
    )
    db.execute(
        """
        CREATE TRIGGER conversations_fts_ad AFTER DELETE ON conversations BEGIN
            INSERT INTO conversations_fts (conversations_fts, rowid, title)
                VALUES ('delete', old.id, coalesce(old.title, ''));
        END
        """
    )
    db.execute(
        """
        CREATE TRIGGER conversations_fts_au AFTER UPDATE OF title ON conversations BEGIN
            INSERT INTO conversations_fts (conversations_fts, rowid, title)
                VALUES ('delete', old.id, coalesce(old.title, ''));
            INSERT INTO conversations_fts (rowid, title) VALUES (new.id, coalesce(new.title, ''));
        END
        """
    )
    # Index whatever a database created at 001 already holds.
    db.execute("INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages")
    db.execute("INSERT INTO conversations_fts (rowid, title) SELECT id, coalesce(title, '') FROM conversations")


@MIGRATIONS(name="004_sync_outbox")
def _sync_outbox(db: Database) -> None:
    """Opt-in sync: the durable outbox of usage events, and the client's small key/value state."""
    # One row per event waiting for the server; deleted once the server has acknowledged it.
    # ``payload`` is JSON without message or draft text (app/store/outbox.py builds it).
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE sync_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )


@MIGRATIONS(name="005_studio_drafts_voices_briefs")
def _studio(db: Database) -> None:
    """Copy studio: briefs, brand voices, drafts and their versions, with full-text search."""
    db.execute(
        """
        CREATE TABLE briefs (
            id INTEGER PRIMARY KEY,
            type TEXT NOT NULL,
            product TEXT NOT NULL,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE brand_voices (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            search_text TEXT NOT NULL DEFAULT '',
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE drafts (
            id INTEGER PRIMARY KEY,
            brief_id INTEGER REFERENCES briefs(id) ON DELETE SET NULL,
            type TEXT NOT NULL,
            title TEXT NOT NULL,
            project TEXT,
            voice TEXT,
            text TEXT NOT NULL DEFAULT '',
            favourite INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            deleted_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE draft_versions (
            id INTEGER PRIMARY KEY,
            draft_id INTEGER NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            source TEXT NOT NULL,
            fields TEXT NOT NULL,
            text TEXT NOT NULL,
            analysis TEXT NOT NULL DEFAULT '{}',
            score REAL,
            passes INTEGER,
            created_at TEXT NOT NULL,
            UNIQUE (draft_id, number)
        )
        """
    )
    db.execute("CREATE INDEX drafts_by_update ON drafts (favourite, updated_at)")
    db.execute("CREATE INDEX drafts_by_project ON drafts (project)")
    # External-content FTS5 indexes, kept in step by triggers (as for messages in 002).
    for table, columns in (("drafts", ("title", "text")), ("brand_voices", ("name", "search_text")),
                           ("briefs", ("product", "data"))):
        cols = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        db.execute(
            f"CREATE VIRTUAL TABLE {table}_fts USING fts5("
            f"{cols}, content='{table}', content_rowid='id', tokenize='{FTS_TOKENIZE}')"
        )
        db.execute(
            f"CREATE TRIGGER {table}_fts_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {table}_fts (rowid, {cols}) VALUES (new.id, {new}); END"
        )
        db.execute(
            f"CREATE TRIGGER {table}_fts_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {table}_fts ({table}_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
        )
        db.execute(
            f"CREATE TRIGGER {table}_fts_au AFTER UPDATE OF {cols} ON {table} BEGIN "
            f"INSERT INTO {table}_fts ({table}_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {table}_fts (rowid, {cols}) VALUES (new.id, {new}); END"
        )


@MIGRATIONS(name="006_superseded_messages")
def _superseded_messages(db: Database) -> None:
    """Regenerate / edit-and-resend: the replaced part of a conversation is kept but hidden.

    A message with ``superseded_at`` set was replaced by a regenerated reply or an edited message; it is
    left out of the conversation, its count, search and export, and not sent to the model again.
    """
    db.execute("ALTER TABLE messages ADD COLUMN superseded_at TEXT")


@MIGRATIONS(name="007_memory")
def _memory(db: Database) -> None:
    """Long-term memory: short facts about the user, given to the model in every conversation.

    ``source`` is "user" (typed in the memory page or the CLI) or "said" ("remember that ..." in a turn).
    Removing a fact sets ``deleted_at`` (undo); it is then left out of the model's context.
    """
    db.execute(
        """
        CREATE TABLE memory_facts (
            id INTEGER PRIMARY KEY,
            text TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT 'user' CHECK (source IN ('user', 'said')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            deleted_at TEXT
        )
        """
    )


@MIGRATIONS(name="008_incomplete_messages")
def _incomplete_messages(db: Database) -> None:
    """A reply is saved while it streams (at each sentence, at most every 0.5 s) in one row with
    ``incomplete = 1``, finished in place when it ends: a crash keeps what the user had already read or heard."""
    db.execute("ALTER TABLE messages ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0")


@MIGRATIONS(name="009_search_prefix_index")
def _search_prefix_index(db: Database) -> None:
    """Search-as-you-type stays fast on a large history: FTS5 keeps a prefix index for 1-4 letters.

    Without it a short prefix ("th*") merges the list of every word that starts with it, at each key
    press (over 100 ms at a million messages). The two indexes are made again with ``prefix='1 2 3 4'``
    and filled from their tables: about a minute for a million messages (46 s measured with 1-3 letters),
    well under a second for a typical history. The triggers of 002 keep working: they name the tables,
    which keep their names.
    """
    for table, column, content in (("messages", "text", "text"), ("conversations", "title", "coalesce(title, '')")):
        db.execute(f"DROP TABLE {table}_fts")
        db.execute(
            f"CREATE VIRTUAL TABLE {table}_fts USING fts5({column}, content='{table}', content_rowid='id',"
            f" tokenize='{FTS_TOKENIZE}', prefix='1 2 3 4')"
        )
        db.execute(f"INSERT INTO {table}_fts (rowid, {column}) SELECT id, {content} FROM {table}")


def migration_names() -> list[str]:
    """Every migration this version of Visage knows, in the order they apply."""
    return [m.name for m in MIGRATIONS._migrations]


def applied_names(db: Database) -> list[str]:
    return [m.name for m in MIGRATIONS.applied(db)]


def migrate(db: Database, *, stop_before: str | None = None) -> list[str]:
    """Apply pending migrations (all, or those before ``stop_before``); return the names applied."""
    before = set(applied_names(db))
    MIGRATIONS.apply(db, stop_before=stop_before)
    after = applied_names(db)
    done = [name for name in after if name not in before]
    unknown = [name for name in after if name not in migration_names()]
    if unknown:
        logger.warning("database has migrations this version does not know (newer Visage?): %s", unknown)
    if done:
        logger.info("applied database migrations: %s", done)
    return done
