"""`GET /v1/tasks`: answer shape, order, cursor paging, filters and scoping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from hookline.store import Store
from tests.api.support import create_task, error_of, ids, list_tasks, ok, total
from tests.conftest import Account, AccountFactory, ClientFactory, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """Time for these tests: 2 ms pass at each reading of the store's clock, so tasks
    created one after another get ordered ids and times without waiting."""
    return FakeClock(step_s=0.002)


@pytest.fixture
def store(clocked_store: Store) -> Store:
    """Every client and account of these tests reads the time from `clock`."""
    return clocked_store


async def create_many(client: httpx.AsyncClient, count: int, **body: Any) -> list[str]:
    """Create `count` tasks one after another, a little apart; their ids, oldest first."""
    return [(await create_task(client, n=n, **body))["task_id"] for n in range(count)]


def split_moment(clock: FakeClock) -> datetime:
    """A moment strictly between what was written before and what is written after it."""
    clock.advance(0.01)
    moment = clock.now
    clock.advance(0.01)
    return moment


async def test_answer_has_scale_keys(api: httpx.AsyncClient) -> None:
    """The answer carries docs, total, limit, offset, has_more and next_token."""
    await create_many(api, 2)
    answer = await list_tasks(api)
    assert set(answer) == {"docs", "total", "limit", "offset", "has_more", "next_token"}
    assert answer["total"] == 2
    assert answer["limit"] == 100
    assert answer["offset"] == 0
    assert answer["has_more"] is False
    assert answer["next_token"] is None
    assert len(answer["docs"]) == 2


async def test_empty_account_lists_nothing(api: httpx.AsyncClient) -> None:
    """A fresh account lists no tasks and a zero total."""
    answer = await list_tasks(api)
    assert answer["docs"] == []
    assert answer["total"] == 0
    assert answer["has_more"] is False


async def test_tasks_are_listed_newest_first(api: httpx.AsyncClient) -> None:
    """Tasks come back newest first."""
    made = await create_many(api, 4)
    answer = await list_tasks(api)
    assert [doc["task_id"] for doc in answer["docs"]] == made[::-1]


async def test_next_token_walks_every_task_once(api: httpx.AsyncClient) -> None:
    """Paging with limit=2 and next_token visits each task exactly once as offset advances."""
    made = await create_many(api, 5)
    seen: list[str] = []
    pages: list[tuple[int, int, bool]] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        answer = await list_tasks(api, **params)
        assert answer["total"] == 5
        assert answer["limit"] == 2
        seen.extend(doc["task_id"] for doc in answer["docs"])
        pages.append((answer["offset"], len(answer["docs"]), answer["has_more"]))
        if not answer["has_more"]:
            assert answer["next_token"] is None
            break
        assert isinstance(answer["next_token"], str)
        params["next_token"] = answer["next_token"]
    assert pages == [(0, 2, True), (2, 2, True), (4, 1, False)]
    assert seen == made[::-1]


async def test_next_token_pages_stay_in_the_filter(api: httpx.AsyncClient) -> None:
    """A next_token page keeps applying the filter it was issued for."""
    tagged = await create_many(api, 3, tags=["keep"])
    await create_many(api, 3)
    first = await list_tasks(api, tags="keep", limit=2)
    second = await list_tasks(api, tags="keep", limit=2, next_token=first["next_token"])
    listed = [d["task_id"] for d in first["docs"]] + [d["task_id"] for d in second["docs"]]
    assert listed == tagged[::-1]
    assert second["has_more"] is False


async def test_filter_by_status(api: httpx.AsyncClient) -> None:
    """status narrows the list and the total, one status or a comma list."""
    made = await create_many(api, 3)
    ok(await api.post(f"/v1/task/{made[0]}/cancel"))
    assert await ids(api, status="canceled") == {made[0]}
    assert await total(api, status="pending") == 2
    assert await total(api, status="pending,canceled") == 3
    assert await total(api, status="completed") == 0
    error_of(await api.get("/v1/tasks", params={"status": "done"}), 400)


async def test_filter_by_type(api: httpx.AsyncClient) -> None:
    """type narrows the list to one task type."""
    await create_many(api, 2)
    other = await create_task(api, "custom_kind", x=1)
    assert await ids(api, type="custom_kind") == {other["task_id"]}
    assert await total(api, type="echo") == 2
    assert await total(api, type="nothing") == 0


async def test_filter_by_project_and_batch(api: httpx.AsyncClient) -> None:
    """project and batch narrow the list to their tasks."""
    for name in ("p1", "p2"):
        ok(await api.post("/v1/projects", json={"type": "echo", "name": name, "params": {}}))
    ok(await api.post("/v1/batches", json={"name": "b1", "project": "p1"}))
    in_batch = await create_task(api, batch="b1")
    in_p1 = await create_task(api, project="p1")
    in_p2 = await create_task(api, project="p2")
    await create_task(api)
    assert await ids(api, project="p1") == {in_batch["task_id"], in_p1["task_id"]}
    assert await ids(api, project="p2") == {in_p2["task_id"]}
    assert await ids(api, batch="b1") == {in_batch["task_id"]}
    assert await total(api, project="p1", batch="b1") == 1
    assert await total(api) == 4


async def test_filter_by_repeated_unique_id(api: httpx.AsyncClient) -> None:
    """Repeated unique_id keys match any of the given ids."""
    a = await create_task(api, unique_id="u-a")
    b = await create_task(api, unique_id="u-b")
    await create_task(api, unique_id="u-c")
    await create_task(api)
    assert await ids(api, unique_id=["u-a", "u-b", "u-missing"]) == {a["task_id"], b["task_id"]}
    assert await total(api, unique_id="u-a") == 1
    assert await total(api, unique_id="u-missing") == 0


async def test_filter_by_repeated_tags(api: httpx.AsyncClient) -> None:
    """tags matches tasks carrying the tag; repeated tags match tasks with any of them."""
    red = await create_task(api, tags=["red", "big"])
    blue = await create_task(api, tags=["blue"])
    await create_task(api, tags=["green"])
    await create_task(api)
    assert await ids(api, tags="red") == {red["task_id"]}
    assert await ids(api, tags="big") == {red["task_id"]}
    assert await ids(api, tags=["red", "blue"]) == {red["task_id"], blue["task_id"]}
    assert await total(api, tags="purple") == 0


async def test_filter_by_customer_review_status(
    account: Account, client_factory: ClientFactory
) -> None:
    """customer_review_status takes a comma list; `pending` means not yet reviewed."""
    test_client = client_factory(account.test_key)
    accepted, rejected, unreviewed = [await create_task(test_client) for _ in range(3)]
    ok(await test_client.post(f"/v1/task/{accepted['task_id']}/audit", json={"accepted": True}))
    ok(await test_client.post(f"/v1/task/{rejected['task_id']}/audit", json={"accepted": False}))
    assert await ids(test_client, customer_review_status="accepted") == {accepted["task_id"]}
    assert await ids(test_client, customer_review_status="accepted,rejected") == {
        accepted["task_id"],
        rejected["task_id"],
    }
    assert await ids(test_client, customer_review_status="pending") == {unreviewed["task_id"]}
    assert await total(test_client, customer_review_status="fixed") == 0
    listed = await list_tasks(test_client, customer_review_status="accepted")
    assert listed["docs"] == [ok(await test_client.get(f"/v1/task/{accepted['task_id']}"))]
    assert listed["docs"][0]["audits"][0]["audit_result"] == "accepted"
    error_of(await test_client.get("/v1/tasks", params={"customer_review_status": "meh"}), 400)


async def test_created_after_and_before_with_dates(api: httpx.AsyncClient) -> None:
    """created_after/created_before accept YYYY-MM-DD."""
    await create_many(api, 2)
    today = datetime.now(UTC).date()
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)
    assert await total(api, created_after=yesterday.isoformat()) == 2
    assert await total(api, created_after=tomorrow.isoformat()) == 0
    assert await total(api, created_before=tomorrow.isoformat()) == 2
    assert await total(api, created_before=yesterday.isoformat()) == 0
    assert await total(api, start_time=yesterday.isoformat(), end_time=tomorrow.isoformat()) == 2


@pytest.mark.parametrize(
    "render",
    [
        pytest.param(lambda t: t.strftime("%Y-%m-%d %H:%M:%S.%f"), id="space-micros"),
        pytest.param(lambda t: t.isoformat(), id="iso-utc-offset"),
        pytest.param(lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), id="iso-z"),
        pytest.param(
            lambda t: t.astimezone(timezone(timedelta(hours=2))).isoformat(), id="iso-plus-2h"
        ),
    ],
)
async def test_created_after_and_before_with_times(
    api: httpx.AsyncClient, clock: FakeClock, render: Any
) -> None:
    """created_after/created_before split tasks at a moment given in any accepted time format."""
    early = await create_many(api, 2)
    moment = render(split_moment(clock))
    late = await create_many(api, 1)
    assert await ids(api, created_after=moment) == set(late)
    assert await ids(api, created_before=moment) == set(early)
    assert await ids(api, start_time=moment) == set(late)
    assert await ids(api, end_time=moment) == set(early)


async def test_bad_time_answers_400(api: httpx.AsyncClient) -> None:
    """A time in no accepted format is a 400 that names the parameter."""
    message = error_of(await api.get("/v1/tasks", params={"created_after": "last week"}), 400)
    assert "created_after" in message


async def test_created_after_and_start_time_together_answer_400(api: httpx.AsyncClient) -> None:
    """start_time and created_after are the same filter; giving both is a 400."""
    response = await api.get(
        "/v1/tasks", params={"start_time": "2024-01-01", "created_after": "2024-01-01"}
    )
    error_of(response, 400)


async def test_filter_by_updated_after(api: httpx.AsyncClient, clock: FakeClock) -> None:
    """updated_after finds tasks changed after a moment, not those created before it."""
    made = await create_many(api, 3)
    moment = split_moment(clock)
    ok(await api.post(f"/v1/task/{made[1]}/setMetadata", json={"touched": True}))
    assert await ids(api, updated_after=moment.isoformat()) == {made[1]}
    assert await ids(api, updated_before=moment.isoformat()) == {made[0], made[2]}


async def test_filter_by_completed_after(
    api: httpx.AsyncClient, account: Account, client_factory: ClientFactory, clock: FakeClock
) -> None:
    """completed_after finds tasks completed after a moment and never pending ones."""
    test_client = client_factory(account.test_key)
    early = await create_task(test_client)
    moment = split_moment(clock)
    late = await create_task(test_client)
    await create_task(api)
    assert await ids(test_client, completed_after=moment.isoformat()) == {late["task_id"]}
    assert await ids(test_client, completed_before=moment.isoformat()) == {early["task_id"]}
    assert await total(api, completed_after="2000-01-01") == 0


async def test_limited_response_gives_four_keys(api: httpx.AsyncClient) -> None:
    """limited_response=True gives only task_id, status, metadata and project."""
    task = await create_task(api, metadata={"m": 1}, tags=["t"], unique_id="lim")
    answer = await list_tasks(api, limited_response="True")
    assert answer["docs"] == [
        {"task_id": task["task_id"], "status": "pending", "metadata": {"m": 1}, "project": None}
    ]
    full = await list_tasks(api, limited_response="False")
    assert full["docs"][0] == task


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"colour": "red"}, id="unknown-parameter"),
        pytest.param({"offset": "2"}, id="offset-is-not-a-task-filter"),
        pytest.param({"limit": "0"}, id="limit-0"),
        pytest.param({"limit": "101"}, id="limit-101"),
        pytest.param({"limit": "ten"}, id="limit-not-a-number"),
        pytest.param({"next_token": "not-a-token"}, id="next-token-garbage"),
        pytest.param({"next_token": "eyJiIjoxfQ"}, id="next-token-wrong-fields"),
        pytest.param({"limited_response": "perhaps"}, id="limited-response-not-bool"),
        pytest.param({"type": ["a", "b"]}, id="type-repeated"),
    ],
)
async def test_bad_list_parameters_answer_400(
    api: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    """Unknown or malformed list parameters are a 400, never silently ignored."""
    await create_task(api)
    error_of(await api.get("/v1/tasks", params=params), 400)


async def test_limit_bounds_are_accepted(api: httpx.AsyncClient) -> None:
    """limit=1 and limit=100 are within bounds and echoed back."""
    await create_many(api, 2)
    one = await list_tasks(api, limit=1)
    assert (len(one["docs"]), one["limit"], one["has_more"], one["total"]) == (1, 1, True, 2)
    assert (await list_tasks(api, limit=100))["limit"] == 100


async def test_other_accounts_and_environments_are_never_listed(
    api: httpx.AsyncClient,
    account: Account,
    account_factory: AccountFactory,
    client_factory: ClientFactory,
) -> None:
    """A key lists only its own account's tasks in its own environment."""
    live = set(await create_many(api, 2))
    test_client = client_factory(account.test_key)
    in_test = {(await create_task(test_client))["task_id"]}
    other_client = client_factory((await account_factory()).live_key)
    elsewhere = {(await create_task(other_client))["task_id"]}
    assert (await list_tasks(api))["total"] == 2
    assert await ids(api) == live
    assert await ids(test_client) == in_test
    assert await ids(other_client) == elsewhere
    assert await total(api, type="echo", status="pending,completed") == 2


async def test_task_is_listed_by_unique_id_right_after_create(api: httpx.AsyncClient) -> None:
    """A created task is found by ?unique_id= as soon as its create answered."""
    for n in range(5):
        task = await create_task(api, unique_id=f"now-{n}")
        answer = await list_tasks(api, unique_id=f"now-{n}")
        assert [doc["task_id"] for doc in answer["docs"]] == [task["task_id"]]
