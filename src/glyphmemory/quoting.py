"""Memories quoted as data in a block an assistant reads (the context block, /r, the recall hook):
only `re` at import, so the prompt hook does not load the service to quote."""

from __future__ import annotations

import re

# A line that would open a heading, a quote, a fence, a rule or a setext underline if it stood
# at the start of a line of the page.
_BLOCK_START_RE = re.compile(r"^(\s*)([#>`~]|[-*_=+](?:[ \t]*[-*_=+]){2,}[ \t]*$)")


def quote_memory(text: str) -> str:
    """A memory as quoted data: every line behind `> `, and anything that would open a heading,
    rule or fence escaped, so no memory can pass for the page's own structure or instructions."""
    return "\n".join("> " + _BLOCK_START_RE.sub(r"\1\\\2", line) for line in text.split("\n"))
