"""Builds the application from configuration: a store URL and the root key."""

from __future__ import annotations

import os

from . import names
from .http.app import App
from .keys import Key, Keyring, parse_key
from .model import Clock
from .service import Memories
from .store import open_store


def build_app(store_url: str, root: Key) -> App:
    return App(Memories(open_store(store_url), Clock()), Keyring(root))


def key_from_env() -> Key | None:
    raw = os.environ.get(names.ENV_KEY)
    return parse_key(raw) if raw else None
