"""hookline behind a real PgBouncer in transaction mode (`database.pgbouncer`).

PgBouncer hands each transaction whichever server connection is free, so
nothing may outlive a transaction on a connection: no LISTEN, no cached
prepared statements. A small server pool forces that sharing. Runs when the
`pgbouncer` binary is installed (`.ci/run` installs it) and PostgreSQL is set.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, create_database, drop_database
from tests.e2e.conftest import free_port, run_cli
from tests.failure.cluster import Process, Receiver, api_process, base_env, worker_process
from tests.failure.submitter import submit_all
from tests.failure.verify import wait_until_settled

PGBOUNCER = shutil.which("pgbouncer") or next(
    (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.pg,
    pytest.mark.skipif(not PG_URL, reason="HOOKLINE_TEST_PG_URL is not set"),
    pytest.mark.skipif(PGBOUNCER is None, reason="pgbouncer is not installed"),
]


@pytest.fixture
def bouncer() -> Iterator[tuple[str, int]]:
    """A PgBouncer in transaction mode in front of the test server, with 3 server connections."""
    assert PG_URL is not None
    assert PGBOUNCER is not None
    server = sa.make_url(PG_URL)
    port = free_port()
    # PgBouncer refuses to run as root; under root it runs as postgres, who must own this.
    folder = Path(tempfile.mkdtemp(prefix="hookline-pgbouncer-"))
    (folder / "users.txt").write_text(f'"{server.username}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"""[databases]
* = host={server.host or "127.0.0.1"} port={server.port or 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "users.txt"}
pool_mode = transaction
default_pool_size = 3
max_client_conn = 200
logfile = {folder / "pgbouncer.log"}
"""
    )
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]
        for path in [folder, *folder.iterdir()]:
            shutil.chown(path, "postgres")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        until = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                log = folder / "pgbouncer.log"
                assert process.poll() is None, log.read_text() if log.exists() else "no log"
                assert time.monotonic() < until, "pgbouncer did not start listening"
                time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def test_api_and_worker_through_pgbouncer_in_transaction_mode(
    tmp_path: Path, bouncer: tuple[str, int]
) -> None:
    """Migrate, create a key, submit 300 tasks to an api and have a worker complete and call
    them all back, every connection through PgBouncer: each exactly once, nothing lost."""
    assert PG_URL is not None
    direct = asyncio.run(create_database(PG_URL))
    host, port = bouncer
    through = sa.make_url(direct).set(host=host, port=port).render_as_string(hide_password=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env = base_env(
        env
        | {
            "PYTHONUNBUFFERED": "1",
            "HOOKLINE_DATABASE_URL": through,
            "HOOKLINE_DATABASE_PGBOUNCER": "true",
        }
    )
    receiver = Receiver()
    processes: list[Process] = []
    try:
        assert run_cli("migrate", env=env, cwd=tmp_path).returncode == 0
        created = run_cli("keys", "create", "--account", "chaos", env=env, cwd=tmp_path)
        assert created.returncode == 0, created.stderr
        key = created.stdout.split()[-1]
        api = api_process(env, tmp_path, "api").start()
        processes.append(api)
        processes.append(worker_process(env, tmp_path, "worker").start())
        outcomes = asyncio.run(
            submit_all(
                [api.url], key, count=300, callback_url=receiver.url, run=uuid.uuid4().hex[:8]
            )
        )
        assert len(outcomes.accepted) == 300
        wait_until_settled(direct, "chaos", outcomes, receiver, deadline_s=60)
        logs = "".join((tmp_path / f"{p.name}.1.log").read_text() for p in processes)
        assert "Traceback" not in logs
    finally:
        for process in processes:
            process.stop()
        receiver.close()
        asyncio.run(drop_database(direct, PG_URL))
