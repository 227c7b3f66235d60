"""Shared fixtures: a migrated database per backend, accounts, and an in-process API client.

Every test works in an account of its own, so tests share one migrated
database per backend and session. PostgreSQL runs when HOOKLINE_TEST_PG_URL
is set (CI sets it) and is skipped otherwise; each session creates a database
of its own on that server and drops it at the end.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from hookline.config import Settings, load_settings
from hookline.ingress import create_app
from hookline.models import ALL_SCOPES, Environment, Principal, Scope
from hookline.store import Store, open_store

PG_URL = os.environ.get("HOOKLINE_TEST_PG_URL")
PG_SKIP_REASON = "HOOKLINE_TEST_PG_URL is not set"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[pytest.mark.pg, pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)],
    ),
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    """Report every PostgreSQL skip from one place, so that `-ra` folds them into one line.

    A skipif mark is reported at each test's own line, which made a plain `pytest`
    end with one line per PostgreSQL test; other skips keep their own lines.
    """
    report: pytest.TestReport = yield
    if (
        report.skipped
        and isinstance(report.longrepr, tuple)
        and report.longrepr[2].endswith(PG_SKIP_REASON)
    ):
        report.longrepr = (
            __file__,
            None,
            f"{PG_SKIP_REASON}: PostgreSQL tests skipped "
            "(e.g. HOOKLINE_TEST_PG_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test)",
        )
    return report


async def create_database(url: str) -> str:
    """A new, empty database on the server of `url`; its URL."""
    name = f"hookline_test_{uuid.uuid4().hex[:12]}"
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str, admin_url: str) -> None:
    name = sa.make_url(url).database
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def _migrate(url: str) -> None:
    store = open_store(url)
    try:
        await store.migrate()
    finally:
        await store.close()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per backend for the whole session (on PostgreSQL, a new one)."""
    urls = {"sqlite": f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'hookline.db'}"}
    if PG_URL:
        urls["postgresql"] = asyncio.run(create_database(PG_URL))
    for url in urls.values():
        asyncio.run(_migrate(url))
    yield urls
    if PG_URL:
        asyncio.run(drop_database(urls["postgresql"], PG_URL))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, database_urls: dict[str, str]) -> str:
    return database_urls[backend]


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = open_store(database_url)
    yield opened
    await opened.close()


_accounts = itertools.count()


def unique_name(prefix: str = "acct") -> str:
    return f"{prefix}-{next(_accounts)}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Account:
    name: str
    live_key: str
    test_key: str
    live: Principal
    test: Principal


AccountFactory = Callable[..., Awaitable[Account]]


@pytest.fixture
def account_factory(store: Store) -> AccountFactory:
    """`await account_factory(scopes=...)`: a fresh account with a live and a test key."""

    async def make(*, scopes: frozenset[Scope] = ALL_SCOPES, name: str | None = None) -> Account:
        name = name or unique_name()
        live_key = await store.accounts.create_key(
            account=name, environment=Environment.LIVE, scopes=scopes
        )
        test_key = await store.accounts.create_key(
            account=name, environment=Environment.TEST, scopes=scopes
        )
        live = await store.accounts.authenticate(live_key)
        test = await store.accounts.authenticate(test_key)
        assert live is not None
        assert test is not None
        return Account(name=name, live_key=live_key, test_key=test_key, live=live, test=test)

    return make


@pytest.fixture
async def account(account_factory: AccountFactory) -> Account:
    return await account_factory()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        environ={
            "HOOKLINE_DATABASE_URL": database_url,
            "HOOKLINE_FILES_DIR": str(tmp_path / "files"),
        }
    )


ClientFactory = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def client_factory(store: Store, settings: Settings) -> AsyncIterator[ClientFactory]:
    """`client_factory(key)`: an httpx client for the app in-process, authenticated by `key`."""
    app = create_app(store=store, settings=settings)
    clients: list[httpx.AsyncClient] = []

    def make(key: str | None = None, *, settings_: Settings | None = None) -> httpx.AsyncClient:
        target = app if settings_ is None else create_app(store=store, settings=settings_)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=target),
            base_url="http://testserver",
            auth=(key, "") if key else None,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def api(client_factory: ClientFactory, account: Account) -> httpx.AsyncClient:
    """A client authenticated with the `account` fixture's live key."""
    return client_factory(account.live_key)
