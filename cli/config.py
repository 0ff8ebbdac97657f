"""The CLI's settings and where GlyphMemory keeps its files: everything under GLYPH_HOME when
set, else the platform's config and data folders.

settings() reads glyphmemory.settings.Settings once per process, at the command's first need
(the environment, then config.json in the config folder); every command and helper takes its
settings from there, never from os.environ."""

from __future__ import annotations

import os

DEFAULT_URL = "http://127.0.0.1:8787"

_loaded = None


def settings():
    """The settings (glyphmemory.settings.Settings), read once. CliError (exit 1) naming the
    variable whose value does not parse."""
    global _loaded
    if _loaded is None:
        from glyphmemory.settings import Settings, SettingsError

        try:
            _loaded = Settings.load(config_path=lambda early: os.path.join(_dirs(early.home)[0], "config.json"))
        except SettingsError as exc:
            from .base import EXIT_USAGE, CliError

            raise CliError(exc.detail, EXIT_USAGE) from None
    return _loaded


def setting(name: str):
    """A setting the config file may give (url, bridge_url, anthropic_api_key): CliError (exit 1)
    naming the file when it is needed and the file is not a JSON object."""
    from glyphmemory.settings import SettingsError

    try:
        return settings().given(name)
    except SettingsError as exc:
        from .base import EXIT_USAGE, CliError

        raise CliError(exc.detail, EXIT_USAGE) from None


def _dirs(home: str | None) -> tuple[str, str]:
    if home:
        return home, home
    import platformdirs  # only paid when GLYPH_HOME is not set

    return (
        platformdirs.user_config_dir("glyphmemory", appauthor=False),
        platformdirs.user_data_dir("glyphmemory", appauthor=False),
    )


def config_dir() -> str:
    return _dirs(settings().home)[0]


def data_dir() -> str:
    return _dirs(settings().home)[1]


def key_path() -> str:
    return os.path.join(config_dir(), "key.json")


def config_path() -> str:
    return os.path.join(config_dir(), "config.json")


def default_store_url() -> str:
    return "sqlite:///" + os.path.abspath(os.path.join(data_dir(), "glyph.db")).lstrip("/")


def store_url() -> str:
    """GLYPH_STORE, else the SQLite file in the data folder."""
    return settings().store or default_store_url()


def spool_path() -> str:
    return os.path.join(data_dir(), "spool.ndjson")
