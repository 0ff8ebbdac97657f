"""ChatGPT's `search` and `fetch` shapes (OpenAI's MCP docs: deep research and company
knowledge), the canonical URL of a memory, and the ranking of completion values. Used by
mcp_tools, which registers the tools."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from pydantic import BaseModel, Field


class SearchResult(BaseModel):
    id: str
    title: str = Field(description="The memory's first line, shortened.")
    url: str = Field(description="The memory's page on the server (for citations).")


class SearchResults(BaseModel):
    """OpenAI's shape for `search` (deep research, company knowledge)."""

    results: list[SearchResult]


class Document(BaseModel):
    """OpenAI's shape for `fetch`: the whole text, its page and its fields as metadata."""

    id: str
    title: str
    text: str
    url: str
    metadata: dict[str, Any]


# The public base URL of the request being answered (the remote /mcp sets it per request); a
# memory's canonical URL is its page there, /ui/m/ID.
REQUEST_BASE_URL: ContextVar[str | None] = ContextVar("glyph_request_base_url", default=None)
TITLE_CHARS = 80


MAX_COMPLETIONS = 100  # the MCP specification's cap on completion values
NAMESPACES_FRESH_S = 60


def best_first(names_: list[str], typed: str) -> list[str]:
    """The names that start with what was typed (shortest first), then those holding it
    elsewhere (earliest first); case-insensitive, ties in name order."""
    typed = typed.lower()
    starts = sorted((n for n in names_ if n.lower().startswith(typed)), key=lambda n: (len(n), n))
    inside = sorted(
        (n for n in names_ if typed in n.lower() and n not in starts), key=lambda n: (n.lower().find(typed), n)
    )
    return starts + inside


def memory_title(text: str) -> str:
    line = text.strip().split("\n", 1)[0].strip()
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"
