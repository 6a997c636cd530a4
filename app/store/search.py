"""History search that stays fast on a large history, best results first.

FTS5's ``bm25`` reads the whole list of messages holding each query word to weigh it (its IDF), every
time: on 1,000,000 messages a common word costs 20–30 ms before a single row is ranked, and ranking all
of its 800,000 matches before the LIMIT took a second. So a search takes one of two paths:

- every word is in fewer than :data:`RANKED` messages (a rare or mid word, most multi-word queries):
  FTS5 ranks all the matches with ``bm25``, exactly as before; that is cheap for short lists;
- some word is common: the :data:`RANKED` newest matching messages are the candidates, and they are
  ranked here with the same BM25 formula (k1 = 1.2, b = 0.75, as FTS5's ``bm25``), each word's IDF
  taken from how many messages hold it (counted while that is below :data:`RANKED`, else estimated
  from how far back its :data:`RANKED`-th newest match lies). A common word's best match among the
  latest few hundred is what a user searching their history wants; one from two years ago that says
  "the" three times is not.

Titles (one per conversation) take the same two paths. Either way snippets are made only for the hits
returned. One- to four-letter prefixes (what the sidebar sends while the user types) read FTS5's prefix
index (migration ``009_search_prefix_index``) instead of merging the lists of every word that starts
with them. Figures: bench/search.py and the README ("History search").
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from app.store.db import Handle
from app.store.fts import fts_phrases, fts_words

#: how many candidates are ranked at most when a query word is common (the newest matches)
RANKED = 300
SNIPPET_TOKENS = 16
#: FTS5's bm25 constants
K1, B = 1.2, 0.75

_LIVE_MESSAGES = (
    " FROM messages_fts f JOIN messages m ON m.id = f.rowid JOIN conversations c ON c.id = m.conversation_id"
    " WHERE messages_fts MATCH ? AND c.deleted_at IS NULL AND m.superseded_at IS NULL"
)
_LIVE_TITLES = (
    " FROM conversations_fts f JOIN conversations c ON c.id = f.rowid"
    " WHERE conversations_fts MATCH ? AND c.deleted_at IS NULL"
    " AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.superseded_at IS NULL)"
)
#: a token as FTS5's unicode61 tokenizer sees one: a run of letters and digits
_TOKEN = re.compile(r"[^\W_]+")
#: for ASCII text (most of it) the same split, faster: every ASCII character but a letter or digit parts tokens
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})


def search_messages(db: Handle, text: str, limit: int) -> list[tuple[Any, ...]]:
    """Rows (message id, conversation id, title, role, snippet, created_at) of the best matching messages."""
    match, ids = _best_ids(db, "messages_fts", "m.text", _LIVE_MESSAGES, "messages", text, limit)
    if not ids:
        return []
    wanted = ", ".join(str(i) for i in ids)  # integers from the database: safe to inline
    rows = db.execute(
        "SELECT m.id, m.conversation_id, c.title, m.role,"
        f" CASE WHEN f.rowid IN ({wanted}) THEN snippet(messages_fts, 0, '[', ']', '…', {SNIPPET_TOKENS}) END,"
        f" m.created_at{_LIVE_MESSAGES} AND f.rowid BETWEEN ? AND ?",
        [match, min(ids), max(ids)],
    ).fetchall()
    by_id = {int(r[0]): tuple(r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def search_titles(db: Handle, text: str, limit: int) -> list[tuple[Any, ...]]:
    """Rows (first message id, conversation id, title, role, snippet, created_at) of matching titles."""
    match, ids = _best_ids(db, "conversations_fts", "c.title", _LIVE_TITLES, "conversations", text, limit)
    if not ids:
        return []
    wanted = ", ".join(str(i) for i in ids)
    rows = db.execute(
        "SELECT first.id, c.id, c.title, first.role,"
        f" CASE WHEN f.rowid IN ({wanted}) THEN snippet(conversations_fts, 0, '[', ']', '…', {SNIPPET_TOKENS}) END,"
        " c.created_at"
        " FROM conversations_fts f JOIN conversations c ON c.id = f.rowid"
        " JOIN messages first ON first.id ="
        "  (SELECT min(m.id) FROM messages m WHERE m.conversation_id = c.id AND m.superseded_at IS NULL)"
        f" WHERE conversations_fts MATCH ? AND f.rowid IN ({wanted})",
        [match],
    ).fetchall()
    by_id = {int(r[1]): tuple(r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def _best_ids(db: Handle, fts: str, text_column: str, live: str, table: str, text: str,
              limit: int) -> tuple[str, list[int]]:
    """The MATCH expression for ``text`` and the ids of the ``limit`` best live rows (two paths: see above)."""
    phrases = fts_phrases(text)
    if not phrases or limit <= 0:
        return "", []
    match = " ".join(phrases)
    newest = int(db.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])
    counts = [_rows_holding(db, fts, phrase, newest) for phrase in phrases]
    if all(exact for _, exact in counts):
        return match, [int(r[0]) for r in db.execute(
            f"SELECT f.rowid{live} ORDER BY f.rank, f.rowid DESC LIMIT ?", [match, limit])]
    candidates = db.execute(
        f"SELECT f.rowid, coalesce({text_column}, ''){live} ORDER BY f.rowid DESC LIMIT ?", [match, RANKED]).fetchall()
    return match, best_first(candidates, fts_words(text), [n for n, _ in counts], newest)[:limit]


def _rows_holding(db: Handle, fts: str, phrase: str, newest: int) -> tuple[float, bool]:
    """How many rows of ``fts`` hold ``phrase``: (count, True) below RANKED, else (an estimate, False)."""
    row = db.execute(
        f"SELECT rowid FROM {fts} WHERE {fts} MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?", [phrase, RANKED - 1]
    ).fetchone()
    if row is None:
        return float(db.execute(f"SELECT count(*) FROM {fts} WHERE {fts} MATCH ?", [phrase]).fetchone()[0]), True
    # RANKED matches among the newest (newest - row + 1) ids: the same density over every id
    return RANKED * newest / max(1, newest - int(row[0]) + 1), False


def tokens_of(text: str) -> list[str]:
    """The tokens of ``text`` as the index sees them (folded: lower case, no diacritics)."""
    folded = fold(text)
    if folded.isascii():
        return folded.translate(_ASCII_SEPARATORS).split()
    return _TOKEN.findall(folded)


def fold(text: str) -> str:
    """Lower case without diacritics, as the index's tokenizer (unicode61 remove_diacritics 2) sees text."""
    text = text.lower()
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def best_first(candidates: Sequence[Sequence[Any]], words: Sequence[str], holding: Sequence[float],
               total: int) -> list[int]:
    """The ids of ``candidates`` (id, text) by BM25 for ``words`` (the last one a prefix), best first.

    ``holding[i]``: how many of the ``total`` messages hold ``words[i]``. Ties: the newest first.
    """
    phrases = [tokens_of(word) for word in words]
    last = len(phrases) - 1
    idf = [max(1e-6, math.log((total - n + 0.5) / (n + 0.5))) for n in holding]
    docs = [tokens_of(str(text)) for _, text in candidates]
    average = sum(map(len, docs)) / max(1, len(docs)) or 1.0
    scored = []
    for (mid, _), tokens in zip(candidates, docs, strict=True):
        norm = K1 * (1 - B + B * len(tokens) / average)
        score = 0.0
        for i, (weight, phrase) in enumerate(zip(idf, phrases, strict=True)):
            tf = _occurrences(tokens, phrase, prefix=i == last)
            score += weight * tf * (K1 + 1) / (tf + norm)
        scored.append((-score, -int(mid)))
    scored.sort()
    return [-mid for _, mid in scored]


def _occurrences(tokens: list[str], phrase: list[str], *, prefix: bool) -> int:
    """How often ``phrase`` (tokens; with ``prefix`` its last one may be the start of a token) is in ``tokens``."""
    if len(phrase) == 1:
        word = phrase[0]
        return sum(1 for t in tokens if t.startswith(word)) if prefix else tokens.count(word)
    n, head = len(phrase), phrase[:-1]
    return sum(
        1 for i in range(len(tokens) - n + 1)
        if tokens[i : i + n - 1] == head
        and (tokens[i + n - 1].startswith(phrase[-1]) if prefix else tokens[i + n - 1] == phrase[-1])
    )
