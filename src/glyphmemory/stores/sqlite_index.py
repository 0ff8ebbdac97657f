"""The search index of the SQLite store: tables beside `memories`, changed in the same transaction.

- `ix_postings` (namespace, term, sk) → memory_id, tf, doc_len, expires_at: one row per term of
  a memory; `sk` = impact (4 digits) + memory id, so a term's best postings come first when
  read by sk descending (the same order as DynamoDB's posting items).
- `ix_terms` (namespace, term) → df; `ix_docs` memory_id → namespace, len;
  `ix_stats` namespace → count, total_len.

A memory is added by `add` right after its row is written (put, edit); triggers on `memories`
remove it whenever its row is deleted (delete, expiry, dedup takeover) or its text or tags
change, so no path can leave the index behind the table. `rebuild` starts a namespace's index
afresh from its rows (`glyph reindex`, a new INDEX_VERSION).
"""

from __future__ import annotations

import sqlite3
from collections import Counter

from ..model import Memory
from ..text_index import INDEX_VERSION, IndexStats, impact, memory_terms

_FORGET = """
    UPDATE ix_terms SET df = df - 1
        WHERE namespace = old.namespace AND term IN (SELECT term FROM ix_postings WHERE memory_id = old.id);
    DELETE FROM ix_postings WHERE memory_id = old.id;
    UPDATE ix_stats SET count = count - 1,
            total_len = total_len - (SELECT len FROM ix_docs WHERE memory_id = old.id)
        WHERE namespace = old.namespace AND EXISTS (SELECT 1 FROM ix_docs WHERE memory_id = old.id);
    DELETE FROM ix_docs WHERE memory_id = old.id;
"""

_TABLES = """
CREATE TABLE IF NOT EXISTS ix_postings (
    namespace  TEXT NOT NULL,
    term       TEXT NOT NULL,
    sk         TEXT NOT NULL,             -- impact (0000-9999) + memory id: best first, descending
    memory_id  TEXT NOT NULL,
    tf         INTEGER NOT NULL,
    doc_len    INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (namespace, term, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_postings_by_memory ON ix_postings (memory_id);
CREATE TABLE IF NOT EXISTS ix_terms (
    namespace TEXT NOT NULL,
    term      TEXT NOT NULL,
    df        INTEGER NOT NULL,
    PRIMARY KEY (namespace, term)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ix_docs (memory_id TEXT PRIMARY KEY, namespace TEXT NOT NULL, len INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ix_stats (namespace TEXT PRIMARY KEY, count INTEGER NOT NULL, total_len INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ix_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)
"""
SCHEMA = [s for s in _TABLES.split(";") if s.strip()] + [
    f"CREATE TRIGGER IF NOT EXISTS ix_forget_deleted AFTER DELETE ON memories BEGIN {_FORGET} END",
    f"CREATE TRIGGER IF NOT EXISTS ix_forget_changed AFTER UPDATE OF text, tags ON memories BEGIN {_FORGET} END",
]


def posting_sk(tf: int, doc_len: int, memory_id: str) -> str:
    return f"{impact(tf, doc_len):04d}{memory_id}"


def add(db: sqlite3.Connection, memory: Memory) -> None:
    """Index a memory whose row was just written (in the writer's transaction)."""
    terms = Counter(memory_terms(memory.text, memory.tags))
    length = sum(terms.values())
    db.executemany(
        "INSERT OR REPLACE INTO ix_postings VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (memory.namespace, term, posting_sk(tf, length, memory.id), memory.id, tf, length, memory.expires_at)
            for term, tf in terms.items()
        ],
    )
    db.executemany(
        "INSERT INTO ix_terms VALUES (?, ?, 1) ON CONFLICT DO UPDATE SET df = df + 1",
        [(memory.namespace, term) for term in terms],
    )
    db.execute("INSERT INTO ix_docs VALUES (?, ?, ?)", (memory.id, memory.namespace, length))
    db.execute(
        "INSERT INTO ix_stats VALUES (?, 1, ?) ON CONFLICT DO UPDATE SET count = count + 1, total_len = total_len + ?",
        (memory.namespace, length, length),
    )


def rebuild(db: sqlite3.Connection, namespace: str | None, row_to_memory) -> int:
    """Drop and re-create the index of one namespace (None: of all), from its rows; returns
    how many memories were indexed."""
    where, params = ("WHERE namespace = ?", (namespace,)) if namespace is not None else ("", ())
    for table in ("ix_postings", "ix_terms", "ix_docs", "ix_stats"):
        db.execute(f"DELETE FROM {table} {where}", params)
    from .sqlite import _COLUMNS  # the row layout is the store's

    count = 0
    for row in db.execute(f"SELECT {_COLUMNS} FROM memories {where}", params).fetchall():
        add(db, row_to_memory(row))
        count += 1
    db.execute("INSERT OR REPLACE INTO ix_meta VALUES ('version', ?)", (INDEX_VERSION,))
    return count


_OBJECTS = frozenset(
    ("ix_postings", "ix_postings_by_memory", "ix_terms", "ix_docs", "ix_stats", "ix_meta")
    + ("ix_forget_deleted", "ix_forget_changed")
)


def intact(db: sqlite3.Connection) -> bool:
    """Whether the index's tables and triggers all exist and it holds as many memories as the
    table: checked when a store opens (three counts: ~1 ms at 10,000 memories), so an index
    another program damaged (a table or trigger dropped, rows deleted) is rebuilt by itself."""
    present = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'ix%'")}
    if not present.issuperset(_OBJECTS):
        return False
    (rows,) = db.execute("SELECT count(*) FROM memories").fetchone()
    (docs,) = db.execute("SELECT count(*) FROM ix_docs").fetchone()
    (counted,) = db.execute("SELECT coalesce(sum(count), 0) FROM ix_stats").fetchone()
    return rows == docs == counted


def stored_version(db: sqlite3.Connection) -> int:
    try:
        row = db.execute("SELECT value FROM ix_meta WHERE name = 'version'").fetchone()
    except sqlite3.OperationalError:  # a file from before the index
        return 0
    return row[0] if row else 0


def stats(db: sqlite3.Connection, namespace: str) -> IndexStats:
    row = db.execute("SELECT count, total_len FROM ix_stats WHERE namespace = ?", (namespace,)).fetchone()
    return IndexStats(*row) if row else IndexStats()


def postings(db: sqlite3.Connection, namespace: str, term: str, *, after: str | None, limit: int, now_s: float):
    """(df, [(sk, memory_id, tf, doc_len)], next sk or None): a term's unexpired postings,
    best first, from just after `after`; df only on the first page (else None)."""
    df = None
    if after is None:
        row = db.execute("SELECT df FROM ix_terms WHERE namespace = ? AND term = ?", (namespace, term)).fetchone()
        df = row[0] if row else 0
        after = "~"  # sorts after every sk
    # Expired postings are skipped in the query, not after its LIMIT: until the next write purges
    # them they must not take the places of live ones (a search would miss a live memory).
    rows = db.execute(
        "SELECT sk, memory_id, tf, doc_len FROM ix_postings "
        "WHERE namespace = ? AND term = ? AND sk < ? AND (expires_at IS NULL OR expires_at > ?) "
        "ORDER BY sk DESC LIMIT ?",
        (namespace, term, after, int(now_s), limit),
    ).fetchall()
    return df, [tuple(row) for row in rows], (rows[-1][0] if len(rows) == limit else None)
