"""Check the database after a failure run: every accepted task done once, nothing extra."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from tests.failure.cluster import Receiver
from tests.failure.submitter import Outcomes


async def _snapshot(
    url: str, account: str
) -> tuple[dict[str, tuple[str, str, bool]], Counter[str]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            account_id = await conn.scalar(
                sa.text("SELECT id FROM accounts WHERE name = :n"), {"n": account}
            )
            rows = (
                await conn.execute(
                    sa.text(
                        "SELECT unique_id, id, status, callback_completed FROM tasks "
                        "WHERE account_id = :a"
                    ),
                    {"a": account_id},
                )
            ).all()
            completions = (
                await conn.execute(
                    sa.text(
                        "SELECT task_id FROM task_events WHERE account_id = :a "
                        "AND action = 'completed'"
                    ),
                    {"a": account_id},
                )
            ).all()
    finally:
        await engine.dispose()
    tasks = {r[0]: (r[1], r[2], bool(r[3])) for r in rows}
    return tasks, Counter(r[0] for r in completions)


def wait_until_settled(
    url: str, account: str, outcomes: Outcomes, receiver: Receiver, deadline_s: float = 180
) -> None:
    """Wait until every accepted task is completed and called back, then check everything."""
    until = time.monotonic() + deadline_s
    while True:
        tasks, completions = asyncio.run(_snapshot(url, account))
        done = [u for u, (task_id, status, cb) in tasks.items() if status == "completed" and cb]
        if len(done) >= len(outcomes.accepted) or time.monotonic() > until:
            break
        time.sleep(0.5)
    assert not outcomes.unknown, f"{len(outcomes.unknown)} creates never settled"
    # Every accepted task exists under its unique_id with the id the API answered.
    assert {u: tasks[u][0] for u in outcomes.accepted if u in tasks} == outcomes.accepted
    # Nothing else was stored: no refused task, no stray one.
    assert set(tasks) == set(outcomes.accepted)
    assert not (outcomes.refused & set(tasks))
    # Completed exactly once, and called back.
    statuses = Counter(status for _, status, _ in tasks.values())
    assert statuses == Counter({"completed": len(outcomes.accepted)})
    accepted_ids = set(outcomes.accepted.values())
    assert completions == Counter(dict.fromkeys(accepted_ids, 1))
    assert all(cb for _, _, cb in tasks.values())
    assert accepted_ids <= set(receiver.delivered)
