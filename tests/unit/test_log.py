"""GLYPH_LOG_LEVEL: INFO logs every request, WARNING only 4xx/5xx and errors, ERROR only 5xx."""

from __future__ import annotations

import json

import pytest

from glyphmemory.http import log
from glyphmemory.settings import Settings


@pytest.mark.parametrize(("level", "logged"), [("INFO", [200, 404, 503]), ("WARNING", [404, 503]), ("ERROR", [503])])
def test_the_level_picks_which_answers_are_logged(level, logged, monkeypatch, capsys):
    monkeypatch.setenv("GLYPH_LOG_LEVEL", level)
    monkeypatch.setattr(log, "_threshold", log._threshold)  # put back after the test
    log.configure(Settings.load().log_level)  # as build_app does at a door's start
    for status in (200, 404, 503):
        log.event("request", level=log.level_of(status), status=status)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["status"] for line in lines] == logged
