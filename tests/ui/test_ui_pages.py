"""Each dashboard page renders the signed-in key's data; pagination; actions by form."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from hookline.schedule import Next
from hookline.store import Store
from hookline.store.deliveries import AttemptRecord
from tests.api.support import create_task, ok
from tests.conftest import Account, ClientFactory
from tests.ui.support import csrf_of, signed_in_client

CALLBACK = "https://hooks.example.com/cb"


async def _fail_callbacks(store: Store, account: Account, task_ids: set[str]) -> None:
    """Record one refused attempt for each of the tasks' deliveries, the last one."""
    mine = {
        d.id for task_id in task_ids for d in await store.deliveries.for_task(account.test, task_id)
    }
    await store.deliveries.claim(worker="ui-test", limit=10_000, lease_s=30)
    for delivery_id in mine:
        await store.deliveries.record(
            "ui-test",
            AttemptRecord(
                delivery_id=delivery_id,
                at=store.db.clock(),
                status_code=503,
                error=None,
                duration_ms=12.5,
                body="unavailable",
                next=Next.FAILED,
                next_attempt_at=None,
            ),
        )


async def test_overview_counts(
    web: httpx.AsyncClient, client_factory: ClientFactory, account: Account
) -> None:
    """The overview counts the key's tasks by status and what happened in the last hour."""
    api = client_factory(account.live_key)
    for i in range(3):
        await create_task(api, instruction=f"t{i}")
    await signed_in_client(web, account.live_key)
    page = await web.get("/ui/")
    assert page.status_code == 200
    depths = page.text.split('data-testid="task-depths"')[1].split("</table>")[0]
    assert re.search(r">pending</a></th><td class=\"num\">3<", depths), depths
    hour = page.text.split('data-testid="last-hour"')[1].split("</table>")[0]
    assert re.search(r"<th>created</th><td class=\"num\">3<", hour), hour
    assert "No delivery has failed." in page.text


async def test_tasks_filter_by_status_and_tag(
    web: httpx.AsyncClient, client_factory: ClientFactory, account: Account
) -> None:
    """The status and tag filters narrow the list as the API's do."""
    api = client_factory(account.test_key)  # test tasks complete when created
    tagged = await create_task(api, tags=["red"])
    plain = await create_task(api)
    await signed_in_client(web, account.test_key)
    page = await web.get("/ui/tasks", params={"tag": "red", "status": "completed"})
    assert page.status_code == 200
    assert tagged["task_id"] in page.text
    assert plain["task_id"] not in page.text
    none = await web.get("/ui/tasks", params={"status": "pending"})
    assert "No task matches." in none.text


async def test_tasks_bad_filter_is_a_400_page(web: httpx.AsyncClient, account: Account) -> None:
    """A filter the API refuses is shown with the API's message, as a 400."""
    await signed_in_client(web, account.live_key)
    page = await web.get("/ui/tasks", params={"created_after": "yesterday"})
    assert page.status_code == 400
    assert "is not a date or time" in page.text


async def test_tasks_pagination(
    web: httpx.AsyncClient, client_factory: ClientFactory, account: Account
) -> None:
    """Next-page links follow the API's cursor; every task appears exactly once."""
    api = client_factory(account.live_key)
    created = [(await create_task(api, project=None))["task_id"] for _ in range(60)]
    await signed_in_client(web, account.live_key)
    seen: list[str] = []
    url: str | None = "/ui/tasks"
    pages = 0
    while url is not None and pages < 5:
        page = await web.get(url)
        assert page.status_code == 200
        seen += re.findall(r'<td><a href="/ui/tasks/([0-9a-f]{24})">', page.text)
        found = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        url = found.group(1).replace("&amp;", "&") if found else None
        pages += 1
    assert pages == 2
    assert seen == sorted(created, reverse=True)
    assert "Tasks 51\u201360 of 60" in page.text


async def test_task_page_shows_timeline_audits_and_attempts(
    web: httpx.AsyncClient, client_factory: ClientFactory, account: Account, store: Store
) -> None:
    """A task's page has its fields, params, response, timeline, audits and attempts."""
    api = client_factory(account.test_key)
    task = await create_task(api, callback_url=CALLBACK, tags=["t1"], params={"n": 7})
    ok(await api.post(f"/v1/task/{task['task_id']}/audit", json={"accepted": True}))
    await _fail_callbacks(store, account, {task["task_id"]})
    await signed_in_client(web, account.test_key)
    page = await web.get(f"/ui/tasks/{task['task_id']}")
    assert page.status_code == 200
    text = page.text
    assert "&#34;n&#34;: 7" in text  # params, escaped JSON
    timeline = text.split('data-testid="timeline"')[1].split("</table>")[0]
    assert "created" in timeline
    assert "audited" in timeline
    audits = text.split('data-testid="audits"')[1].split("</table>")[0]
    assert "accepted" in audits
    attempts = text.split('data-testid="attempts"')[1].split("</table>")[0]
    assert "503" in attempts
    assert "12.5 ms" in attempts
    assert "Resend callback" in text


async def test_resend_adds_a_pending_delivery(
    web: httpx.AsyncClient, client_factory: ClientFactory, account: Account, store: Store
) -> None:
    """Pressing resend re-queues the task's failed callback and says so."""
    api = client_factory(account.test_key)
    task = await create_task(api, callback_url=CALLBACK)
    await _fail_callbacks(store, account, {task["task_id"]})
    await signed_in_client(web, account.test_key)
    page = await web.get(f"/ui/tasks/{task['task_id']}")
    answer = await web.post(f"/ui/tasks/{task['task_id']}/resend", data={"csrf": csrf_of(page)})
    assert answer.status_code == 303
    after = await web.get(answer.headers["location"])
    assert "The callback is queued to be sent again." in after.text
    [delivery] = await store.deliveries.for_task(account.test, task["task_id"])
    assert delivery.status.value == "pending"
    timeline = after.text.split('data-testid="timeline"')[1].split("</table>")[0]
    assert "callback_resent" in timeline


async def test_deliveries_page_and_replay(
    web: httpx.AsyncClient, client_factory: ClientFactory, account: Account, store: Store
) -> None:
    """Failed deliveries are listed; replay since T queues them again."""
    api = client_factory(account.test_key)
    tasks = {(await create_task(api, callback_url=CALLBACK))["task_id"] for _ in range(2)}
    await _fail_callbacks(store, account, tasks)
    await signed_in_client(web, account.test_key)
    overview = await web.get("/ui/")
    assert all(t in overview.text for t in tasks)
    page = await web.get("/ui/deliveries")
    assert all(t in page.text for t in tasks)
    since = (store.db.clock() - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M")
    answer = await web.post("/ui/deliveries/replay", data={"csrf": csrf_of(page), "since": since})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/deliveries?replayed=2"
    after = await web.get(answer.headers["location"])
    assert "2 failed deliveries queued again." in after.text
    assert not any(t in after.text for t in tasks)


async def test_replay_with_a_bad_time_is_a_400_page(
    web: httpx.AsyncClient, account: Account
) -> None:
    """A replay time that is not a time is refused with the parameter's name."""
    await signed_in_client(web, account.live_key)
    page = await web.get("/ui/deliveries")
    answer = await web.post("/ui/deliveries/replay", data={"csrf": csrf_of(page), "since": "x"})
    assert answer.status_code == 400
    assert "&#39;since&#39; is not a date or time" in answer.text


async def test_workers_page(
    web: httpx.AsyncClient, client_factory: ClientFactory, account: Account
) -> None:
    """The workers page says how workers appear, then lists one once it holds a lease."""
    await signed_in_client(web, account.live_key)
    empty = await web.get("/ui/workers")
    assert 'data-testid="no-workers"' in empty.text
    api = client_factory(account.live_key)
    await create_task(api)
    claimed = ok(await api.post("/v1/work/claim", json={"worker": "worker-ui-1"}))
    assert claimed["task"] is not None
    page = await web.get("/ui/workers")
    leases = page.text.split('data-testid="leases"')[1].split("</table>")[0]
    assert "worker-ui-1" in leases
    claims = page.text.split('data-testid="claims"')[1].split("</table>")[0]
    assert "worker-ui-1" in claims


async def test_static_css_is_served(web: httpx.AsyncClient) -> None:
    """The stylesheet comes from the package."""
    answer = await web.get("/ui/static/ui.css")
    assert answer.status_code == 200
    assert "text/css" in answer.headers["content-type"]


async def test_unknown_page_is_a_404_page(web: httpx.AsyncClient, account: Account) -> None:
    """An unknown dashboard path is an HTML 404 page."""
    await signed_in_client(web, account.live_key)
    answer = await web.get("/ui/nothing-here")
    assert answer.status_code == 404
    assert "text/html" in answer.headers["content-type"]
