"""SQLite storage for Visage: conversation history now; drafts, brand voices and the outbox later.

Qt-free. ``Store`` is the one entry point; the records it returns are frozen dataclasses.
"""

from app.store.history import Store
from app.store.records import Conversation, ConversationSummary, SearchHit, StoredMessage

__all__ = ["Conversation", "ConversationSummary", "SearchHit", "Store", "StoredMessage"]
