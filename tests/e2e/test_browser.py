"""A real browser as the chat client: headless Debian Chromium opens read and write URLs."""

from __future__ import annotations

import re
import shutil

import pytest

from ..support.processes import clean_env, glyph_served
from .test_glyph_serve import glyph

pytestmark = pytest.mark.e2e
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "chromium is missing: `make test` installs Debian's package"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_a_browser_reads_and_writes_by_url(browser, tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    with glyph_served(env) as url:
        glyph(env, "write", "Written before the chat: the user works in Python")
        read_url = glyph(env, "url", "read").stdout.strip()
        long_text = "Decision log ✓ — " + "we keep the by-epoch GSI for newest-first reads; " * 30
        z_url = glyph(env, "url", "write", long_text, "--tags", "decision").stdout.strip()
        m_url = glyph(env, "url", "write", "Short note: prefers dark mode").stdout.strip()
        assert "&z=" in z_url and "&m=" in m_url  # the CLI picked the shorter form for each

        page = browser.new_page()

        def visit(target: str) -> tuple[int, str]:
            response = page.goto(target)
            return response.status, page.inner_text("body")

        status, before = visit(read_url)
        assert status == 200 and "Written before the chat" in before and "## Saving memories" in before
        z_status, z_text = visit(z_url)
        m_status, m_text = visit(m_url)
        again_status, again_text = visit(m_url)  # a reload or a retry
        assert (z_status, m_status, again_status) == (201, 201, 200)
        assert re.fullmatch(r"saved [0-9A-Z]{26}", z_text.strip())
        assert again_text.strip() == "already saved " + m_text.split()[1]

        status, after = visit(read_url)
        assert status == 200
        for text in ("Short note: prefers dark mode", "Decision log ✓", "Written before the chat"):
            assert after.count(text) == 1, text
        # Newest first: the last write on top.
        assert after.index("Short note") < after.index("Decision log") < after.index("Written before")
        bad_status, bad_text = visit(url + "/w?t=" + read_url.split("t=")[1] + "&z=%%%")
        assert bad_status == 400 and bad_text.startswith("Error 400:")
