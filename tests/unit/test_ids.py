"""Object ids and API keys."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from hookline.ids import (
    KEY_ID_HEX,
    KEY_SECRET_HEX,
    ObjectIds,
    ParsedKey,
    hash_api_key,
    is_object_id,
    key_matches,
    new_api_key,
    new_object_id,
    parse_api_key,
)
from hookline.models import Environment

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def counting_bytes(start: int = 0) -> Callable[[int], bytes]:
    """Deterministic random_bytes: each call returns the next counter value, big-endian."""
    counter = itertools.count(start)

    def random_bytes(n: int) -> bytes:
        return next(counter).to_bytes(n, "big")

    return random_bytes


def fixed_bytes(value: int) -> Callable[[int], bytes]:
    """random_bytes that always returns n bytes of `value`."""
    return lambda n: bytes([value]) * n


def test_new_object_id_is_24_lowercase_hex() -> None:
    """An object id is 24 lowercase hex characters."""
    object_id = new_object_id(T0, fixed_bytes(0xAB))

    assert len(object_id) == 24
    assert is_object_id(object_id)
    assert object_id.endswith("ab" * 6)


def test_new_object_id_starts_with_unix_milliseconds() -> None:
    """The first 12 hex characters are the Unix time in milliseconds."""
    object_id = new_object_id(T0, fixed_bytes(0))

    assert int(object_id[:12], 16) == int(T0.timestamp() * 1000)


def test_new_object_ids_sort_by_time() -> None:
    """Ids made at increasing times sort in that order even when the random part decreases."""
    times = [T0 + timedelta(milliseconds=ms) for ms in (0, 1, 2, 1000, 86_400_000)]
    ids = [new_object_id(now, fixed_bytes(0xFF - i)) for i, now in enumerate(times)]

    assert sorted(ids) == ids
    assert len(set(ids)) == len(ids)


def test_new_object_ids_in_one_millisecond_differ_by_random_part() -> None:
    """Two ids made in the same millisecond differ only in their random bytes."""
    random_bytes = counting_bytes()
    first, second = new_object_id(T0, random_bytes), new_object_id(T0, random_bytes)

    assert first != second
    assert first[:12] == second[:12]


def test_ids_made_in_one_millisecond_follow_each_other() -> None:
    """However the random part falls, a process's ids sort in the order it made them."""
    ids = ObjectIds(lambda n: bytes(range(0xFF, 0xFF - n, -1)))  # random part falls each time
    made = [ids(T0) for _ in range(5)]

    assert sorted(made) == made
    assert len(set(made)) == 5
    assert all(object_id[:12] == made[0][:12] for object_id in made)
    assert all(is_object_id(object_id) for object_id in made)


def test_ids_keep_increasing_when_the_clock_steps_back() -> None:
    ids = ObjectIds(fixed_bytes(0x80))
    later, earlier = ids(T0 + timedelta(seconds=1)), ids(T0)

    assert earlier > later
    assert ids(T0 + timedelta(seconds=2)) > earlier  # and time moves them on again


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("0" * 23, id="short"),
        pytest.param("0" * 25, id="long"),
        pytest.param("A" * 24, id="uppercase"),
        pytest.param("g" * 24, id="not-hex"),
        pytest.param("", id="empty"),
    ],
)
def test_is_object_id_rejects_malformed_values(value: str) -> None:
    """Anything but exactly 24 lowercase hex characters is not an object id."""
    assert not is_object_id(value)


@pytest.mark.parametrize(
    "environment",
    [pytest.param(Environment.LIVE, id="live"), pytest.param(Environment.TEST, id="test")],
)
def test_new_api_key_round_trips_through_parse(environment: Environment) -> None:
    """A new key parses back to its environment and the public id returned with it."""
    key, key_id = new_api_key(environment, counting_bytes(0x1234))

    assert key.startswith(f"{environment.value}_")
    assert len(key) == len(environment.value) + 1 + KEY_ID_HEX + KEY_SECRET_HEX
    assert len(key_id) == KEY_ID_HEX
    assert parse_api_key(key) == ParsedKey(environment, key_id)


def test_new_api_keys_differ_with_different_randomness() -> None:
    """Keys made from different random bytes differ, in id and secret."""
    random_bytes = counting_bytes(1 << 100)
    first, first_id = new_api_key(Environment.LIVE, random_bytes)
    second, second_id = new_api_key(Environment.LIVE, random_bytes)

    assert first != second
    assert first_id == first.removeprefix("live_")[:KEY_ID_HEX]
    assert second_id == second.removeprefix("live_")[:KEY_ID_HEX]


BODY = "0123456789abcdef" * 2 + "0123456789ab"  # 44 hex characters


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param(BODY, id="no-prefix"),
        pytest.param(f"prod_{BODY}", id="unknown-environment"),
        pytest.param(f"LIVE_{BODY}", id="uppercase-environment"),
        pytest.param(f"live_{BODY[:-1]}", id="short"),
        pytest.param(f"live_{BODY}0", id="long"),
        pytest.param(f"live_{BODY[:-1]}G", id="not-hex"),
        pytest.param(f"live_{BODY.upper()}", id="uppercase-hex"),
        pytest.param(f"live-{BODY}", id="wrong-separator"),
        pytest.param(f"live_{BODY[:-1]}_", id="underscore-in-body"),
    ],
)
def test_parse_api_key_rejects_malformed_keys(key: str) -> None:
    """A malformed key parses to None."""
    assert parse_api_key(key) is None


def test_parse_api_key_accepts_a_well_formed_test_key() -> None:
    """A hand-written test key parses to the test environment and its first 12 hex."""
    assert parse_api_key(f"test_{BODY}") == ParsedKey(Environment.TEST, BODY[:KEY_ID_HEX])


def test_hash_api_key_is_sha256_hex() -> None:
    """The stored hash is the hex SHA-256 of the key."""
    key = f"live_{BODY}"

    assert hash_api_key(key) == hashlib.sha256(key.encode()).hexdigest()


def test_key_matches_its_own_hash() -> None:
    """A key matches the hash made from it."""
    key, _ = new_api_key(Environment.LIVE, counting_bytes(7))

    assert key_matches(key, hash_api_key(key))


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(f"live_{BODY[:-1]}1", id="last-character"),
        pytest.param(f"test_{BODY}", id="other-environment"),
        pytest.param("", id="empty"),
    ],
)
def test_key_matches_rejects_other_keys(other: str) -> None:
    """A different key does not match another key's hash."""
    stored = hash_api_key(f"live_{BODY}")

    assert not key_matches(other, stored)
