"""The edge's bounds are what both backends bind: the largest accepted values work in the store."""

from __future__ import annotations

import traceback
import uuid
from datetime import UTC, datetime

import pytest

from hookline.errors import StoreFailed
from hookline.ingress.query import INT32_MAX, INT64_MAX
from hookline.ingress.trail import AUDIT_ID_MAX, EVENT_ID_MAX
from hookline.models import AuditFilter, DeliveryStatus, EventFilter, TaskFilter
from hookline.store import Store
from hookline.submission import MAX_PRIORITY, MIN_PRIORITY
from tests.conftest import Account, new_task

FIRST = datetime(1, 1, 1, tzinfo=UTC)
LAST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


@pytest.mark.parametrize("priority", [MIN_PRIORITY, MAX_PRIORITY])
async def test_priority_at_the_bounds_is_stored_and_read_back(
    store: Store, account: Account, priority: int
) -> None:
    """The smallest and largest priorities the edge accepts round-trip on each backend."""
    created = await store.tasks.create(account.live, new_task(priority=priority))
    assert (await store.tasks.get(account.live, created.id)).priority == priority


async def test_largest_batch_offset_answers_an_empty_page(store: Store, account: Account) -> None:
    """An offset of 2**63 - 1 binds on each backend and finds nothing."""
    docs, total = await store.batches.list_batches(
        account.live,
        project=None,
        status=None,
        created_after=FIRST,
        created_before=LAST,
        limit=100,
        offset=INT64_MAX,
    )
    assert (docs, total) == ([], 0)


async def test_largest_trail_ids_answer_empty_pages(store: Store, account: Account) -> None:
    """The largest event and audit ids a token may name bind and find nothing."""
    created = await store.tasks.create(account.live, new_task())
    assert EVENT_ID_MAX == INT64_MAX
    assert AUDIT_ID_MAX == INT32_MAX
    events, more = await store.events.events(
        account.live, EventFilter(task_id=created.id), after_id=EVENT_ID_MAX, limit=100
    )
    assert (events, more) == ([], False)
    audits, more = await store.events.audits(
        account.live, AuditFilter(), after_id=AUDIT_ID_MAX, limit=100
    )
    assert (audits, more) == ([], False)


async def test_first_and_last_instants_filter_on_each_backend(
    store: Store, account: Account
) -> None:
    """Time filters at 0001-01-01 and 9999-12-31T23:59:59.999999 UTC bind and match."""
    created = await store.tasks.create(account.live, new_task())
    page = await store.tasks.page(
        account.live,
        TaskFilter(created_after=FIRST, created_before=LAST, updated_after=FIRST),
        limit=10,
    )
    assert [t.id for t in page.docs] == [created.id]
    events, _ = await store.events.events(
        account.live, EventFilter(since=FIRST, until=LAST), after_id=None, limit=10
    )
    assert [e.action for e in events] == ["created"]
    replayed = await store.deliveries.replay(
        account.live, status=DeliveryStatus.FAILED, since=FIRST, until=LAST
    )
    assert replayed == 0


async def test_a_failed_statement_hides_its_parameters(
    backend: str, store: Store, account: Account
) -> None:
    """A value PostgreSQL refuses becomes StoreFailed naming SQLSTATE, and nothing quotes it."""
    if backend != "postgresql":
        pytest.skip("SQLite stores NUL; only PostgreSQL refuses it")
    secret = uuid.uuid4().hex
    with pytest.raises(StoreFailed) as caught:
        await store.tasks.get(account.live, f"{secret}\x00")
    assert caught.value.detail == "DBAPIError: CharacterNotInRepertoireError (SQLSTATE 22021)"
    printed = "".join(traceback.format_exception(caught.value))
    assert secret not in printed
    assert "[SQL:" not in printed
