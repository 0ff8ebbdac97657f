"""Where GlyphMemory keeps its files: everything under GLYPH_HOME when set, else the
platform's config and data folders. Only paths here: reading them is each caller's job."""

from __future__ import annotations

import os

from glyphmemory import names

DEFAULT_URL = "http://127.0.0.1:8787"


def _dirs() -> tuple[str, str]:
    home = os.environ.get(names.ENV_HOME)
    if home:
        return home, home
    import platformdirs  # only paid when GLYPH_HOME is not set

    return (
        platformdirs.user_config_dir("glyphmemory", appauthor=False),
        platformdirs.user_data_dir("glyphmemory", appauthor=False),
    )


def config_dir() -> str:
    return _dirs()[0]


def data_dir() -> str:
    return _dirs()[1]


def key_path() -> str:
    return os.path.join(config_dir(), "key.json")


def config_path() -> str:
    return os.path.join(config_dir(), "config.json")


def default_store_url() -> str:
    return "sqlite:///" + os.path.abspath(os.path.join(data_dir(), "glyph.db")).lstrip("/")


def spool_path() -> str:
    return os.path.join(data_dir(), "spool.ndjson")
