"""kill -9 of `glyph serve` while writers run: the database stays sound and keeps every acknowledged write."""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time

import pytest

from ..support import writer
from ..support.processes import stop
from .conftest import serve

pytestmark = pytest.mark.e2e

WRITERS, ROUNDS = 4, 3


class Writers:
    """Writer processes whose reports are drained as they come (a full pipe would stall them)."""

    def __init__(self, url: str, env: dict, prefix: str):
        self.records: list[dict] = []
        self.lock = threading.Lock()
        self.procs = [writer.spawn(["http", url, f"{prefix} writer {w}", "100000"], env) for w in range(WRITERS)]
        self.readers = [threading.Thread(target=self._drain, args=(p,)) for p in self.procs]
        for reader in self.readers:
            reader.start()

    def _drain(self, proc) -> None:
        for line in proc.stdout:
            with self.lock:
                self.records.append(json.loads(line))

    def acknowledged(self) -> int:
        with self.lock:
            return sum(r["status"] == 201 for r in self.records)

    def wait(self) -> list[dict]:
        for proc in self.procs:
            proc.wait(60)
        for reader in self.readers:
            reader.join()
        return self.records


def test_kill_9_loses_no_acknowledged_write(tmp_path):
    home = tmp_path / "home"
    acknowledged: dict[str, str] = {}
    for round_ in range(ROUNDS):
        server = serve(home)
        writers = Writers(server.url, server.env | {"GLYPH_TOKEN": server.token("w")}, f"round {round_}")
        deadline = time.monotonic() + 60
        while writers.acknowledged() < 150 + 50 * round_ and time.monotonic() < deadline:
            time.sleep(0.01)
        server.proc.send_signal(signal.SIGKILL)  # mid-write: the writers are still sending
        server.proc.wait()
        records = writers.wait()
        assert any(r["status"] == 0 for r in records)  # some writes were cut off by the kill
        assert {r["status"] for r in records} <= {0, 201}
        acknowledged |= {r["id"]: r["text"] for r in records if r["status"] == 201}
        db = sqlite3.connect(home / "glyph.db")  # opening it recovers the WAL, as a restart does
        try:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        finally:
            db.close()

    server = serve(home)  # restarts on the same file after the last kill
    try:
        stored = server.all_memories()
    finally:
        stop(server.proc)
    by_id = {m["id"]: m["text"] for m in stored}
    assert len(acknowledged) >= 450
    assert {i: by_id.get(i) for i in acknowledged} == acknowledged
    assert len(by_id) == len(stored) == len({m["text"] for m in stored})  # nothing twice
