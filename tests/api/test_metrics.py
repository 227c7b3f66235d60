"""`GET /metrics`: names, labels and values after a known workload, in-process."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Mapping

import httpx
from prometheus_client.parser import text_string_to_metric_families

from hookline.config import MetricsSettings, Settings
from hookline.errors import Unavailable
from hookline.ingress import create_app, create_health_app
from hookline.ingress.metrics import app_metrics
from hookline.metrics import Metrics
from hookline.models import Scope
from hookline.store import Store
from tests.api.support import create_task, error_of, ok
from tests.conftest import AccountFactory, ClientFactory

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, keyed by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(client: httpx.AsyncClient, path: str = "/metrics") -> Samples:
    answer = await client.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return parse(answer.text)


def with_metrics(settings: Settings, **values: object) -> Settings:
    return dataclasses.replace(settings, metrics=MetricsSettings(**values))  # type: ignore[arg-type]


async def test_counts_a_known_workload_exactly(
    client_factory: ClientFactory, account_factory: AccountFactory
) -> None:
    """Creates, duplicates, claims, completions, failures and cancels are counted as they commit."""
    account = await account_factory()
    api = client_factory(account.live_key)
    tasks = [await create_task(api, "label", unique_id=f"u{i}") for i in range(4)]
    error_of(await api.post("/v1/task/label", json={"unique_id": "u0"}), 409)  # not counted
    await create_task(client_factory(account.test_key), "label")  # completed at once
    claimed = []
    for _ in range(2):
        answer = ok(await api.post("/v1/work/claim", json={"worker": "w", "types": ["label"]}))
        claimed.append(answer["task"]["task_id"])
    ok(await api.post(f"/v1/task/{claimed[0]}/complete", json={"worker": "w", "response": {}}))
    ok(await api.post(f"/v1/task/{claimed[1]}/fail", json={"worker": "w", "error": "no"}))
    pending = [t["task_id"] for t in tasks if t["task_id"] not in claimed]
    ok(await api.post(f"/v1/task/{pending[0]}/cancel"))
    ok(await api.get(f"/v1/task/{pending[1]}"))
    error_of(await api.get("/v1/no/such/path"), 404)

    text = (await client_factory(None).get("/metrics")).text
    samples = parse(text)
    created = "hookline_tasks_created_total"
    assert value(samples, created, type="label", environment="live") == 4
    assert value(samples, created, type="label", environment="test") == 1
    finished = "hookline_tasks_finished_total"
    assert value(samples, finished, type="label", status="completed") == 2  # one by the test key
    assert value(samples, finished, type="label", status="error") == 1
    assert value(samples, finished, type="label", status="canceled") == 1
    assert value(samples, "hookline_task_wait_seconds_count") == 2
    requests = "hookline_http_requests_total"
    assert value(samples, requests, route="/v1/task/{key}", status="200") == 6  # 5 creates, 1 get
    assert value(samples, requests, route="/v1/task/{key}", status="409") == 1
    assert value(samples, requests, route="/v1/work/claim", status="200") == 2
    assert value(samples, requests, route="/v1/task/{task_id}/cancel", status="200") == 1
    assert value(samples, requests, route="unmatched", status="404") == 1
    assert value(samples, "hookline_http_request_seconds_count", route="/v1/task/{key}") == 7
    # Labels are templates: no task id, unique_id or raw path appears anywhere.
    for task_id in [t["task_id"] for t in tasks]:
        assert task_id not in text
    assert "/v1/no/such/path" not in text
    assert re.search(r'hookline_queue_depth\{kind="tasks"\} \d', text)
    assert re.search(r'hookline_queue_depth\{kind="deliveries"\} \d', text)


async def test_requests_answered_before_routing_are_named_by_their_route(
    client_factory: ClientFactory, account_factory: AccountFactory, settings: Settings
) -> None:
    """A 413 (refused from Content-Length, before the router) counts under its route's
    template, as a routed request does; a 405 under the route whose path matched."""
    account = await account_factory()
    small = dataclasses.replace(
        settings, limits=dataclasses.replace(settings.limits, max_body_bytes=2048)
    )
    api = client_factory(account.live_key, settings_=small)
    error_of(await api.post("/v1/task/label", json={"instruction": "x" * 4096}), 413)
    error_of(await api.post("/v1/task/label", json={"instruction": "x" * 4096}), 413)
    await create_task(api, "label")
    error_of(await api.delete("/v1/tasks"), 405)
    samples = await scrape(api)
    requests = "hookline_http_requests_total"
    assert value(samples, requests, route="/v1/task/{key}", status="413") == 2
    assert value(samples, requests, route="/v1/task/{key}", status="200") == 1
    assert value(samples, requests, route="/v1/tasks", status="405") == 1
    assert value(samples, "hookline_http_request_seconds_count", route="/v1/task/{key}") == 3


async def test_a_fresh_app_counts_from_zero(
    store: Store, settings: Settings, account_factory: AccountFactory
) -> None:
    """Each app has its own registry: counters of another app in the process do not show."""
    account = await account_factory()
    for _ in range(2):
        app = create_app(store=store, settings=settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", auth=(account.live_key, "")
        ) as client:
            await create_task(client, "label")
            samples = await scrape(client)
        created = "hookline_tasks_created_total"
        assert value(samples, created, type="label", environment="live") == 1


async def test_types_past_max_types_fold_into_other(
    client_factory: ClientFactory, settings: Settings, account_factory: AccountFactory
) -> None:
    """Configured types are named first; types past metrics.max_types count as `other`."""
    account = await account_factory()
    folded = with_metrics(settings, max_types=3)  # echo (configured), then t0 and t1
    api = client_factory(account.live_key, settings_=folded)
    for name in ("t0", "t1", "t2", "t3", "t2", "t0"):
        await create_task(api, name)
    samples = await scrape(api)
    created = "hookline_tasks_created_total"
    named = {
        dict(labels)["type"]
        for (name, labels), _ in samples.items()
        if name == created and dict(labels)["environment"] == "live"
    }
    assert named == {"t0", "t1", "other"}
    assert value(samples, created, type="t0", environment="live") == 2
    assert value(samples, created, type="other", environment="live") == 3


class CountingRead:
    """A queue-depth read that counts its calls and answers fixed depths."""

    def __init__(self, depths: Mapping[str, int] | None = None, *, fail: bool = False) -> None:
        self.calls = 0
        self.depths = dict(depths or {"tasks": 7, "deliveries": 3})
        self.fail = fail

    async def __call__(self) -> Mapping[str, int]:
        self.calls += 1
        await asyncio.sleep(0.01)  # concurrent scrapes overlap the read
        if self.fail:
            raise Unavailable("database is down")
        return self.depths


def client_for(store: Store, settings: Settings, metrics: Metrics) -> httpx.AsyncClient:
    app = create_app(store=store, settings=settings, metrics=metrics)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_queue_depth_is_read_at_most_once_a_second(store: Store, settings: Settings) -> None:
    """Twenty scrapes in a row, and ten at once, read the database once; a second later again."""
    now = [100.0]
    read = CountingRead()
    metrics = Metrics(queue_depth=read, clock=lambda: now[0])
    async with client_for(store, settings, metrics) as client:
        for _ in range(20):
            samples = await scrape(client)
        assert read.calls == 1
        assert value(samples, "hookline_queue_depth", kind="tasks") == 7
        assert value(samples, "hookline_queue_depth", kind="deliveries") == 3
        now[0] += 1.01
        read.depths = {"tasks": 1, "deliveries": 0}
        answers = await asyncio.gather(*(scrape(client) for _ in range(10)))
        assert read.calls == 2
        assert {value(a, "hookline_queue_depth", kind="tasks") for a in answers} == {1}


async def test_queue_depth_with_the_real_clock_and_store(
    store: Store, settings: Settings, account_factory: AccountFactory
) -> None:
    """With the store's own query, 20 quick scrapes read the database at most twice and count
    the pending tasks."""
    account = await account_factory()
    counted = CountingRead()
    before = (await store.stats.queue_depth())["tasks"]

    async def read() -> Mapping[str, int]:
        await counted()
        return await store.stats.queue_depth()

    metrics = Metrics(queue_depth=read)
    async with client_for(store, settings, metrics) as client:
        client.auth = (account.live_key, "")
        for _ in range(3):
            await create_task(client, "label")
        for _ in range(20):
            samples = await scrape(client)
    assert counted.calls <= 2
    assert value(samples, "hookline_queue_depth", kind="tasks") == before + 3


async def test_an_unreadable_queue_depth_leaves_the_gauge_out(
    store: Store, settings: Settings
) -> None:
    """A database that does not answer costs the gauge, not the scrape."""
    read = CountingRead(fail=True)
    async with client_for(store, settings, Metrics(queue_depth=read)) as client:
        samples = await scrape(client)
    assert read.calls == 1
    assert not [key for key in samples if key[0] == "hookline_queue_depth"]
    assert value(samples, "hookline_task_wait_seconds_count") == 0  # the rest is there


async def test_require_key_asks_for_an_admin_key(
    client_factory: ClientFactory, settings: Settings, account_factory: AccountFactory
) -> None:
    """With metrics.require_key, no key is a 401, a key without admin a 403, an admin key 200."""
    locked = with_metrics(settings, require_key=True)
    admin = await account_factory()
    submitter = await account_factory(scopes=frozenset({Scope.SUBMIT}))
    error_of(await client_factory(None, settings_=locked).get("/metrics"), 401)
    error_of(await client_factory(submitter.live_key, settings_=locked).get("/metrics"), 403)
    await scrape(client_factory(admin.live_key, settings_=locked))
    document = ok(await client_factory(None, settings_=locked).get("/v1/openapi.json"))
    assert "security" not in document["paths"]["/metrics"]["get"]


async def test_the_worker_health_port_serves_metrics(store: Store, settings: Settings) -> None:
    """A worker's health app answers /metrics with the process's metrics and queue depths."""
    metrics = app_metrics(store, settings)
    metrics.task_finished("label", "completed")
    app = create_health_app(store=store, settings=settings, metrics=metrics)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        samples = await scrape(client)
    finished = "hookline_tasks_finished_total"
    assert value(samples, finished, type="label", status="completed") == 1
    assert ("hookline_queue_depth", (("kind", "tasks"),)) in samples
