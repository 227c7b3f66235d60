"""The store: the only package that talks to the database.

`Store` groups one object per concept (accounts, tasks, catalog); each method
is one use case in one transaction.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

import sqlalchemy as sa

from hookline.config import DatabaseSettings
from hookline.store.accounts import AccountStore
from hookline.store.base import Database, translated_errors, utc_now
from hookline.store.catalog import CatalogStore
from hookline.store.deliveries import DeliveryStore
from hookline.store.dialect import CALLBACKS_CHANNEL, WORK_CHANNEL, create_engines
from hookline.store.events import EventStore
from hookline.store.listen import listen
from hookline.store.migrate import SchemaState, migrate, schema_state
from hookline.store.signals import Signals
from hookline.store.stats import StatsStore
from hookline.store.tasks import TaskStore
from hookline.store.work import WorkStore

__all__ = ["SchemaState", "Store", "open_store"]


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.accounts = AccountStore(db)
        self.tasks = TaskStore(db)
        self.catalog = CatalogStore(db)
        self.work = WorkStore(db)
        self.events = EventStore(db)
        self.deliveries = DeliveryStore(db)
        self.stats = StatsStore(db)

    @property
    def dialect(self) -> str:
        return self.db.dialect

    @property
    def signals(self) -> Signals:
        return self.db.signals

    def listen(self) -> AbstractAsyncContextManager[None]:
        """Hear other processes announce new tasks and due callbacks (PostgreSQL LISTEN;
        a no-op on SQLite)."""
        return listen(
            self.db.engines.write,
            {
                WORK_CHANNEL: self.signals.work_available,
                CALLBACKS_CHANNEL: self.signals.callbacks_due,
            },
            enabled=self.db.engines.listen,
        )

    async def schema_state(self) -> SchemaState:
        async with translated_errors(self.db.engines.write.url):
            return await schema_state(self.db.engines.write)

    async def migrate(self) -> None:
        """Upgrade the schema to the newest revision."""
        async with translated_errors(self.db.engines.write.url):
            await migrate(self.db.engines.write)

    async def ping(self) -> None:
        """Raise `Unavailable` unless the database answers."""
        async with self.db.read() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        await self.db.engines.dispose()


def open_store(
    url: str,
    settings: DatabaseSettings | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    random_bytes: Callable[[int], bytes] = os.urandom,
    first_callback_delay_s: float = 0.0,
) -> Store:
    """A store for a database URL; nothing connects until first use."""
    engines = create_engines(url, settings or DatabaseSettings())
    return Store(
        Database(
            engines=engines,
            clock=clock,
            random_bytes=random_bytes,
            first_callback_delay_s=first_callback_delay_s,
        )
    )
