"""Fixtures of the end-to-end tests (real processes: tests/support/processes.py)."""

from __future__ import annotations

import pytest

from ..support.answering import AnsweringServer


@pytest.fixture
def answering():
    """A stand-in server giving every request one set answer (support.answering)."""
    server = AnsweringServer()
    yield server
    server.close()
