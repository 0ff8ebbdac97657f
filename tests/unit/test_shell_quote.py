"""The hook command's words, quoted for the shell of each platform (the POSIX form is run through
sh in tests/e2e/test_install.py)."""

from __future__ import annotations

import sys

import pytest

from glyph_cli.admin import shell_quote


@pytest.mark.parametrize(
    ("path", "quoted"),
    [
        (r"C:\Users\Ann Lee\.local\bin\glyph.exe", r'"C:\Users\Ann Lee\.local\bin\glyph.exe"'),
        (r"C:\Program Files (x86)\glyph\glyph.exe", r'"C:\Program Files (x86)\glyph\glyph.exe"'),
        (r"D:\R&D\glyph.exe", r'"D:\R&D\glyph.exe"'),
        (r"C:\Tools\glyph.exe", r"C:\Tools\glyph.exe"),  # nothing to protect: as it is
        ("--hook", "--hook"),
    ],
)
def test_windows_paths_are_one_double_quoted_word(monkeypatch, path, quoted):
    monkeypatch.setattr(sys, "platform", "win32")
    assert shell_quote(path) == quoted


def test_posix_words_are_shell_quoted(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    assert shell_quote("/opt/My Tools/glyph") == "'/opt/My Tools/glyph'"
    assert shell_quote("/home/o'neil/$HOME/glyph") == "'/home/o'\"'\"'neil/$HOME/glyph'"
    assert shell_quote("--budget") == "--budget"
