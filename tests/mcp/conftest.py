"""Fixtures of the MCP and OAuth tests."""

from __future__ import annotations

import pytest

from ..support.processes import clean_env, start_glyph_serve, stop


@pytest.fixture
def served_db(tmp_path):
    """glyph serve on its own home with its SQLite file named: (url, home, the process, the
    database's path), for tests that look into the database or the server's log."""
    home = str(tmp_path / "home")
    db = str(tmp_path / "glyph.db")
    proc, url = start_glyph_serve(clean_env(GLYPH_HOME=home, GLYPH_STORE="sqlite:///" + db.lstrip("/")))
    yield url, home, proc, db
    stop(proc)
