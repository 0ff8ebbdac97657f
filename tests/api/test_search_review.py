"""Search and reindex at the API door, as an attacker would call them (issue 25's review):
every scope, odd queries and namespaces; a 4xx problem, never a 500. Both stores."""

from __future__ import annotations

import urllib.parse

import pytest


def test_reindex_needs_the_admin_scope_and_search_a_read_scope(api):
    api.json("POST", "/v1/memories", body={"text": "the staging database is postgres"})
    for scope in ("r", "w", "rw"):
        assert api.call("POST", "/v1/reindex", "namespace=default", scope=scope)["statusCode"] == 403, scope
    assert api.call("POST", "/v1/reindex", "namespace=default", scope=None)["statusCode"] == 401
    assert api.json("POST", "/v1/reindex", "namespace=default", scope="a") == (
        200,
        {"namespace": "default", "indexed": 1, "done": True},
    )
    assert api.call("GET", "/v1/search", "q=postgres", scope="w")["statusCode"] == 403
    status, hits = api.json("GET", "/v1/search", "q=postgres", scope="r")
    assert status == 200 and [h["matched"] for h in hits["items"]] == [["postgres"]]


@pytest.mark.parametrize(
    "q",
    [
        "",
        "   ",
        "?!… ,,, ——",
        "🚀🔥",
        "\u200b\u200d\ufeff",
        "x" * 501,
        "中" * 501,
        "a\x00b",
        "\ud800",
        "%00",
    ],
)
def test_odd_queries_are_a_400_or_an_answer_never_a_500(api, q):
    api.json("POST", "/v1/memories", body={"text": "a memory to find"})
    query = "q=" + urllib.parse.quote(q, safe="", errors="surrogatepass") + "&limit=5"
    answer = api.call("GET", "/v1/search", query, scope="r")
    assert answer["statusCode"] in (200, 400), (q, answer)


@pytest.mark.parametrize("namespace", ["../x", "a#b", "IX#default", "", "A" * 200, "déjà"])
def test_search_and_reindex_refuse_odd_namespaces(api, namespace):
    query = "q=memory&namespace=" + urllib.parse.quote(namespace, safe="")
    assert api.call("GET", "/v1/search", query, scope="r")["statusCode"] == 400
    assert (
        api.call("POST", "/v1/reindex", "namespace=" + urllib.parse.quote(namespace, safe=""), scope="a")["statusCode"]
        == 400
    )


def test_a_chat_urls_search_block_names_words_with_combining_marks(api):
    """/r?q= lists what each memory matched: a Hindi word (vowel signs are marks, not \\w) was
    left out of the list, as if nothing had matched."""
    api.json("POST", "/v1/memories", body={"text": "परियोजना की समय सीमा शुक्रवार है"})
    r = api.call("GET", "/r", f"t={api.token('r')}&q=" + urllib.parse.quote("परियोजना"), scope=None)
    assert r["statusCode"] == 200 and "matched: परियोजना" in r["body"], r["body"]
