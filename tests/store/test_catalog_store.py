"""Projects, batches and files on each backend: create, read, list, paging, scoping, versions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from hookline.errors import DuplicateName, Invalid, NotFound
from hookline.models import BatchStatus, Principal, TaskStatus
from hookline.store import Store, open_store
from tests.conftest import Account, AccountFactory
from tests.store.conftest import new_task


async def batch(store: Store, who: Principal, name: str, project: str = "p") -> None:
    await store.batches.create_batch(
        who,
        name=name,
        project=project,
        callback=None,
        metadata={},
        calibration_batch=False,
        self_label_batch=False,
    )


async def test_project_params_keep_every_version(database_url: str, account: Account) -> None:
    """Each setParams merges over the last version into a new one, stamped with the clock."""
    times = iter(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(10))
    store = open_store(database_url, clock=lambda: next(times))
    try:
        await store.projects.create_project(account.live, name="p", type="echo", params={"a": 1})
        await store.projects.set_project_params(account.live, "p", {"b": 2})
        last = await store.projects.set_project_params(account.live, "p", {"a": 3})
        got = await store.projects.get_project(account.live, "p")
    finally:
        await store.close()
    assert got == last
    assert [v.version for v in got.param_history] == [0, 1, 2]
    assert [v.params for v in got.param_history] == [{"a": 1}, {"a": 1, "b": 2}, {"a": 3, "b": 2}]
    assert got.params == {"a": 3, "b": 2}
    assert [v.created_at.hour for v in got.param_history] == [0, 1, 2]


async def test_project_names_are_unique_per_account_and_environment(
    store: Store, account_factory: AccountFactory
) -> None:
    """A name is taken once per environment; another environment or account does not see it."""
    one, other = await account_factory(), await account_factory()
    await store.projects.create_project(one.live, name="p", type="echo", params={})
    with pytest.raises(DuplicateName):
        await store.projects.create_project(one.live, name="p", type="other", params={})
    await store.projects.create_project(one.test, name="p", type="other", params={})
    await store.projects.create_project(one.live, name="q", type="echo", params={})
    assert [p.name for p in await store.projects.list_projects(one.live)] == ["p", "q"]
    assert [p.type for p in await store.projects.list_projects(one.test)] == ["other"]
    assert await store.projects.list_projects(other.live) == []
    with pytest.raises(NotFound):
        await store.projects.get_project(other.live, "p")
    with pytest.raises(NotFound):
        await store.projects.set_project_params(other.live, "p", {"x": 1})


async def test_batches_need_their_project_and_start_by_environment(
    store: Store, account: Account
) -> None:
    """A batch names an existing project; live batches are staged, test ones in progress."""
    with pytest.raises(Invalid, match="does not exist"):
        await batch(store, account.live, "b")
    for who in (account.live, account.test):
        await store.projects.create_project(who, name="p", type="echo", params={})
        await batch(store, who, "b")
    with pytest.raises(DuplicateName):
        await batch(store, account.live, "b")
    assert (await store.batches.get_batch(account.live, "b")).status is BatchStatus.STAGING
    assert (await store.batches.get_batch(account.test, "b")).status is BatchStatus.IN_PROGRESS


async def test_list_batches_filters_and_pages(store: Store, account: Account) -> None:
    """Oldest first, limit and offset, and the total for the filter rather than the page."""
    for project in ("p", "q"):
        await store.projects.create_project(account.live, name=project, type="echo", params={})
    for i in range(5):
        await batch(store, account.live, f"b{i}", project="p" if i < 4 else "q")
    await store.batches.finalize_batch(account.live, "b1")

    async def names(**where: object) -> tuple[list[str], int]:
        query: dict[str, object] = {
            "project": None,
            "status": None,
            "created_after": None,
            "created_before": None,
            "limit": 10,
            "offset": 0,
        }
        docs, total = await store.batches.list_batches(account.live, **(query | where))  # type: ignore[arg-type]
        return [b.name for b in docs], total

    assert await names() == (["b0", "b1", "b2", "b3", "b4"], 5)
    assert await names(limit=2, offset=1) == (["b1", "b2"], 5)
    assert await names(project="p", offset=3) == (["b3"], 4)
    assert await names(status=BatchStatus.IN_PROGRESS) == (["b1"], 1)
    assert await names(status=BatchStatus.STAGING, project="q") == (["b4"], 1)
    assert await store.batches.list_batches(
        account.test,
        project=None,
        status=None,
        created_after=None,
        created_before=None,
        limit=10,
        offset=0,
    ) == ([], 0)


async def test_finalize_completes_a_batch_once_no_task_is_pending(
    store: Store, account: Account
) -> None:
    """Finalizing is idempotent; the last pending task's finish completes a finalized batch."""
    await store.projects.create_project(account.live, name="p", type="echo", params={})
    await batch(store, account.live, "b")
    in_batch = dataclasses.replace(new_task(callback_url=None), project="p", batch="b")
    done = await store.tasks.create(account.live, in_batch, completed_response={"ok": True})
    pending = await store.tasks.create(account.live, in_batch)
    first = await store.batches.finalize_batch(account.live, "b")
    again = await store.batches.finalize_batch(account.live, "b")
    assert first.status is again.status is BatchStatus.IN_PROGRESS
    assert first.finalized_at == again.finalized_at is not None
    _, counts = await store.batches.batch_counts(account.live, "b")
    assert counts == {"pending": 1, "completed": 1, "canceled": 0, "error": 0}

    await store.operations.cancel(account.live, pending.id, clear_unique_id=False)
    finished, counts = await store.batches.batch_counts(account.live, "b")
    assert finished.status is BatchStatus.COMPLETED
    assert counts[TaskStatus.CANCELED] == 1
    assert done.batch == "b"


async def test_batch_metadata_and_task_context(
    store: Store, account_factory: AccountFactory
) -> None:
    """Metadata is replaced; a task's batch brings its project; others' names are not found."""
    one, other = await account_factory(), await account_factory()
    await store.projects.create_project(one.live, name="p", type="echo", params={"k": 1})
    await batch(store, one.live, "b")
    updated = await store.batches.set_batch_metadata(one.live, "b", {"x": [1, 2]})
    assert updated.metadata == {"x": [1, 2]}
    assert (await store.batches.get_batch(one.live, "b")).metadata == {"x": [1, 2]}
    project, found = await store.projects.task_context(one.live, project=None, batch="b")
    assert (project and project.params, found and found.name) == ({"k": 1}, "b")
    assert await store.projects.task_context(one.live, project=None, batch=None) == (None, None)
    with pytest.raises(Invalid, match="POST /v1/batches"):
        await store.projects.task_context(other.live, project=None, batch="b")
    with pytest.raises(Invalid, match="POST /v1/projects"):
        await store.projects.task_context(other.live, project="p", batch=None)
    with pytest.raises(NotFound):
        await store.batches.set_batch_metadata(other.live, "b", {})
    with pytest.raises(NotFound):
        await store.batches.batch_counts(other.live, "b")


async def test_files_are_kept_per_account_and_environment(
    store: Store, account_factory: AccountFactory
) -> None:
    """A recorded file reads back whole in its scope, and is not found from any other."""
    one, other = await account_factory(), await account_factory()
    file_id = store.files.new_file_id()
    assert file_id != store.files.new_file_id()
    stored = await store.files.add_file(
        one.live,
        file_id=file_id,
        filename="a.txt",
        content_type="text/plain",
        size_bytes=3,
        sha256="ab" * 32,
        storage_path="files/a",
    )
    imported = await store.files.add_file(one.live, source_url="https://example.com/x.png")
    assert stored.id == file_id
    assert await store.files.get_file(one.live, file_id) == stored
    assert (await store.files.get_file(one.live, imported.id)).source_url == (
        "https://example.com/x.png"
    )
    assert imported.filename is None
    for who in (one.test, other.live):
        with pytest.raises(NotFound):
            await store.files.get_file(who, file_id)
