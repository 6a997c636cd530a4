"""SQLite storage for Visage: conversation history, drafts, brand voices, memory facts and the sync outbox.

Qt-free. One ``Database`` (``app.store.db``: connection, lock, migrations, public ``reading`` / ``writing``)
is shared by the repositories that take it: ``Conversations`` (``history``), ``Drafts``, ``Voices``,
``Facts`` (``memory``) and ``Outbox``. ``Store(path)`` opens a database as its ``Conversations``
(``app.store.facade``, kept for the many callers that open a path). The records they return are frozen
dataclasses.
"""

from app.store.db import Database
from app.store.facade import Store
from app.store.history import Conversations
from app.store.records import Conversation, ConversationSummary, SearchHit, StoredMessage

__all__ = ["Conversation", "ConversationSummary", "Conversations", "Database", "SearchHit", "Store", "StoredMessage"]
