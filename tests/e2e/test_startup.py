"""Start-up mistakes end the real CLI at once with one line saying what to do."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, create_database, drop_database
from tests.e2e.conftest import free_port, run_cli

pytestmark = pytest.mark.e2e

needs_pg = pytest.mark.skipif(not PG_URL, reason="HOOKLINE_TEST_PG_URL is not set")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment without HOOKLINE_* settings: defaults, in an empty directory."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    return clean | {"HOOKLINE_FILES_DIR": str(tmp_path / "files")}


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another socket listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a CLI that failed cleanly."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def pg_url(**parts: str) -> str:
    assert PG_URL is not None
    return sa.make_url(PG_URL).set(**parts).render_as_string(hide_password=False)


def timed(
    *args: str, env: dict[str, str], cwd: Path
) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = run_cli(*args, env=env, cwd=cwd, timeout_s=30)
    return result, time.monotonic() - started


@pytest.mark.parametrize(
    ("args", "option"),
    [
        pytest.param(["serve", "--port"], "--port", id="serve"),
        pytest.param(["api", "--port"], "--port", id="api"),
        pytest.param(["worker", "--health-port"], "--health-port", id="worker-health"),
    ],
)
def test_a_taken_port_ends_start_up_at_once(
    tmp_path: Path, env: dict[str, str], taken_port: int, args: list[str], option: str
) -> None:
    """A port in use exits 1 at once naming the address and the option, having made no database."""
    result, elapsed_s = timed(*args, str(taken_port), env=env, cwd=tmp_path)
    line = one_line(result)
    assert f"127.0.0.1:{taken_port}" in line
    assert f"another {option}" in line
    assert elapsed_s < 10
    assert not (tmp_path / "hookline.db").exists()


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_a_port_out_of_range_is_refused(tmp_path: Path, env: dict[str, str], port: str) -> None:
    """--port outside 1..65535 is one line naming server.port."""
    line = one_line(run_cli("serve", "--port", port, env=env, cwd=tmp_path, timeout_s=30))
    assert f"setting server.port: {port} is not a port" in line
    assert not (tmp_path / "hookline.db").exists()


def test_serve_logs_the_v1_url_once_listening(tmp_path: Path, env: dict[str, str]) -> None:
    """api_listening carries the /v1 URL of the bound port."""
    port = free_port()
    with (tmp_path / "serve.err").open("wb") as err:
        process = subprocess.Popen(
            ["hookline", "serve", "--port", str(port)], cwd=tmp_path, env=env, stderr=err
        )
    try:
        until = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "serve.err").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < until, (tmp_path / "serve.err").read_text()
                time.sleep(0.1)
    finally:
        process.terminate()
        assert process.wait(15) == 0
    assert f'"url": "http://127.0.0.1:{port}/v1"' in (tmp_path / "serve.err").read_text()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        pytest.param("hookline.db", "is not a URL", id="not-a-url"),
        pytest.param("mysql://u@localhost/db", "SQLite or PostgreSQL, not mysql://", id="mysql"),
        pytest.param(
            "postgresql+psycopg://u@localhost/db",
            "write postgresql://u@localhost/db",
            id="other-driver",
        ),
        pytest.param("sqlite://x.db", "write sqlite:///x.db", id="two-slashes"),
    ],
)
def test_database_url_mistakes_are_one_line(
    tmp_path: Path, env: dict[str, str], url: str, says: str
) -> None:
    """A database URL hookline cannot use is one line saying what to write."""
    result = run_cli("serve", "--database-url", url, env=env, cwd=tmp_path, timeout_s=30)
    assert says in one_line(result)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command", [["keys", "list"], ["account", "show", "x"], ["api", "--port"], ["worker"]]
)
def test_commands_that_need_a_database_do_not_create_one(
    tmp_path: Path, env: dict[str, str], command: list[str]
) -> None:
    """Outside serve and migrate, a missing SQLite file is named, not created."""
    args = [*command, str(free_port())] if command[-1] == "--port" else command
    line = one_line(run_cli(*args, env=env, cwd=tmp_path, timeout_s=30))
    assert f"no database at {tmp_path / 'hookline.db'}" in line
    assert "--database-url, HOOKLINE_DATABASE_URL or database_url in --config" in line
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_is_named(tmp_path: Path, env: dict[str, str]) -> None:
    """serve on a SQLite path whose directory is missing says so and creates nothing."""
    url = f"sqlite:///{tmp_path / 'nowhere' / 'h.db'}"
    result, elapsed_s = timed(
        "serve", "--port", str(free_port()), "--database-url", url, env=env, cwd=tmp_path
    )
    assert f"directory {tmp_path / 'nowhere'} does not exist" in one_line(result)
    assert elapsed_s < 10
    assert not (tmp_path / "nowhere").exists()


def test_a_file_that_is_not_sqlite_fails_at_once(tmp_path: Path, env: dict[str, str]) -> None:
    """A file that is not a SQLite database is one line, without retries."""
    (tmp_path / "notes.db").write_text("these are my notes, not a database\n" * 10)
    result, elapsed_s = timed(
        "serve",
        "--port",
        str(free_port()),
        "--database-url",
        "sqlite:///notes.db",
        env=env,
        cwd=tmp_path,
    )
    line = one_line(result)
    assert f"cannot use the SQLite database {tmp_path / 'notes.db'}: file is not a database" in line
    assert elapsed_s < 10


def test_plain_sqlite_url_works(tmp_path: Path, env: dict[str, str]) -> None:
    """`sqlite:///x.db` (no driver) migrates x.db through aiosqlite."""
    result = run_cli("migrate", "--database-url", "sqlite:///x.db", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "now current (sqlite+aiosqlite:///x.db)" in result.stdout
    assert (tmp_path / "x.db").is_file()


@needs_pg
def test_plain_postgresql_url_works(tmp_path: Path, env: dict[str, str]) -> None:
    """`postgresql://` (no driver) migrates through asyncpg."""
    assert PG_URL is not None
    url = asyncio.run(create_database(PG_URL))
    try:
        plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        result = run_cli("migrate", "--database-url", plain, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        listed = run_cli("keys", "list", "--database-url", plain, env=env, cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
    finally:
        asyncio.run(drop_database(url, PG_URL))


@needs_pg
@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["keys", "list"]])
def test_a_missing_postgresql_database_is_named_with_createdb(
    tmp_path: Path, env: dict[str, str], command: list[str]
) -> None:
    """A database that does not exist is one line with the createdb command, without retries."""
    name = f"hookline_missing_{uuid.uuid4().hex[:8]}"
    url = pg_url(database=name)
    result, elapsed_s = timed(*command, "--database-url", url, env=env, cwd=tmp_path)
    line = one_line(result)
    assert f'database "{name}" does not exist' in line
    assert "`createdb -h " in line
    assert line.endswith(f" {name}`")
    assert elapsed_s < 15


@needs_pg
def test_a_missing_postgresql_role_is_named_with_createuser(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """A role that does not exist is one line with the createuser command, without retries."""
    role = f"nobody_{uuid.uuid4().hex[:8]}"
    url = pg_url(username=role)
    result, elapsed_s = timed("serve", "--port", "1", "--database-url", url, env=env, cwd=tmp_path)
    line = one_line(result)
    assert f'role "{role}" does not exist' in line
    assert f"--login {role}`" in line
    assert elapsed_s < 15


def test_an_unreachable_server_is_retried_saying_why(tmp_path: Path, env: dict[str, str]) -> None:
    """Connection refused is retried for startup_wait_s, each retry line with its reason."""
    url = f"postgresql://hookline@127.0.0.1:{free_port()}/hookline"
    result, elapsed_s = timed(
        "serve",
        "--port",
        str(free_port()),
        "--database-url",
        url,
        env=env | {"HOOKLINE_DATABASE_STARTUP_WAIT_S": "2"},
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    *retries, last = result.stderr.strip().splitlines()
    assert retries
    assert all(
        '"database_unavailable"' in r and '"reason": "connection refused' in r for r in retries
    )
    assert last.startswith("Error: cannot reach the database: connection refused by 127.0.0.1:")
    assert "database.startup_wait_s=2" in last
    assert elapsed_s < 15
