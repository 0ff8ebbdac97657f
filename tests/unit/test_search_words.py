"""Search counts a word's occurrences without splitting the text: the count must equal the
number of terms (maximal runs of \\w, case-folded) equal to the word, for any text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from glyphmemory.search import count_word, terms

# Letters, digits of other scripts, combining marks, underscores and separators: the edges.
PIECES = st.sampled_from(["a", "b", "ab", "_", "1", " ", "-", "é", "Ä", "ß", "٣", "\u0301", "ǅ", ".", "\n", "İ"])
TEXTS = st.lists(PIECES, max_size=14).map(lambda parts: "".join(parts).casefold())


@settings(max_examples=500, deadline=None)
@given(TEXTS, st.text(max_size=20))
def test_count_word_equals_the_terms_count(text, noise):
    folded = (text + noise).casefold()
    tokens = terms(folded)
    for word in {*tokens, "a", "b", "ab"}:
        assert count_word(folded, word) == tokens.count(word)
