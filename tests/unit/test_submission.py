"""Turning create-task bodies into NewTask values, and project defaults."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from hookline.errors import Invalid
from hookline.models import NewTask, Project
from hookline.submission import parse_new_task, with_project

IMAGE = "https://example.com/cat.png"


def body_factory(**overrides: Any) -> dict[str, Any]:
    """A valid categorization create body; keyword arguments replace or add fields."""
    body: dict[str, Any] = {"attachment": IMAGE, "categories": ["cat", "dog"]}
    body.update(overrides)
    return body


def parse(body: Any, *, task_type: str = "categorization", max_tags: int = 5) -> NewTask:
    return parse_new_task(task_type, body, max_tags=max_tags, max_metadata_bytes=64 * 1024)


def project_factory(**overrides: Any) -> Project:
    """A categorization project with an instruction and default categories."""
    values: dict[str, Any] = {
        "name": "pets",
        "type": "categorization",
        "params": {"instruction": "Pick the animal", "categories": ["cat", "dog", "bird"]},
        "param_history": (),
        "created_at": datetime(2024, 1, 1, tzinfo=UTC),
    }
    values.update(overrides)
    return Project(**values)


def test_parse_splits_task_fields_from_params() -> None:
    """Known task fields become NewTask fields; everything else becomes params."""
    body = body_factory(
        callback_url="https://hooks.example/cb",
        instruction="Is it a cat?",
        unique_id="u-1",
        tags=["a", "b"],
        metadata={"source": "unit"},
        project="pets",
        batch="batch-1",
        priority=30,
        extra={"nested": True},
    )

    new = parse(body)

    assert new == NewTask(
        type="categorization",
        instruction="Is it a cat?",
        params={"attachment": IMAGE, "categories": ["cat", "dog"], "extra": {"nested": True}},
        metadata={"source": "unit"},
        tags=["a", "b"],
        unique_id="u-1",
        project="pets",
        batch="batch-1",
        callback_url="https://hooks.example/cb",
        priority=30,
    )


def test_parse_leaves_optional_fields_empty() -> None:
    """A body with only params has no optional task fields and empty metadata."""
    new = parse(body_factory())

    assert new.params == body_factory()
    assert new.metadata == {}
    assert new.tags is None
    assert new.instruction is None
    assert new.unique_id is None
    assert new.callback_url is None
    assert new.priority is None


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([], id="array"),
        pytest.param("text", id="string"),
        pytest.param(None, id="null"),
        pytest.param(3, id="number"),
    ],
)
def test_body_that_is_not_an_object_is_invalid(body: Any) -> None:
    """A body that is not a JSON object raises Invalid."""
    with pytest.raises(Invalid, match="must be a JSON object"):
        parse(body)


@pytest.mark.parametrize(
    "task_type",
    [pytest.param("", id="empty"), pytest.param("x" * 101, id="too-long")],
)
def test_task_type_length_is_checked(task_type: str) -> None:
    """An empty or over-long task type raises Invalid."""
    with pytest.raises(Invalid, match="task type"):
        parse(body_factory(), task_type=task_type)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("ftp://hooks.example/cb", id="ftp"),
        pytest.param("/callbacks/1", id="relative"),
        pytest.param("hooks.example/cb", id="no-scheme"),
        pytest.param("http://", id="no-host"),
        pytest.param("https:///path", id="empty-host"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("https://hooks.example/" + "a" * 2048, id="too-long"),
        pytest.param("https://hooks.example/c b", id="space"),
        pytest.param("https://hooks.example/cb\r\nX-Injected: 1", id="crlf"),
        pytest.param("https://hooks.example/cb\n", id="lf"),
        pytest.param("https://hooks.\texample/cb", id="tab-in-host"),
        pytest.param(" https://hooks.example/cb", id="leading-space"),
        pytest.param("https://hooks.example/\x00", id="nul"),
        pytest.param("https://hooks.example/\x7f", id="del"),
        pytest.param("https://hooks.example/\u00a0", id="nbsp"),
        pytest.param("http://2130706433/cb", id="decimal-host"),
        pytest.param("http://127.1:8080/cb", id="short-host"),
        pytest.param("http://0177.0.0.1/cb", id="octal-host"),
        pytest.param("http://0x7f.1/cb", id="hex-host"),
        pytest.param("http://0/cb", id="zero-host"),
        pytest.param("http://127.0.0.1./cb", id="trailing-dot-host"),
        pytest.param("http://\uff11\uff12\uff17.1/cb", id="fullwidth-short-host"),
        pytest.param("http://8*/cb", id="star-in-host"),
        pytest.param("http://hooks.example:25*/cb", id="star-in-port"),
        pytest.param("http://hooks.example:70000/cb", id="port-out-of-range"),
        pytest.param("http://hooks..example/cb", id="empty-label"),
        pytest.param("http://hooks.example!/cb", id="bang-in-host"),
    ],
)
def test_bad_callback_url_is_invalid(url: str) -> None:
    """Only absolute http(s) callback URLs with a host are accepted."""
    with pytest.raises(Invalid, match="'callback_url'"):
        parse(body_factory(callback_url=url))


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://localhost:9000/cb", id="http-port"),
        pytest.param("https://hooks.example/cb?x=1", id="https-query"),
        pytest.param("http://[::1]:8080/cb", id="ipv6"),
        pytest.param("http://127.0.0.1:8080/cb", id="dotted-quad"),
        pytest.param("https://hooks.example/a%20b", id="percent-encoded-space"),
        pytest.param("https://b\u00fccher.example/cb", id="idn-host"),
        pytest.param("https://1password.example/cb", id="host-starting-with-digit"),
        pytest.param("https://my_hooks.example./cb", id="underscore-and-root-dot"),
        pytest.param("http://[fe80::1%25eth0]:80/cb", id="ipv6-zone"),
    ],
)
def test_good_callback_url_is_kept(url: str) -> None:
    """An absolute http(s) callback URL is kept as given."""
    assert parse(body_factory(callback_url=url)).callback_url == url


def test_empty_callback_url_means_none() -> None:
    """An empty callback_url is treated as absent."""
    assert parse(body_factory(callback_url="")).callback_url is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param(
            "https://hooks.example/cb\r\n",
            "Field 'callback_url' must not contain whitespace or control characters (found '\\r'); "
            "percent-encode them, e.g. a space as %20",
            id="crlf",
        ),
        pytest.param(
            "http://2130706433:8080/cb",
            "Field 'callback_url' is refused: destination host 2130706433 is a non-canonical "
            "numeric form of 127.0.0.1; write the address as 127.0.0.1",
            id="decimal-host",
        ),
    ],
)
def test_bad_callback_url_message_says_what_to_do(url: str, message: str) -> None:
    """The refusal names the field, the problem and the fix."""
    with pytest.raises(Invalid) as caught:
        parse(body_factory(callback_url=url))
    assert caught.value.message == message


def test_callback_url_must_be_a_string() -> None:
    """A callback_url that is not a string raises Invalid naming it."""
    with pytest.raises(Invalid, match="'callback_url' must be a string"):
        parse(body_factory(callback_url=5))


def test_callback_url_with_malformed_ipv6_host_is_invalid() -> None:
    """A callback URL whose host urlsplit cannot parse raises Invalid, not ValueError."""
    with pytest.raises(Invalid, match="'callback_url'"):
        parse(body_factory(callback_url="http://[::1/cb"))


def test_more_than_max_tags_is_invalid() -> None:
    """More distinct tags than limits.max_tags raises Invalid."""
    with pytest.raises(Invalid, match="at most 2 tags; got 3"):
        parse(body_factory(tags=["a", "b", "c"]), max_tags=2)


def test_max_tags_is_allowed() -> None:
    """Exactly limits.max_tags tags are accepted."""
    assert parse(body_factory(tags=["a", "b"]), max_tags=2).tags == ["a", "b"]


@pytest.mark.parametrize(
    "tags",
    [
        pytest.param("a,b", id="string"),
        pytest.param(["a", 1], id="number-in-list"),
        pytest.param([None], id="null-in-list"),
        pytest.param({"a": 1}, id="object"),
    ],
)
def test_tags_must_be_strings(tags: Any) -> None:
    """Tags that are not an array of strings raise Invalid."""
    with pytest.raises(Invalid, match="'tags' must be an array of strings"):
        parse(body_factory(tags=tags))


@pytest.mark.parametrize(
    "tags",
    [pytest.param([""], id="empty"), pytest.param(["x" * 201], id="too-long")],
)
def test_tag_length_is_checked(tags: list[str]) -> None:
    """Tags must be 1 to 200 characters long."""
    with pytest.raises(Invalid, match="1 to 200 characters"):
        parse(body_factory(tags=tags))


def test_duplicate_tags_collapse_in_order() -> None:
    """Repeated tags are kept once, in first-seen order, and count once against the limit."""
    new = parse(body_factory(tags=["b", "a", "b", "a", "b"]), max_tags=2)

    assert new.tags == ["b", "a"]


def test_empty_tags_list_is_kept() -> None:
    """An empty tag list stays an empty list, distinct from no tags."""
    assert parse(body_factory(tags=[])).tags == []


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param([], id="array"),
        pytest.param("x", id="string"),
        pytest.param(1, id="number"),
    ],
)
def test_metadata_must_be_an_object(metadata: Any) -> None:
    """Metadata that is not a JSON object raises Invalid naming it."""
    with pytest.raises(Invalid, match="'metadata' must be a JSON object"):
        parse(body_factory(metadata=metadata))


@pytest.mark.parametrize(
    "priority",
    [
        pytest.param(True, id="bool"),
        pytest.param(1.5, id="float"),
        pytest.param("10", id="string"),
    ],
)
def test_priority_must_be_an_integer(priority: Any) -> None:
    """A priority that is not an integer (booleans included) raises Invalid."""
    with pytest.raises(Invalid, match="'priority' must be an integer"):
        parse(body_factory(priority=priority))


@pytest.mark.parametrize(
    "priority",
    [
        pytest.param(2**31, id="2**31"),
        pytest.param(2**63, id="2**63"),
        pytest.param(-(2**31) - 1, id="below-int32"),
    ],
)
def test_priority_outside_int32_is_refused(priority: int) -> None:
    """A priority outside -2**31..2**31-1 (PostgreSQL's integer) raises Invalid naming it."""
    with pytest.raises(Invalid, match="'priority' must be between -2147483648 and 2147483647"):
        parse(body_factory(priority=priority))


@pytest.mark.parametrize("priority", [-(2**31), 0, 2**31 - 1])
def test_priority_at_the_int32_bounds_is_kept(priority: int) -> None:
    """The smallest and largest int32 priorities are accepted as given."""
    assert parse(body_factory(priority=priority)).priority == priority


@pytest.mark.parametrize(
    ("metadata", "max_bytes", "accepted"),
    [
        pytest.param({}, 2, True, id="empty-at-the-smallest-limit"),
        pytest.param({"k": "v" * 10}, 18, True, id="exactly-the-limit"),
        pytest.param({"k": "v" * 11}, 18, False, id="one-byte-over"),
        pytest.param({"k": "é" * 5}, 18, True, id="utf8-counted-in-bytes-fits"),
        pytest.param({"k": "é" * 5}, 17, False, id="utf8-counted-in-bytes-over"),
    ],
)
def test_metadata_size_is_measured_as_json_bytes(
    metadata: dict[str, Any], max_bytes: int, accepted: bool
) -> None:
    """Metadata up to max_metadata_bytes of JSON passes; one byte more raises Invalid."""
    body = body_factory(metadata=metadata)
    if accepted:
        new = parse_new_task("categorization", body, max_tags=5, max_metadata_bytes=max_bytes)
        assert new.metadata == metadata
    else:
        with pytest.raises(Invalid, match=f"at most {max_bytes} are allowed .*MAX_METADATA_BYTES"):
            parse_new_task("categorization", body, max_tags=5, max_metadata_bytes=max_bytes)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        pytest.param("instruction", 5, "'instruction' must be a string", id="instruction"),
        pytest.param("project", ["p"], "'project' must be a string", id="project"),
        pytest.param("batch", "b" * 501, "'batch' is longer than 500", id="batch-too-long"),
        pytest.param("unique_id", "", "'unique_id' must be a non-empty", id="unique-id-empty"),
        pytest.param("unique_id", 7, "'unique_id' must be a non-empty", id="unique-id-number"),
        pytest.param(
            "unique_id", "u" * 501, "'unique_id' is longer than 500", id="unique-id-too-long"
        ),
    ],
)
def test_other_task_fields_are_checked(field: str, value: Any, message: str) -> None:
    """Each task field of the wrong type or size raises Invalid naming it."""
    with pytest.raises(Invalid, match=re.escape(message)):
        parse(body_factory(**{field: value}))


def test_with_project_fills_instruction_and_params() -> None:
    """A task without instruction or params takes them from its project."""
    new = parse({"project": "pets", "attachment": IMAGE})

    filled = with_project(new, project_factory(), None)

    assert filled.instruction == "Pick the animal"
    assert filled.params == {"attachment": IMAGE, "categories": ["cat", "dog", "bird"]}
    assert filled.project == "pets"


def test_with_project_task_values_win() -> None:
    """The task's own instruction and params override the project's."""
    new = parse(body_factory(project="pets", instruction="Mine"))

    filled = with_project(new, project_factory(), None)

    assert filled.instruction == "Mine"
    assert filled.params["categories"] == ["cat", "dog"]
    assert "instruction" not in filled.params


def test_with_project_does_not_change_the_project() -> None:
    """Filling a task leaves the project's params untouched."""
    project = project_factory()

    with_project(parse({"project": "pets", "attachment": IMAGE}), project, None)

    assert project.params == {
        "instruction": "Pick the animal",
        "categories": ["cat", "dog", "bird"],
    }


def test_with_project_sets_project_from_batch() -> None:
    """A task given only a batch is filled from, and assigned to, the batch's project."""
    new = parse(body_factory(batch="batch-1"))

    filled = with_project(new, project_factory(), "pets")

    assert filled.project == "pets"
    assert filled.batch == "batch-1"
    assert filled.instruction == "Pick the animal"


def test_with_project_without_project_returns_task_unchanged() -> None:
    """With no project the task comes back as it was."""
    new = parse(body_factory())

    assert with_project(new, None, None) == new


def test_batch_and_project_mismatch_is_invalid() -> None:
    """A task naming a project other than its batch's raises Invalid naming both."""
    new = parse(body_factory(project="pets", batch="batch-1"))

    with pytest.raises(Invalid, match='Batch "batch-1" belongs to project "other", not "pets"'):
        with_project(new, project_factory(), "other")


def test_project_type_mismatch_is_invalid() -> None:
    """A task whose type differs from its project's raises Invalid."""
    new = replace(parse(body_factory(project="pets")), type="textcollection")

    with pytest.raises(Invalid, match='Project "pets" is for categorization tasks'):
        with_project(new, project_factory(), None)
