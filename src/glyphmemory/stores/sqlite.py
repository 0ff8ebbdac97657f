"""SQLite store: the embedded default. WAL mode, one connection per thread, and every write in
a BEGIN IMMEDIATE transaction so that dedup and ordering hold across threads and processes."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from functools import lru_cache

from .. import names, repeat
from ..errors import Conflict, Unavailable
from ..model import Cursor, Memory, Page, content_hash
from ..text_index import INDEX_VERSION
from . import sqlite_index

# 3: updated_us (edits); 4: content_hash of model.dedup_form; 5: the search index; 6: auth_by_expiry
SCHEMA_VERSION = 6

_SCHEMA = """
CREATE TABLE IF NOT EXISTS memories (
    id           TEXT PRIMARY KEY,
    namespace    TEXT NOT NULL,
    epoch_us     INTEGER NOT NULL,
    text         TEXT NOT NULL,
    tags         TEXT NOT NULL,          -- JSON array of strings
    source       TEXT NOT NULL,
    session      TEXT,
    expires_at   INTEGER,
    content_hash TEXT NOT NULL,
    updated_us   INTEGER                 -- set by an edit
);
CREATE INDEX IF NOT EXISTS memories_by_epoch ON memories (namespace, epoch_us DESC, id DESC);
CREATE UNIQUE INDEX IF NOT EXISTS memories_by_hash ON memories (namespace, content_hash);
CREATE INDEX IF NOT EXISTS memories_by_expiry ON memories (expires_at)
    WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS auth (
    grp        TEXT NOT NULL,
    name       TEXT NOT NULL,
    data       TEXT NOT NULL,            -- JSON object
    version    INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (grp, name)
);
-- Every auth write purges expired records: through this index its cost is the expired rows',
-- not the table's (3,000 registrations made a scan of every row at each sign-in).
CREATE INDEX IF NOT EXISTS auth_by_expiry ON auth (expires_at) WHERE expires_at IS NOT NULL;
"""

_COLUMNS = "id, namespace, epoch_us, text, tags, source, session, expires_at, content_hash, updated_us"
_NOT_EXPIRED = "(expires_at IS NULL OR expires_at > :now)"


def _row_to_memory(row: tuple) -> Memory:
    mid, ns, epoch_us, text, tags, source, session, expires_at, chash, updated_us = row
    return Memory(
        id=mid,
        namespace=ns,
        text=text,
        tags=_tags_of(tags),
        source=source,
        session=session,
        epoch_us=epoch_us,
        content_hash=chash,
        expires_at=expires_at,
        updated_us=updated_us,
    )


@lru_cache(maxsize=1024)
def _tags_of(stored: str) -> tuple[str, ...]:
    """The tags column's JSON list as a tuple; the same few lists recur across a store's
    memories, and json.loads was a fifth of reading a page of them (bench/http_local.py)."""
    return tuple(json.loads(stored)) if stored != "[]" else ()


def _tags_json(tags: tuple[str, ...]) -> str:
    return json.dumps(list(tags), ensure_ascii=False)


def _rekey(db: sqlite3.Connection) -> None:
    """Schema 4: every memory's content_hash becomes the key of its dedup form. Where stored
    memories are look-alikes of each other, one gets the new key (the one whose old key it was,
    else the oldest) and the others keep their old one: nothing stored is merged or lost, and a
    new look-alike is a repeat of the one holding the key."""
    rows = db.execute("SELECT id, namespace, text FROM memories ORDER BY epoch_us, id").fetchall()
    for memory_id, namespace, text in rows:
        db.execute(
            "UPDATE OR IGNORE memories SET content_hash = ? WHERE id = ?", (content_hash(namespace, text), memory_id)
        )


class SqliteStore:
    in_process = True  # no network wait: the local server runs its requests one at a time

    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._write_lock = threading.Lock()
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, mode=0o700, exist_ok=True)
        if not os.path.exists(path):
            # Create the file 0600 before SQLite does: memories are personal data.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        conn = self._conn()
        if (
            conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION
            or sqlite_index.stored_version(conn) != INDEX_VERSION
            or not sqlite_index.intact(conn)
        ):
            with self._write() as db:
                version = db.execute("PRAGMA user_version").fetchone()[0]  # read again, under the lock
                if version < SCHEMA_VERSION:  # else another process migrated it meanwhile
                    self._migrate(db, version)
                # A file from before the index, from another analyzer, or damaged by another
                # program (a table or trigger dropped, rows deleted): the index is made again.
                if sqlite_index.stored_version(db) != INDEX_VERSION or not sqlite_index.intact(db):
                    for statement in sqlite_index.SCHEMA:
                        db.execute(statement)
                    sqlite_index.rebuild(db, None, _row_to_memory)

    @staticmethod
    def _migrate(db: sqlite3.Connection, version: int) -> None:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        if "updated_us" not in {row[1] for row in db.execute("PRAGMA table_info(memories)")}:
            db.execute("ALTER TABLE memories ADD COLUMN updated_us INTEGER")  # a version 2 file
        if version < 4:
            _rekey(db)
        for statement in sqlite_index.SCHEMA:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # --- connections -----------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # Autocommit mode: transactions are explicit BEGIN IMMEDIATE ... COMMIT below.
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")  # an acknowledged write survives power loss
            conn.execute("PRAGMA busy_timeout = 10000")
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _write(self):
        # Threads of this process queue here, handed over at once; SQLite's busy handler (for
        # other processes) polls with sleeps of up to 100 ms, which idles a busy server.
        with self._write_lock:
            conn = self._conn()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # still locked after busy_timeout
                raise Unavailable(f"the database is busy ({exc}); try again") from None
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    # --- Store protocol --------------------------------------------------------------------

    def put(self, memory: Memory, *, now_s: float, keep_epoch: bool = False) -> tuple[Memory, repeat.Repeat | None]:
        with self._write() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM memories WHERE namespace = ? AND content_hash = ?",
                (memory.namespace, memory.content_hash),
            ).fetchone()
            if row is not None:
                existing = _row_to_memory(row)
                if not existing.is_expired(now_s):
                    merged, change = repeat.merge(existing, memory)
                    if change.changed:
                        db.execute(
                            "UPDATE memories SET tags = ?, session = ?, expires_at = ? WHERE id = ?",
                            (_tags_json(merged.tags), merged.session, merged.expires_at, merged.id),
                        )  # a trigger unindexes the old tags
                        sqlite_index.add(db, merged)
                    return merged, change
                db.execute("DELETE FROM memories WHERE id = ?", (existing.id,))
            row = db.execute(f"SELECT {_COLUMNS} FROM memories WHERE id = ?", (memory.id,)).fetchone()
            if row is not None:  # an import of a memory we already hold under another text
                return _row_to_memory(row), repeat.NOTHING_CHANGED
            if not keep_epoch:
                (newest,) = db.execute(
                    "SELECT MAX(epoch_us) FROM memories WHERE namespace = ?", (memory.namespace,)
                ).fetchone()
                if newest is not None and newest >= memory.epoch_us:
                    # Another process wrote in the same microsecond: stay strictly after it.
                    memory = memory.replace(epoch_us=newest + 1)
            db.execute(
                f"INSERT INTO memories ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    memory.id,
                    memory.namespace,
                    memory.epoch_us,
                    memory.text,
                    _tags_json(memory.tags),
                    memory.source,
                    memory.session,
                    memory.expires_at,
                    memory.content_hash,
                    memory.updated_us,
                ),
            )
            sqlite_index.add(db, memory)
            # TTL for SQLite: expired rows go whenever someone writes (a trigger unindexes them).
            db.execute("DELETE FROM memories WHERE expires_at <= ?", (int(now_s),))
        return memory, None

    def update(self, memory_id: str, *, text: str, tags: tuple, content_hash: str, updated_us: int, now_s: float):
        with self._write() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM memories WHERE id = :id AND {_NOT_EXPIRED}", {"id": memory_id, "now": now_s}
            ).fetchone()
            if row is None:
                return None
            current = _row_to_memory(row)
            if content_hash != current.content_hash:
                other = db.execute(
                    "SELECT id, expires_at FROM memories WHERE namespace = ? AND content_hash = ?",
                    (current.namespace, content_hash),
                ).fetchone()
                if other is not None and (other[1] is None or other[1] > now_s):
                    raise Conflict(f"memory {other[0]} already holds that text", other_id=other[0])
                if other is not None:
                    db.execute("DELETE FROM memories WHERE id = ?", (other[0],))  # expired: gone
            updated = current.replace(text=text, tags=tuple(tags), content_hash=content_hash, updated_us=updated_us)
            db.execute(
                "UPDATE memories SET text = ?, tags = ?, content_hash = ?, updated_us = ? WHERE id = ?",
                (text, _tags_json(tags), content_hash, updated_us, memory_id),
            )  # a trigger unindexes the old text and tags
            sqlite_index.add(db, updated)
        return updated

    def get(self, memory_id: str, *, now_s: float) -> Memory | None:
        row = (
            self._conn()
            .execute(
                f"SELECT {_COLUMNS} FROM memories WHERE id = :id AND {_NOT_EXPIRED}",
                {"id": memory_id, "now": now_s},
            )
            .fetchone()
        )
        return _row_to_memory(row) if row else None

    def delete(self, memory_id: str) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM memories WHERE id = ?", (memory_id,)).rowcount > 0

    def recent(self, namespace, *, limit, now_s, before=None, tag=None, since_us=None) -> Page:
        where, params = self._window(namespace, now_s, before)
        if tag is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(memories.tags) WHERE value = :tag)")
            params["tag"] = tag
        if since_us is not None:
            where.append("epoch_us >= :since")
            params["since"] = since_us
        params["limit"] = limit + 1  # one more tells whether there is a next page
        rows = (
            self._conn()
            .execute(
                f"SELECT {_COLUMNS} FROM memories WHERE {' AND '.join(where)} "
                "ORDER BY epoch_us DESC, id DESC LIMIT :limit",
                params,
            )
            .fetchall()
        )
        items = [_row_to_memory(r) for r in rows[:limit]]
        more = len(rows) > limit
        return Page(items, Cursor(items[-1].epoch_us, items[-1].id) if more else None)

    def following(self, namespace, *, after, now_s) -> Memory | None:
        row = (
            self._conn()
            .execute(
                f"SELECT {_COLUMNS} FROM memories WHERE namespace = :ns AND {_NOT_EXPIRED} "
                "AND (epoch_us, id) > (:epoch, :id) ORDER BY epoch_us, id LIMIT 1",
                {"ns": namespace, "now": now_s, "epoch": after.epoch_us, "id": after.id},
            )
            .fetchone()
        )
        return _row_to_memory(row) if row else None

    def count_older(self, namespace, *, before, now_s, cap) -> int:
        where, params = self._window(namespace, now_s, before)
        params["cap"] = cap
        (count,) = (
            self._conn()
            .execute(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM memories WHERE {' AND '.join(where)} LIMIT :cap)",
                params,
            )
            .fetchone()
        )
        return count

    def namespaces(self, *, now_s, limit) -> list[str]:
        rows = (
            self._conn()
            .execute(
                f"SELECT DISTINCT namespace FROM memories WHERE {_NOT_EXPIRED} ORDER BY namespace LIMIT :limit",
                {"now": now_s, "limit": limit},
            )
            .fetchall()
        )
        return [r[0] for r in rows]

    @staticmethod
    def _window(namespace: str, now_s: float, before: Cursor | None) -> tuple[list[str], dict]:
        where = ["namespace = :ns", _NOT_EXPIRED]
        params: dict = {"ns": namespace, "now": now_s}
        if before is not None:
            # Row-value comparison walks the (namespace, epoch_us DESC, id DESC) index.
            where.append("(epoch_us, id) < (:b_epoch, :b_id)")
            params.update(b_epoch=before.epoch_us, b_id=before.id)
        return where, params

    # --- the search index (sqlite_index) ----------------------------------------------------

    def index_stats(self, namespace: str):
        return sqlite_index.stats(self._conn(), namespace), 0

    def index_postings(self, namespace, term, *, generation, after, limit, now_s):
        return sqlite_index.postings(self._conn(), namespace, term, after=after, limit=limit, now_s=now_s)

    def unindexed(self, namespace: str, *, generation: int, now_s: float) -> list[Memory]:
        """The newest memories the index does not hold, indexed now (as the DynamoDB store does).
        glyph's own writes change the index in the row's transaction, so this finds only rows
        another program wrote into the file; one indexed read of a few rows a search."""
        db = self._conn()
        newest = list(
            map(
                _row_to_memory,
                db.execute(
                    f"SELECT {_COLUMNS} FROM memories WHERE namespace = :ns AND {_NOT_EXPIRED} "
                    "ORDER BY epoch_us DESC LIMIT :n",
                    {"ns": namespace, "now": now_s, "n": names.SEARCH_UNINDEXED_WINDOW},
                ),
            )
        )
        marks = ",".join("?" * len(newest))
        held = {
            row[0]
            for row in db.execute(f"SELECT memory_id FROM ix_docs WHERE memory_id IN ({marks})", [m.id for m in newest])
        }
        missing = [m for m in newest if m.id not in held]
        if missing:
            with self._write() as conn:
                for memory in missing:
                    if conn.execute("SELECT 1 FROM ix_docs WHERE memory_id = ?", (memory.id,)).fetchone() is None:
                        sqlite_index.add(conn, memory)
        return missing

    def get_many(self, memory_ids: list[str], *, now_s: float) -> dict[str, Memory]:
        marks = ",".join("?" * len(memory_ids))
        rows = self._conn().execute(
            f"SELECT {_COLUMNS} FROM memories WHERE id IN ({marks}) AND (expires_at IS NULL OR expires_at > ?)",
            (*memory_ids, now_s),
        )
        return {m.id: m for m in map(_row_to_memory, rows)}

    def reindex(self, namespace: str, *, restart: bool, deadline_s: float) -> dict:
        with self._write() as db:
            indexed = sqlite_index.rebuild(db, namespace, _row_to_memory)
        return {"namespace": namespace, "indexed": indexed, "done": True}

    # --- records (SQL table `auth`, its name from before) -------------------------------------

    def records_get(self, group: str, name: str) -> tuple[dict | None, int]:
        row = (
            self._conn().execute("SELECT data, version FROM auth WHERE grp = ? AND name = ?", (group, name)).fetchone()
        )
        return (json.loads(row[0]), row[1]) if row else (None, 0)

    def records_put_if(self, group, name, data, *, expected_version, expires_at=None) -> bool:
        with self._write() as db:
            row = db.execute("SELECT version FROM auth WHERE grp = ? AND name = ?", (group, name)).fetchone()
            if (row[0] if row else 0) != expected_version:
                return False
            db.execute(
                "INSERT OR REPLACE INTO auth (grp, name, data, version, expires_at) VALUES (?, ?, ?, ?, ?)",
                (group, name, json.dumps(data), expected_version + 1, expires_at),
            )
            db.execute("DELETE FROM auth WHERE expires_at <= CAST(strftime('%s', 'now') AS INTEGER)")
        return True

    def records_delete(self, group: str, name: str) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM auth WHERE grp = ? AND name = ?", (group, name)).rowcount > 0

    def records_list(self, group: str) -> list[tuple[str, dict]]:
        rows = self._conn().execute("SELECT name, data FROM auth WHERE grp = ? ORDER BY name", (group,))
        return [(name, json.loads(data)) for name, data in rows]
