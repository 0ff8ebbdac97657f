"""The SessionStart hook's budget counts what Claude Code counts: UTF-16 code units (JavaScript's
string length), where an emoji or a CJK Extension B character is 2. On every path that prints:
the server's block, the cached block behind its age line, and the one line saying nothing was kept."""

from __future__ import annotations

import pytest

from ..support.processes import clean_env, start_glyph_serve, stop
from .test_cli_commands import run_hook
from .test_glyph_serve import glyph

pytestmark = pytest.mark.e2e
BUDGET = 9000  # the hook's (skills/hooks/hooks.json)

# Each a different way to be long in UTF-16: astral emoji, CJK Extension B, flags (two regional
# indicators), ZWJ sequences, and BMP CJK with a combining mark (1 unit each, for contrast).
NOTES = [
    "🚀 release {i}: 🎉✅🐛🔥 shipped the 🦀 rewrite 🚀🚀 ",
    "𠀀𠀁𠀂 note {i}: 𡈽𤭢𦰩 on the 𠮷野家 menu 𩸽 ",
    "flags {i}: 🇯🇵🇫🇷🇧🇷🇺🇸🇰🇷🇩🇪 offices, 🏳️‍🌈 month ",
    "team {i}: 👩‍💻👨‍👩‍👧‍👦🧑🏽‍🚀👩🏿‍🔬 on call ",
    "東京 {i}: 会議は午後に移動しました é ",
]


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.fixture
def served(tmp_path):
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    proc, url = start_glyph_serve(env)
    env["GLYPH_URL"] = url
    yield env, proc
    stop(proc)


def test_every_path_of_the_hook_stays_within_its_budget_in_utf16_units(served):
    env, proc = served
    for i in range(20):
        glyph(env, "write", (NOTES[i % len(NOTES)].format(i=i)) * 12)
    fresh, _ = run_hook(env)
    assert fresh.returncode == 0 and fresh.stdout.startswith("# GlyphMemory context")
    assert len(fresh.stdout) < utf16(fresh.stdout) <= BUDGET  # emoji made it longer in UTF-16
    assert utf16(fresh.stdout) > BUDGET - 1000  # and it still fills the budget
    assert "older memories not shown" in fresh.stdout

    for budget in ("600", "2000", "20000"):  # any budget, the same unit
        block = glyph(env, "context", "--budget", budget).stdout
        assert utf16(block) <= int(budget), budget

    stop(proc)  # the server goes away: the cached block, behind its age line
    cached, _ = run_hook(env)
    assert cached.stdout.startswith("GlyphMemory: the server did not answer in time")
    assert utf16(cached.stdout) <= BUDGET
    offline = glyph(env, "context", "--cached", "--budget", str(BUDGET)).stdout
    assert utf16(offline) <= BUDGET and offline.startswith("# GlyphMemory context")


def test_a_block_counted_in_characters_or_a_long_refusal_is_cut_to_the_budget(answering, tmp_path):
    env = clean_env(
        GLYPH_HOME=str(tmp_path / "home"),
        GLYPH_URL=answering.url,
        GLYPH_KEY="root:" + "A" * 32,
    )
    # A server that counts characters (an older one) sends 9,000 of them, half emoji.
    block = "# GlyphMemory context\n" + ("> 🚀 a line of notes 🎉\n" * 600)[: BUDGET - 22]
    answering.answer = (200, block, "text/markdown")
    result, _ = run_hook(env)
    assert result.stdout.startswith("# GlyphMemory context") and utf16(result.stdout) <= BUDGET

    # No block kept, and the server's refusal is long: still one line, within the budget.
    (tmp_path / "home" / "context-cache").mkdir(parents=True, exist_ok=True)
    for path in (tmp_path / "home" / "context-cache").iterdir():
        path.unlink()
    answering.problem(500, "🔥 overloaded " * 2000)
    result, _ = run_hook(env)
    assert result.returncode == 0 and result.stdout.startswith("GlyphMemory: no memories loaded this session")
    assert utf16(result.stdout) <= BUDGET and len(result.stdout.strip().splitlines()) == 1
