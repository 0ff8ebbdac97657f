"""English stemming for the search index: Snowball's English (Porter2) stemmer, from the
`snowballstemmer` package (BSD-3-Clause, the Snowball project's own generated Python).

The package's `__init__` imports all of its 36 stemmers (12 ms; the memory function pays that at
a cold start, at its CPU share three times over); this module loads only the English one
(~1 ms) by giving the package's folder a private package name, so its relative imports
(`basestemmer`, `among`) resolve without running `__init__`. The memory function's asset ships
those three files (infra/bundling.py).

Stemming a word costs ~75 µs in pure Python; words repeat, so results are kept in a bounded
dict (a warm process stems a typical memory's words in a few µs each).
"""

from __future__ import annotations

import sys

_PACKAGE = "snowballstemmer"
_PRIVATE = "_glyph_snowballstemmer"
_CACHE: dict[str, str] = {}
_CACHE_MAX = 50_000  # words; about 5 MB at most, then it starts afresh
_stem_word = None


def _load():
    import importlib
    import importlib.util
    import types

    spec = importlib.util.find_spec(_PACKAGE)  # finds the folder, runs nothing
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the {_PACKAGE} package is not installed")
    if _PRIVATE not in sys.modules:
        package = types.ModuleType(_PRIVATE)
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules[_PRIVATE] = package
    english = importlib.import_module(f"{_PRIVATE}.english_stemmer")
    return english.EnglishStemmer().stemWord


def stem(word: str) -> str:
    """The Snowball English stem of a lower-case word ("running" → "run", "agencies" → "agenc")."""
    got = _CACHE.get(word)
    if got is None:
        global _stem_word
        if _stem_word is None:
            _stem_word = _load()
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        got = _CACHE[word] = _stem_word(word)
    return got
