"""Fixtures of the contract tests (each runs on both stores: tests/conftest.py's `store`)."""

from __future__ import annotations

import pytest

from glyphmemory.service import Memories


@pytest.fixture
def memories(store, clock) -> Memories:
    return Memories(store, clock)
