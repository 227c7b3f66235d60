"""The dashboard is scoped like the API: one account and environment, the key's scopes."""

from __future__ import annotations

import httpx

from hookline.models import Environment, Scope
from hookline.store import Store
from tests.api.support import create_task
from tests.conftest import Account, AccountFactory, ClientFactory
from tests.ui.support import csrf_of, signed_in_client


async def test_other_accounts_task_is_a_404_page(
    web: httpx.AsyncClient,
    client_factory: ClientFactory,
    account: Account,
    account_factory: AccountFactory,
) -> None:
    """Another account's task id answers the same 404 page as an unknown id."""
    other = await account_factory()
    theirs = await create_task(client_factory(other.live_key), instruction="secret-instruction")
    await signed_in_client(web, account.live_key)
    page = await web.get(f"/ui/tasks/{theirs['task_id']}")
    assert page.status_code == 404
    assert "secret-instruction" not in page.text
    assert f"Task {theirs['task_id']} not found" in page.text
    listing = await web.get("/ui/tasks")
    assert theirs["task_id"] not in listing.text
    resend = await web.post(
        f"/ui/tasks/{theirs['task_id']}/resend", data={"csrf": csrf_of(listing)}
    )
    assert resend.status_code == 404


async def test_test_key_sees_no_live_tasks(
    web: httpx.AsyncClient, client_factory: ClientFactory, account: Account
) -> None:
    """A test key's pages show the test environment only."""
    live = await create_task(client_factory(account.live_key))
    await signed_in_client(web, account.test_key)
    assert live["task_id"] not in (await web.get("/ui/tasks")).text
    assert (await web.get(f"/ui/tasks/{live['task_id']}")).status_code == 404


async def test_key_without_submit_scope_gets_no_buttons(
    web: httpx.AsyncClient,
    client_factory: ClientFactory,
    account_factory: AccountFactory,
    store: Store,
) -> None:
    """A work-only key sees no resend button and no replay form, and cannot post them."""
    worker = await account_factory(scopes=frozenset({Scope.WORK}))
    submit_key = await store.accounts.create_key(
        account=worker.name, environment=Environment.TEST, scopes=[Scope.SUBMIT]
    )
    task = await create_task(client_factory(submit_key), callback_url="https://example.com/cb")
    await signed_in_client(web, worker.test_key)
    page = await web.get(f"/ui/tasks/{task['task_id']}")
    assert page.status_code == 200
    assert "Resend callback" not in page.text
    assert f"/ui/tasks/{task['task_id']}/resend" not in page.text
    deliveries = await web.get("/ui/deliveries")
    assert 'data-testid="replay"' not in deliveries.text
    for path, form in (
        ("/ui/deliveries/replay", {"since": "2020-01-01"}),
        (f"/ui/tasks/{task['task_id']}/resend", {}),
    ):
        refused = await web.post(path, data={"csrf": csrf_of(deliveries), **form})
        assert refused.status_code == 403, path
        assert "lacks the &#39;submit&#39; scope" in refused.text
