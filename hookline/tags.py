"""A task's tags: how a change merges into the ones it has. Pure."""

from __future__ import annotations

import enum
from collections.abc import Sequence

from hookline.errors import Invalid


class TagMode(enum.StrEnum):
    """How a tag change applies: Scale's POST, PUT and DELETE on /v1/task/{id}/tags."""

    SET = "set"
    """Replace the tags with these."""
    ADD = "add"
    """Append the ones not present yet."""
    DELETE = "delete"
    """Remove these, ignoring absent ones."""


def merge_tags(
    current: Sequence[str], tags: Sequence[str], *, mode: TagMode, max_tags: int
) -> list[str]:
    """The tags after the change, in order, without repeats.

    Raises:
        Invalid: the result would have more than `max_tags` tags.
    """
    if mode is TagMode.SET:
        result = list(dict.fromkeys(tags))
    elif mode is TagMode.ADD:
        result = list(current) + [t for t in dict.fromkeys(tags) if t not in current]
    else:
        removed = set(tags)
        result = [t for t in current if t not in removed]
    if len(result) > max_tags:
        raise Invalid(f"A task can have at most {max_tags} tags; this would give it {len(result)}")
    return result
