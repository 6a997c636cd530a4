"""Conversations as text a person (Markdown) or a program (JSON) can read outside Visage.

Pure functions over the records: the Store fetches, this module formats. Message texts are written
verbatim; nothing is dropped (interrupted flags, timings and turn ids are in the JSON).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime

from app.store.records import Conversation, StoredMessage

JSON_FORMAT = "visage.history"
JSON_VERSION = 1

_ROLE_NAMES = {"user": "You", "assistant": "Assistant", "system": "System"}


def _human_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return iso


def _message_md(message: StoredMessage) -> str:
    head = f"### {_ROLE_NAMES.get(message.role, message.role)} · {_human_time(message.created_at)}"
    if message.incomplete:
        head += " · *cut off (Visage stopped before the reply ended)*"
    elif message.interrupted:
        head += " · *interrupted*"
    return f"{head}\n\n{message.text}\n"


def to_markdown(conversations: Sequence[Conversation]) -> str:
    """One Markdown document: a section per conversation, a sub-heading per message."""
    parts = [f"# Visage history\n\n_Exported {_human_time(datetime.now(UTC).isoformat())}_\n"]
    if not conversations:
        parts.append("_No conversations._\n")
    for conv in conversations:
        facts = [f"started {_human_time(conv.created_at)}", f"{conv.message_count} messages"]
        if conv.pinned:
            facts.append("pinned")
        parts.append(f"## {conv.title}\n\n_{' · '.join(facts)}_\n")
        parts.extend(_message_md(m) for m in conv.messages)
    return "\n".join(parts)


def to_json(conversations: Sequence[Conversation]) -> str:
    """A JSON document holding every field of every conversation and message."""
    document = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "conversations": [asdict(conv) for conv in conversations],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)
