"""SQLite-only behaviour: WAL, the index, several processes writing one file."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time

from glyphmemory.model import Clock
from glyphmemory.service import Memories
from glyphmemory.stores.sqlite import SqliteStore


def test_wal_mode_and_newest_first_reads_use_the_index(tmp_path):
    path = str(tmp_path / "g.db")
    store = SqliteStore(path)
    Memories(store, Clock()).write(text="hello")
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    plan = " ".join(
        row[-1]
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM memories WHERE namespace = 'default' "
            "AND (expires_at IS NULL OR expires_at > 0) AND (epoch_us, id) < (9e18, 'Z') "
            "ORDER BY epoch_us DESC, id DESC LIMIT 21"
        )
    )
    assert "memories_by_epoch" in plan and "TEMP B-TREE" not in plan


def _writer(path: str, worker: int, n: int) -> None:
    memories = Memories(SqliteStore(path), Clock())
    for i in range(n):
        memories.write(text=f"worker {worker} memory {i}")
        memories.write(text="the one text every worker writes")


def test_several_processes_writing_one_file(tmp_path):
    path = str(tmp_path / "g.db")
    SqliteStore(path).close()
    procs = [multiprocessing.Process(target=_writer, args=(path, w, 40)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = SqliteStore(path)
    page = store.recent("default", limit=1000, now_s=time.time())
    texts = [m.text for m in page.items]
    assert len(texts) == 4 * 40 + 1 and len(set(texts)) == len(texts)
    epochs = [m.epoch_us for m in page.items]
    assert epochs == sorted(set(epochs), reverse=True)  # strictly increasing, no ties
    # Each worker's own writes read back in the order it made them.
    for w in range(4):
        mine = [t for t in reversed(texts) if t.startswith(f"worker {w} ")]
        assert mine == [f"worker {w} memory {i}" for i in range(40)]
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_database_file_is_private(tmp_path):
    path = tmp_path / "sub" / "g.db"
    SqliteStore(str(path)).close()
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_file_of_the_previous_schema_gains_the_edit_column_and_keeps_its_memories(tmp_path):
    path = tmp_path / "v2.db"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE memories (id TEXT PRIMARY KEY, namespace TEXT NOT NULL, epoch_us INTEGER NOT NULL,
            text TEXT NOT NULL, tags TEXT NOT NULL, source TEXT NOT NULL, session TEXT, expires_at INTEGER,
            content_hash TEXT NOT NULL);
        CREATE UNIQUE INDEX memories_by_hash ON memories (namespace, content_hash);
        PRAGMA user_version = 2;
        """
    )
    db.execute(
        "INSERT INTO memories VALUES ('01M7YSECJGJP6V29PGWMX1NE6V', 'default', 1795000000000000, 'from version 2', '[]', 'cli', NULL, NULL, 'h')"
    )
    db.commit()
    db.close()
    store = SqliteStore(str(path))
    memories = Memories(store, Clock())
    old = memories.get("01M7YSECJGJP6V29PGWMX1NE6V")
    assert old.text == "from version 2" and old.updated_us is None
    edited, _ = memories.edit(old.id, text="edited after the upgrade")
    assert edited.updated_us is not None and memories.get(old.id).text == "edited after the upgrade"
    store.close()
