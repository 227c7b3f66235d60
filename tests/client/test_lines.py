"""The pure parts of `hookline submit`: line parsing, derived unique_ids, outcomes, summary."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from hookline.client.lines import (
    Kind,
    Line,
    Outcome,
    Summary,
    canonical_json,
    derived_unique_id,
    outcome_of,
    parse_line,
)


def test_derived_unique_id_is_the_sha256_of_type_and_canonical_json() -> None:
    """The derived id is `line-` + SHA-256 of the type, a newline and the sorted-key JSON."""
    body = {"params": {"n": 1}, "instruction": "é"}
    expected = hashlib.sha256(b'echo\n{"instruction":"\xc3\xa9","params":{"n":1}}').hexdigest()
    assert derived_unique_id("echo", body) == "line-" + expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        pytest.param(("echo", {"x": 1, "y": 2}), ("echo", {"y": 2, "x": 1}), True, id="key-order"),
        pytest.param(("echo", {"x": 1}), ("echo", {"x": 2}), False, id="content"),
        pytest.param(("echo", {"x": 1}), ("other", {"x": 1}), False, id="type"),
        pytest.param(("echo", {"x": [1, 2]}), ("echo", {"x": [2, 1]}), False, id="list-order"),
    ],
)
def test_derived_unique_id_depends_on_content_and_type(
    a: tuple[str, dict[str, Any]], b: tuple[str, dict[str, Any]], same: bool
) -> None:
    """Equal JSON values of the same type share an id; anything else tells them apart."""
    assert (derived_unique_id(*a) == derived_unique_id(*b)) is same


def test_canonical_json_sorts_nested_keys() -> None:
    """Nested objects are sorted too, with no spaces."""
    assert canonical_json({"b": {"d": 1, "c": 2}, "a": []}) == b'{"a":[],"b":{"c":2,"d":1}}'


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(b"{nope", "not JSON: ", id="syntax"),
        pytest.param(b'{"a": 1', "not JSON: ", id="truncated"),
        pytest.param(b"[1, 2]", "not a JSON object: list", id="array"),
        pytest.param(b'"text"', "not a JSON object: str", id="string"),
        pytest.param(b"null", "not a JSON object: null", id="null"),
        pytest.param(b"\xff\xfe", "not JSON: ", id="not-utf8"),
    ],
)
def test_a_line_that_is_not_an_object_is_invalid_with_its_number(raw: bytes, message: str) -> None:
    """A line that is not a JSON object is an invalid outcome naming the problem."""
    parsed = parse_line(7, raw, task_type="echo")
    assert isinstance(parsed, Outcome)
    assert (parsed.number, parsed.kind) == (7, Kind.INVALID)
    assert str(parsed.message).startswith(message)


@pytest.mark.parametrize("raw", [b"", b"\n", b"   \r\n"])
def test_a_blank_line_is_skipped(raw: bytes) -> None:
    """Blank lines are neither tasks nor errors."""
    assert parse_line(1, raw, task_type="echo") is None


def test_a_line_keeps_its_own_unique_id() -> None:
    """A line's own unique_id is sent as it is."""
    parsed = parse_line(1, b'{"unique_id": "u-1", "params": {}}\n', task_type="echo")
    assert parsed == Line(number=1, body={"unique_id": "u-1", "params": {}}, derived=False)


def test_a_line_without_unique_id_gets_the_derived_one() -> None:
    """The derived id is computed from the line as written."""
    parsed = parse_line(3, b'{"params": {"n": 1}}', task_type="echo")
    assert isinstance(parsed, Line)
    assert parsed.derived
    assert parsed.body["unique_id"] == derived_unique_id("echo", {"params": {"n": 1}})


def test_a_default_callback_url_does_not_change_the_derived_id() -> None:
    """--callback-url fills lines without one, and is not part of the derived id."""
    plain = parse_line(1, b'{"params": {}}', task_type="echo")
    filled = parse_line(1, b'{"params": {}}', task_type="echo", callback_url="http://h/cb")
    own = parse_line(
        1, b'{"callback_url": "http://own/cb"}', task_type="echo", callback_url="http://h/cb"
    )
    assert isinstance(plain, Line)
    assert isinstance(filled, Line)
    assert isinstance(own, Line)
    assert filled.body["callback_url"] == "http://h/cb"
    assert filled.body["unique_id"] == plain.body["unique_id"]
    assert own.body["callback_url"] == "http://own/cb"


@pytest.mark.parametrize(
    ("status", "body", "kind", "message"),
    [
        pytest.param(200, {"task_id": "t1"}, Kind.CREATED, None, id="created"),
        pytest.param(409, {"error": "The unique_id is used"}, Kind.DUPLICATE, "The unique_id is used", id="duplicate"),
        pytest.param(400, {"status_code": 400, "error": "Field 'x' bad"}, Kind.INVALID, "400: Field 'x' bad", id="invalid"),
        pytest.param(413, "too large", Kind.INVALID, "413: too large", id="text-body"),
        pytest.param(500, None, Kind.FAILED, "500: HTTP 500", id="server-error"),
        pytest.param(503, {"error": "busy"}, Kind.FAILED, "503: busy", id="unavailable"),
    ],
)  # fmt: skip
def test_outcome_of_an_answer(status: int, body: Any, kind: Kind, message: str | None) -> None:
    """200 is created, 409 duplicate, other 4xx invalid (with the server's message), 5xx failed."""
    outcome = outcome_of(5, status, body)
    assert (outcome.number, outcome.kind, outcome.message) == (5, kind, message)
    assert outcome.task_id == ("t1" if kind is Kind.CREATED else None)


def test_summary_counts_and_lists_problems_by_line_number() -> None:
    """The report gives the counts, then each invalid or failed line in line order."""
    summary = Summary()
    for outcome in [
        Outcome(number=4, kind=Kind.INVALID, message="400: bad"),
        Outcome(number=1, kind=Kind.CREATED, task_id="a"),
        Outcome(number=2, kind=Kind.DUPLICATE, message="used"),
        Outcome(number=3, kind=Kind.INVALID, message="not JSON: x"),
    ]:
        summary.add(outcome)
    assert summary.done == 4
    assert not summary.ok
    assert summary.report() == [
        "created 1, duplicate 1, invalid 2",
        "line 3: invalid: not JSON: x",
        "line 4: invalid: 400: bad",
    ]
    assert summary.as_json()["problems"][0] == {
        "line": 3,
        "kind": "invalid",
        "message": "not JSON: x",
    }


def test_summary_of_duplicates_only_is_ok() -> None:
    """Duplicates are not failures: a re-run of a finished file succeeds."""
    summary = Summary()
    summary.add(Outcome(number=1, kind=Kind.DUPLICATE, message="used"))
    assert summary.ok
    assert summary.counts_text() == "created 0, duplicate 1, invalid 0"


def test_summary_names_failed_lines_only_when_there_are_some() -> None:
    """`failed N` appears once a line failed."""
    summary = Summary()
    summary.add(Outcome(number=9, kind=Kind.FAILED, message="503: busy"))
    assert summary.counts_text() == "created 0, duplicate 0, invalid 0, failed 1"
    assert not summary.ok
