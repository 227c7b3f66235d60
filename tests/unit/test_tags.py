"""Tag merging: set, add and delete, in order, without repeats, within the limit."""

from __future__ import annotations

import pytest

from hookline.errors import Invalid
from hookline.tags import TagMode, merge_tags


@pytest.mark.parametrize(
    ("current", "tags", "mode", "expected"),
    [
        pytest.param(
            ["a", "b"], ["c", "c", "a"], TagMode.SET, ["c", "a"], id="set-replaces-dedups"
        ),
        pytest.param(["a"], [], TagMode.SET, [], id="set-empty-clears"),
        pytest.param(
            ["a", "b"], ["b", "c", "c"], TagMode.ADD, ["a", "b", "c"], id="add-appends-new"
        ),
        pytest.param([], ["x", "y"], TagMode.ADD, ["x", "y"], id="add-to-none"),
        pytest.param(
            ["a", "b", "c"], ["b", "z"], TagMode.DELETE, ["a", "c"], id="delete-ignores-absent"
        ),
        pytest.param(["a"], ["a", "a"], TagMode.DELETE, [], id="delete-all"),
    ],
)
def test_merge_tags(
    current: list[str], tags: list[str], mode: TagMode, expected: list[str]
) -> None:
    """Each mode gives the tags in order, each once."""
    assert merge_tags(current, tags, mode=mode, max_tags=5) == expected


@pytest.mark.parametrize(
    ("current", "tags", "mode"),
    [
        pytest.param([], ["a", "b", "c"], TagMode.SET, id="set-over"),
        pytest.param(["a", "b"], ["c"], TagMode.ADD, id="add-over"),
    ],
)
def test_merge_tags_refuses_more_than_the_limit(
    current: list[str], tags: list[str], mode: TagMode
) -> None:
    """A change that would leave more than max_tags tags is refused, naming both numbers."""
    with pytest.raises(Invalid, match="at most 2 tags; this would give it 3"):
        merge_tags(current, tags, mode=mode, max_tags=2)


def test_merge_tags_at_the_limit_and_a_delete_over_it() -> None:
    """Exactly max_tags is allowed; a delete from a set already over the limit is not."""
    assert merge_tags(["a"], ["b"], mode=TagMode.ADD, max_tags=2) == ["a", "b"]
    with pytest.raises(Invalid):
        merge_tags(["a", "b", "c", "d"], ["a"], mode=TagMode.DELETE, max_tags=2)
