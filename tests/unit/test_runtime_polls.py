"""Which processes may let their idle polls back off (`idle_poll_s`) and which must not."""

from __future__ import annotations

import pytest

from hookline.runtime import idle_polls_may_back_off


@pytest.mark.parametrize(
    ("dialect", "listen", "makes_all_work", "backs_off"),
    [
        pytest.param("sqlite", True, True, True, id="serve-on-sqlite"),
        pytest.param("sqlite", True, False, False, id="worker-on-sqlite"),
        pytest.param("postgresql", True, False, True, id="postgresql-with-listen"),
        pytest.param("postgresql", False, False, False, id="behind-pgbouncer"),
    ],
)
def test_only_a_process_that_hears_of_all_work_backs_off(
    dialect: str, listen: bool, makes_all_work: bool, backs_off: bool
) -> None:
    """Where polling is how a process learns of others' work, it keeps polling at poll_s."""
    assert (
        idle_polls_may_back_off(dialect, listen=listen, makes_all_work=makes_all_work) is backs_off
    )
