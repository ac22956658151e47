"""The fast request URL is exactly the URL httpx would parse from the same string, hostile input included.

``sdk._http._request_url`` skips httpx's parser when the path and query are
already canonical; if it ever took a part httpx would have changed (a dot
segment, a raw space, a lone '%', a non-ASCII letter), the scope guard would
check one path and the network would see another. These tests compare both
ways over generated and hand-picked hostile input.
"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdk._http._request_url import ApiRoot, encode_query

ROOTS = [
    "https://api.example.test",
    "https://api.example.test/",
    "https://h.example.test:8443/v2/api/",
    "http://127.0.0.1:9",
]
HOSTILE_PATHS = [
    "/a/../b",
    "/a/./b",
    "/..",
    "/a/%2e%2e/b",
    "/a b",
    "/a%zz",
    "/a%",
    "/é",
    "/a?b",
    "/a#b",
    "/a\r\nX-Injected: 1",
    "/a\x00",
    "/{id}",
    "/a//b",
    "/%2F",
    "/a/",
    "/;x=1",
    "/a/..%2f",
]
HOSTILE_QUERIES = [
    None,
    "",
    "a=1",
    "a=%zz",
    "a=b c",
    "a=é",
    "a=1#f",
    "a=\r\n",
    "a=%2",
    "a=[1]",
    "a=`x`",
    "q=phone:'+64'",
]

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=24)
ascii_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=24)


def _slow(root: str, path: str, query: str | None) -> httpx.URL:
    return httpx.URL(root.rstrip("/") + path + ("" if query is None else "?" + query))


def _same(root: str, path: str, query: str | None) -> None:
    try:
        expected = _slow(root, path, query)
    except httpx.InvalidURL:
        with pytest.raises(httpx.InvalidURL):
            ApiRoot(root).url(path, query)
        return
    made = ApiRoot(root).url(path, query)
    assert made == expected
    assert made.raw_path == expected.raw_path
    assert str(made) == str(expected)


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("path", HOSTILE_PATHS)
@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_paths_and_queries_come_out_as_httpx_parses_them(
    root: str, path: str, query: str | None
) -> None:
    _same(root, path, query)


@settings(max_examples=400, deadline=None)
@given(segments=st.lists(ascii_text, min_size=1, max_size=4), query=st.none() | ascii_text)
def test_generated_ascii_urls_match_httpx(segments: list[str], query: str | None) -> None:
    _same(ROOTS[2], "/" + "/".join(segments), query)


@settings(max_examples=300, deadline=None)
@given(segments=st.lists(text, min_size=1, max_size=3), query=st.none() | text)
def test_generated_unicode_urls_match_httpx(segments: list[str], query: str | None) -> None:
    _same(ROOTS[0], "/" + "/".join(segments), query)


values = st.one_of(text, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())


@settings(max_examples=400, deadline=None)
@given(
    params=st.one_of(
        st.dictionaries(text, st.one_of(values, st.lists(values, max_size=3)), max_size=5),
        st.lists(st.tuples(text, values), max_size=6),
    )
)
def test_query_encoding_is_httpx_own(params: dict[str, object] | list[tuple[str, object]]) -> None:
    assert encode_query(params) == str(httpx.QueryParams(params))  # type: ignore[arg-type]


def test_a_long_plain_query_takes_the_fast_path_and_keeps_every_value() -> None:
    params = [("properties", f"prop_{n}") for n in range(40)] + [("q", "a b&c=d")]
    query = encode_query(params)
    made = ApiRoot("https://api.example.test").url("/crm/v3/objects/contacts/1", query)
    assert httpx.URL(str(made)).params.get_list("properties") == [f"prop_{n}" for n in range(40)]
    assert made.params["q"] == "a b&c=d"


@pytest.mark.parametrize(
    "params",
    [
        [("a=b", "c")],
        [("a", "b&c=d")],
        [("a", "1"), ("b", "2"), ("a", "3")],
        [("a", "1"), ("a", "2"), ("b", "")],
        [("a", 1), ("b", True), ("c", None)],
        [("", "")],
        (("x", "y"), ("x", "z")),
        [("a b", "c+d")],
    ],
)
def test_pairs_that_need_escaping_or_regrouping_are_encoded_as_httpx_does(
    params: list[tuple[str, object]],
) -> None:
    assert encode_query(params) == str(httpx.QueryParams(params))  # type: ignore[arg-type]
