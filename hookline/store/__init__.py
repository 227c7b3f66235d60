"""The store: the only package that talks to the database.

`Store` groups one object per concept; each method is one use case in one
transaction:

    accounts    accounts, API keys, callback credentials      store/accounts.py
    tasks       create, read, list                            store/tasks.py
    operations  cancel, redo, retry; unique_id, metadata,     store/operations.py
                tags, review
    work        a worker's claim, heartbeat, settle, release  store/work.py (+ leases.py)
    projects    projects and their param versions             store/projects.py
    batches     batches and their completion                  store/batches.py
    files       uploaded and imported files                   store/files.py
    events      the audit trail and reviews, read             store/events.py
    deliveries  a task's deliveries, resend, replay,          store/deliveries.py
                retention; the sender's claim and record      store/sending.py

Transitions write their callbacks through `store/outbox.py`; everything that
differs between SQLite and PostgreSQL is `store/dialect.py`.
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
from hookline.store.batches import BatchStore
from hookline.store.deliveries import DeliveryStore
from hookline.store.dialect import CALLBACKS_CHANNEL, WORK_CHANNEL, create_engines
from hookline.store.events import EventStore
from hookline.store.files import FileStore
from hookline.store.listen import listen
from hookline.store.migrate import SchemaState, migrate, schema_state
from hookline.store.operations import TaskOperations
from hookline.store.projects import ProjectStore
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
        self.operations = TaskOperations(db)
        self.projects = ProjectStore(db)
        self.batches = BatchStore(db)
        self.files = FileStore(db)
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
