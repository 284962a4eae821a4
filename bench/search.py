"""Benchmark: full-text search over one million events against a LIKE scan.

Builds a store of ``N_EVENTS`` events with ``append_many`` (batched, so the
search index is written the way runners write it), then times a few searches
through ``EventStore.search`` (FTS5, ranked by bm25, top 50 with snippets)
against ``LIKE`` scans of the payload column of the same file: the first 50
matches in insertion order (no ranking, so it stops early on common words) and
every match (what any ranking has to look at). LIKE matches substrings, so it
finds more than the word search does; the match counts shown are FTS5's.
Ratios > 1 mean FTS5 is faster.
Asserts nothing. Run: ``python bench/search.py [N_EVENTS]``.
"""

from __future__ import annotations

import itertools
import random
import sys
import tempfile
import time
from pathlib import Path

from fleetnb.events import EventKind
from fleetnb.store import AgentRecord, EventStore

N_EVENTS = 1_000_000
BATCH = 2_000
AGENTS = 8
REPEAT = 5
# A Zipf-like vocabulary: a few words in most events, most words in few, as in prose.
VOCABULARY = [f"w{rank}" for rank in range(1, 20_001)]
CUMULATIVE = list(itertools.accumulate(1.0 / rank for rank in range(1, 20_001)))
QUERIES = ("needle", "w2000", "w200", "w20 w30", "w2", "zebra")  # rare to common, absent


def _text(rng: random.Random, i: int) -> str:
    words = rng.choices(VOCABULARY, cum_weights=CUMULATIVE, k=12)
    if i % 10_000 == 0:
        words.append("needle")
    return " ".join(words) + f" step {i}"


def build(path: Path, n_events: int) -> float:
    """Fill the store; returns events per second."""
    store = EventStore(path)
    for a in range(AGENTS):
        store.create_agent(AgentRecord(f"a{a}", f"agent-{a}", "demo", None, "t", "/", 0.0), {})
    rng = random.Random(7)
    start = time.perf_counter()
    for base in range(0, n_events, BATCH):
        items = [
            (EventKind.ASSISTANT_TEXT, {"text": _text(rng, i)})
            for i in range(base, min(base + BATCH, n_events))
        ]
        store.append_many(f"a{(base // BATCH) % AGENTS}", items)
    rate = n_events / (time.perf_counter() - start)
    store.close()
    return rate


def _best(fn: object) -> float:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def compare(path: Path) -> None:
    store = EventStore(path)
    conn = store._conn  # the same connection and cache for both sides
    for query in QUERIES:
        words = query.split()
        like = " AND ".join("payload LIKE ?" for _ in words)
        first = f"SELECT agent_id, seq FROM events WHERE {like} ORDER BY id LIMIT 50"
        every = f"SELECT COUNT(*) FROM events WHERE {like}"
        params = [f"%{w}%" for w in words]
        fts = _best(lambda q=query: store.search(q, limit=50))
        scan = _best(lambda s=first, p=params: conn.execute(s, p).fetchall())
        full = _best(lambda s=every, p=params: conn.execute(s, p).fetchall())
        match = " ".join(f'"{w}"' for w in words)
        (matches,) = conn.execute(
            "SELECT COUNT(*) FROM events_fts WHERE events_fts MATCH ?", (match,)
        ).fetchone()
        print(f"{query!r:<14} {matches:>8,} matches | FTS5 top 50 ranked {fts * 1e3:8.2f} ms | "
              f"LIKE first 50 unranked {scan * 1e3:8.2f} ms ({scan / fts:7.2f}x) | "
              f"LIKE every match {full * 1e3:8.2f} ms ({full / fts:7.2f}x)")  # fmt: skip
    store.close()


def main() -> None:
    n_events = int(sys.argv[1]) if len(sys.argv) > 1 else N_EVENTS
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fleet.db"
        rate = build(path, n_events)
        size = path.stat().st_size / 1e6
        print(f"built {n_events:,} events with append_many: {rate:,.0f} events/s, {size:.0f} MB")
        compare(path)


if __name__ == "__main__":
    main()
