"""Prepared statements on the SQLite writer's cursor answer what SQLAlchemy answers.

Each case runs a statement both ways on the same data (SQLAlchemy's own
execution, and `Plans.run` on the driver's cursor) and compares rows, types and
row counts; the pipeline's statements themselves run this way through every
SQLite store test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hookline.store.sqlite_plans import Plans, Rows, is_prepared, prepared
from hookline.store.tables import JSONType, UTCDateTime

metadata = sa.MetaData()
things = sa.Table(
    "things",
    metadata,
    sa.Column("id", sa.String(24), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("at", UTCDateTime, nullable=True),
    sa.Column("body", JSONType, nullable=True),
    sa.Column("n", sa.Integer, nullable=False, server_default="0"),
)
T = things.c
NOW = datetime(2026, 12, 3, 6, 0, 0, 123456, tzinfo=UTC)

INSERT = prepared(sa.insert(things))
INSERT_RETURNING = prepared(sa.insert(things).returning(T.id, T.at, T.body))
BY_IDS = prepared(
    sa.select(T.id, T.at, T.body)
    .where(T.id.in_(sa.bindparam("ids", expanding=True)), T.kind == "a")
    .order_by(T.id)
)
BUMP = prepared(
    sa.update(things)
    .where(T.id.in_(sa.bindparam("ids", expanding=True)))
    .values(n=T.n + 1, at=sa.bindparam("new_at", type_=T.at.type))
    .returning(T.id, T.n, T.at)
)
COUNT = prepared(sa.select(sa.func.count()).select_from(things).where(T.n >= sa.bindparam("least")))


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sa.Connection]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    metadata.create_all(engine)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def rows(n: int, kind: str = "a") -> list[dict[str, Any]]:
    return [
        {"id": f"t{i:02d}", "kind": kind, "at": NOW + timedelta(seconds=i), "body": {"i": i}}
        for i in range(n)
    ]


def fast(conn: sa.Connection, statement: Any, parameters: Any, *, hide: bool = False) -> Any:
    plans = Plans(conn.dialect, hide_parameters=hide)
    return plans.run(conn.connection.driver_connection, statement, parameters)


def test_an_executemany_insert_writes_what_sqlalchemy_writes(conn: sa.Connection) -> None:
    done = fast(conn, INSERT, rows(3))
    assert isinstance(done, Rows)
    assert done.rowcount == 3
    written = conn.execute(sa.select(things).order_by(T.id)).mappings().all()
    assert [dict(r) for r in written] == [{**row, "n": 0} for row in rows(3)]


def test_one_row_with_returning_answers_typed_mappings(conn: sa.Connection) -> None:
    answered = fast(conn, INSERT_RETURNING, rows(1))
    [row] = answered.mappings().all()
    assert row == {"id": "t00", "at": NOW, "body": {"i": 0}}
    assert row["at"].tzinfo is UTC


def test_in_lists_of_every_length_and_literals_answer_as_sqlalchemy(conn: sa.Connection) -> None:
    conn.execute(INSERT, [*rows(5), {"id": "b0", "kind": "b", "at": NOW, "body": None}])
    for ids in (["t01"], ["t00", "t03", "b0"], ["t04", "t02", "t01", "nope"]):
        mine = fast(conn, BY_IDS, {"ids": ids}).all()
        theirs = [tuple(r) for r in conn.execute(BY_IDS, {"ids": ids}).all()]
        assert mine == theirs


def test_an_update_with_returning_changes_and_answers_the_rows(conn: sa.Connection) -> None:
    conn.execute(INSERT, rows(3))
    later = NOW + timedelta(hours=1)
    answered = fast(conn, BUMP, {"ids": ["t00", "t02"], "new_at": later})
    assert sorted(answered.mappings().all(), key=lambda r: r["id"]) == [
        {"id": "t00", "n": 1, "at": later},
        {"id": "t02", "n": 1, "at": later},
    ]
    assert fast(conn, COUNT, {"least": 1}).scalar() == 2
    assert fast(conn, COUNT, {"least": 0}).scalars().all() == [3]


def test_a_constraint_failure_is_sqlalchemys_integrity_error(conn: sa.Connection) -> None:
    fast(conn, INSERT, rows(1))
    with pytest.raises(sa.exc.IntegrityError, match="UNIQUE constraint failed"):
        fast(conn, INSERT, rows(1))


def test_hidden_parameters_stay_out_of_the_error(conn: sa.Connection) -> None:
    """The store's engines hide parameters (a task's payload); so do plans' errors."""
    fast(conn, INSERT, rows(1))
    with pytest.raises(sa.exc.IntegrityError) as failed:
        fast(conn, INSERT, [{**rows(1)[0], "body": {"secret": "hunter2"}}], hide=True)
    assert "hidden due to hide_parameters" in str(failed.value)
    assert "hunter2" not in str(failed.value)


def test_first_and_one_answer_like_sqlalchemys(conn: sa.Connection) -> None:
    conn.execute(INSERT, rows(2))
    assert fast(conn, BY_IDS, {"ids": ["t01"]}).first() == (
        "t01",
        NOW + timedelta(seconds=1),
        {"i": 1},
    )
    assert fast(conn, BY_IDS, {"ids": ["t00"]}).mappings().one()["id"] == "t00"
    assert fast(conn, BY_IDS, {"ids": ["nope"]}).mappings().first() is None
    with pytest.raises(sa.exc.NoResultFound):
        fast(conn, BY_IDS, {"ids": ["nope"]}).mappings().one()
    with pytest.raises(sa.exc.MultipleResultsFound):
        fast(conn, BY_IDS, {"ids": ["t00", "t01"]}).mappings().one()


@pytest.mark.parametrize(
    ("statement", "parameters"),
    [
        (BY_IDS, {"ids": []}),  # SQLAlchemy renders an empty IN itself
        (INSERT_RETURNING, rows(2)),  # several rows with RETURNING: insertmanyvalues
        (COUNT, {}),  # a required parameter missing: SQLAlchemy's error
    ],
)
def test_what_a_plan_does_not_do_is_left_to_sqlalchemy_untouched(
    conn: sa.Connection, statement: Any, parameters: Any
) -> None:
    before = conn.connection.driver_connection.total_changes
    assert fast(conn, statement, parameters) is None
    assert conn.connection.driver_connection.total_changes == before


def test_only_marked_statements_are_prepared() -> None:
    assert is_prepared(INSERT)
    assert not is_prepared(sa.insert(things))
