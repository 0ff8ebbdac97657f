"""The Claude Code plugin's manifest, skill frontmatter and hooks are valid."""

from __future__ import annotations

import json
import re
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[2] / "skills"


def frontmatter(text: str) -> dict[str, str]:
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, "SKILL.md must start with YAML frontmatter"
    fields = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def test_manifest():
    manifest = json.loads((PLUGIN / ".claude-plugin" / "plugin.json").read_text())
    assert manifest["name"] == "glyphmemory" and re.fullmatch(r"[a-z0-9-]+", manifest["name"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"]) and manifest["description"]
    from glyphmemory import __version__

    assert manifest["version"] == __version__


def test_skill_frontmatter_and_body():
    text = (PLUGIN / "skills" / "glyphmemory" / "SKILL.md").read_text()
    fields = frontmatter(text)
    assert re.fullmatch(r"[a-z0-9-]{1,64}", fields["name"]) and fields["name"] == "glyphmemory"
    assert 50 < len(fields["description"]) <= 1024 and "Use it" in fields["description"]
    body = text.split("---", 2)[2].lower()
    for must in (
        "decision",
        "preference",
        "unfinished",
        "never save",
        "password",
        "glyph write",
        "glyph search",
        "glyph recent",
    ):
        assert must in body, must
    assert len(body) < 4000  # concise: it sits in context when triggered


def test_hooks_json():
    hooks = json.loads((PLUGIN / "hooks" / "hooks.json").read_text())
    assert set(hooks["hooks"]) == {"SessionStart", "UserPromptSubmit"}
    (entry,) = hooks["hooks"]["SessionStart"]
    assert set(entry["matcher"].split("|")) == {"startup", "resume", "clear", "compact"}
    (hook,) = entry["hooks"]
    assert hook["type"] == "command" and "glyph context --hook" in hook["command"]
    budget = int(re.search(r"--budget (\d+)", hook["command"]).group(1))
    assert budget < 10_000 and hook["timeout"] <= 10
    (entry,) = hooks["hooks"]["UserPromptSubmit"]
    (hook,) = entry["hooks"]
    assert hook["type"] == "command" and hook["command"] == "glyph recall --hook" and hook["timeout"] <= 5


def test_skill_sends_what_holds_everywhere_to_default_by_name():
    # In a folder with a .glyph file a bare `glyph write` goes to the project's namespace
    # (tests/e2e/test_recall_hooks.py), so "without --ns" would file the user's preferences there.
    text = (PLUGIN / "skills" / "glyphmemory" / "SKILL.md").read_text()
    where = text.split("## Where", 1)[1].split("\n## ", 1)[0]
    assert "every project without `--ns`" not in where.replace("\n", " ")
    assert "facts that hold in every project with `--ns default`" in where.replace("\n", " ")
    assert "--ns NAME`" in where and 'glyph search "..." --ns NAME' in where
