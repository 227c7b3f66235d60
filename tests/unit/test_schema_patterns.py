"""The published schema's patterns mean what the server's own checks do.

JSON Schema patterns are ECMA-262 regexes, and `\\s` there is a smaller set than in
Python's `re` (it leaves out U+0085, for one), so a client that validates against the
OpenAPI document would accept what the server then refuses. The patterns spell their
characters out, and agree with `str.strip` / `check_callback_url` on every character.
"""

from __future__ import annotations

import re

import pytest

from hookline.errors import Invalid
from hookline.ingress.schema_parts import BLANKLESS, HTTP_URL
from hookline.submission import check_callback_url

BMP = [chr(i) for i in range(0x10000) if not 0xD800 <= i < 0xE000]


def test_blank_means_what_strip_removes() -> None:
    blank = [c for c in BMP if re.fullmatch(BLANKLESS, f" {c} ") is None]
    assert blank == [c for c in BMP if c.isspace() or c == "\0"]
    assert "\u0085" in blank  # NEL: space to Python, not to ECMA-262's \s


def accepted(url: str) -> bool:
    try:
        check_callback_url(url)
    except Invalid:
        return False
    return True


@pytest.mark.parametrize("where", ["http://example.com/a{}b", "http://example.com/?q={}"])
def test_a_url_character_the_schema_allows_the_server_accepts(where: str) -> None:
    pattern = re.compile(HTTP_URL["pattern"])
    disagree = [
        c for c in BMP if bool(pattern.fullmatch(where.format(c))) and not accepted(where.format(c))
    ]
    assert disagree == []


def patterns(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return found + [p for value in node.values() for p in patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in patterns(value)]
    return []


def test_no_pattern_uses_a_class_escape_the_two_dialects_read_differently() -> None:
    from hookline.ingress.app import API
    from hookline.ingress.openapi import openapi_document

    found = patterns(openapi_document(API, max_tags=50))
    assert found  # the document has patterns to check
    assert [p for p in found if re.search(r"(?<!\\)\\[sSdDwWbB]", p)] == []
