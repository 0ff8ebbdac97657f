"""The one Link header parser (RFC 8288 §3) every client of the API pages an export with."""

from __future__ import annotations

import pytest

from glyphmemory.api_client import Answer, link_target


@pytest.mark.parametrize(
    "value,target",
    [
        ('</v1/export?namespace=default&before=01J>; rel="next"', "/v1/export?namespace=default&before=01J"),
        ("</a>; rel=next", "/a"),  # a token, not quoted
        ('</a>;rel="NEXT"', "/a"),  # relation types compare without case, no space needed
        ('</a>; rel="prev next"', "/a"),  # several relation types in one rel
        ('</p>; rel="prev", </n>; rel="next"', "/n"),  # the second link of two
        ('</p>; title="a, b; rel=next"; rel="prev", </n>; rel="next"', "/n"),  # , and ; inside quotes
        ('</a>; title="say \\"next\\""; rel="next"', "/a"),  # an escaped quote
        ('</a>; rel="next"; rel="prev"', "/a"),  # only the first rel counts (§3.3)
        ('</a>; rel="prev"; rel="next"', None),
        ('</a>; rel="nextpage"', None),  # whole relation types only
        ('</a>; title="next"', None),
        ("", None),
        ("garbage", None),
        ("<unclosed; rel=next", None),
    ],
)
def test_link_target(value, target):
    assert link_target(value, "next") == target


def test_an_answers_next_cursor_is_its_next_links_before():
    link = '</v1/export?namespace=a%20b&before=01J%2Bx>; rel="next"'
    assert Answer(200, {"link": link}, b"").next_cursor == "01J+x"  # percent-decoded
    assert Answer(200, {}, b"").next_cursor is None
    assert Answer(200, {"link": '</v1/export?namespace=a>; rel="next"'}, b"").next_cursor is None


def test_an_answers_data_is_decoded_by_its_type():
    assert Answer(200, {"content-type": "application/json"}, b'{"a": 1}').data == {"a": 1}
    assert Answer(200, {"content-type": "text/markdown; charset=utf-8"}, "é".encode()).data == "é"
    assert Answer(204, {}, b"").data is None
