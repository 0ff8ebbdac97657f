"""The one storage protocol both stores implement (glyphmemory.stores opens one from a URL).

Documentation and type checking only: nothing imports this at run time, since `typing` costs
6 ms of a cold start at a full core. `make lint` checks with mypy that both stores conform
(tests/typing/store_conformance.py): a method missing, renamed, or answering another type fails it."""

from __future__ import annotations

from typing import Protocol

from .model import Cursor, Memory, Page
from .repeat import Repeat
from .text_index import IndexStats


class Store(Protocol):
    # True when the store never waits on a network (SQLite): the local server then runs its
    # requests one at a time instead of letting threads fight over the GIL.
    in_process: bool

    def put(self, memory: Memory, *, now_s: float, keep_epoch: bool = False) -> tuple[Memory, Repeat | None]:
        """Store a memory unless the namespace holds the same text (same content_hash: see
        model.dedup_form) or the same id already.

        Returns the stored memory and None, or for a repeat the held memory after the repeat
        rule (repeat.merge, applied atomically) and what it changed. A fresh write (keep_epoch
        False) may get a later epoch so that it sorts after everything stored before it;
        an import keeps the epoch it brings.
        """

    def get(self, memory_id: str, *, now_s: float) -> Memory | None:
        """The memory with this id, or None when it is unknown or expired."""

    def update(
        self, memory_id: str, *, text: str, tags: tuple[str, ...], content_hash: str, updated_us: int, now_s: float
    ) -> Memory | None:
        """Change a memory's text and tags in place (id, namespace, epoch kept), moving its dedup
        entry with it in one atomic step; None when there is no such memory, Conflict when
        another memory of the namespace holds the new text."""

    def delete(self, memory_id: str) -> bool:
        """Delete a memory and its dedup entry; False when there was nothing to delete."""

    def recent(
        self,
        namespace: str,
        *,
        limit: int,
        now_s: float,
        before: Cursor | None = None,
        tag: str | None = None,
        since_us: int | None = None,
    ) -> Page:
        """Unexpired memories newest first, at most `limit`, strictly after `before`."""

    def following(self, namespace: str, *, after: Cursor, now_s: float) -> Memory | None:
        """The unexpired memory that comes next after `after` in time order (oldest first), if any.
        Search shows a memory of the same session that follows a match (text_index.with_followers)."""

    def count_older(self, namespace: str, *, before: Cursor, now_s: float, cap: int) -> int:
        """How many unexpired memories sort after `before`, counting at most `cap`."""

    def namespaces(self, *, now_s: float, limit: int) -> list[str]:
        """The namespaces holding an unexpired memory, in name order, at most `limit`."""

    # --- the search index (DESIGN §16; search.py reads it) ------------------------------------

    def index_stats(self, namespace: str) -> tuple[IndexStats, int] | None:
        """(statistics, generation) of a namespace's index; None while it is not ready."""

    def index_postings(
        self, namespace: str, term: str, *, generation: int, after: str | None, limit: int, now_s: float
    ) -> tuple[int | None, list[tuple[str, str, int, int]], str | None]:
        """(df, [(sk, memory_id, tf, doc_len)], next sk or None): a term's unexpired postings,
        best first, from just after `after`; df only on the first page (else None)."""

    def unindexed(self, namespace: str, *, generation: int, now_s: float) -> list[Memory]:
        """The newest memories the index lacks (written by another program, or whose writer
        died before indexing them), indexed now."""

    def get_many(self, memory_ids: list[str], *, now_s: float) -> dict[str, Memory]:
        """The unexpired memories of these ids, by id."""

    def reindex(self, namespace: str, *, restart: bool, deadline_s: float) -> dict:
        """Build a namespace's index anew, as far as the deadline (time.monotonic()) allows."""

    # --- records: small JSON documents by (group, name), changed by compare-and-set ------------
    # The general record store: TOTP steps, lockouts, quotas, device keys, OAuth grants and
    # codes, bridge turns. Named for what it is (it was auth_*: it began with auth state).

    def records_get(self, group: str, name: str) -> tuple[dict | None, int]:
        """The record and its version (0 when there is none)."""

    def records_put_if(
        self, group: str, name: str, data: dict, *, expected_version: int, expires_at: int | None = None
    ) -> bool:
        """Write the record if its version is still expected_version (0: must not exist)."""

    def records_delete(self, group: str, name: str) -> bool: ...

    def records_list(self, group: str) -> list[tuple[str, dict]]:
        """Every record of a group, by name."""

    def close(self) -> None: ...
