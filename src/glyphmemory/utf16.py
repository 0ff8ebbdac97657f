"""Text length as JavaScript counts it: UTF-16 code units (`String.length`). Budgets of text
meant for an assistant count this way, because Claude Code's 10,000 cap on a hook's output is
a JavaScript length (REFERENCES.md): a character outside the Basic Multilingual Plane (most
emoji, CJK Extension B) is 2 units, every other character 1, so a text is never shorter in
UTF-16 than in Python characters. The context block (server) and the hook's output (CLI)
both measure with this module."""

from __future__ import annotations


def length(text: str) -> int:
    """UTF-16 code units in `text` (JavaScript's `text.length`)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def prefix(text: str, units: int) -> str:
    """The longest start of `text` within `units` UTF-16 code units, never half a character."""
    if units <= 0:
        return ""
    if len(text) * 2 <= units or length(text) <= units:
        return text
    # A pair cut in two leaves a lone high surrogate at the end: "ignore" drops it.
    return text.encode("utf-16-le", "surrogatepass")[: units * 2].decode("utf-16-le", "ignore")
