"""Start the real `hookline` CLI in a subprocess and talk to it over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKENDS, PG_URL, create_database, drop_database

HOOKLINE = [sys.executable, "-m", "hookline"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(
    *args: str, env: dict[str, str], cwd: Path, timeout_s: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HOOKLINE, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    live_key: str
    test_key: str
    env: dict[str, str]
    cwd: Path
    stdout_path: Path
    stderr_path: Path

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v1"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=self.env, cwd=self.cwd)

    def stop(self, timeout_s: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def start_server(cwd: Path, env: dict[str, str], *, deadline_s: float = 30) -> Server:
    """Run `hookline serve` until /healthz answers; read the first-start keys from stdout."""
    port = free_port()
    stdout_path, stderr_path = cwd / "serve.out", cwd / "serve.err"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(
            [*HOOKLINE, "serve", "--port", str(port)], cwd=cwd, env=env, stdout=out, stderr=err
        )
    base_url = f"http://127.0.0.1:{port}"
    until = time.monotonic() + deadline_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"hookline serve exited {process.returncode}: {stderr_path.read_text()}"
            )
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > until:
            process.kill()
            raise RuntimeError(f"hookline serve did not start: {stderr_path.read_text()}")
        time.sleep(0.1)
    printed = stdout_path.read_text()
    live = re.search(r"live key: (live_\w+)", printed)
    test = re.search(r"test key: (test_\w+)", printed)
    return Server(
        process=process,
        base_url=base_url,
        live_key=live.group(1) if live else "",
        test_key=test.group(1) if test else "",
        env=env,
        cwd=cwd,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
    )


@pytest.fixture(params=BACKENDS)
def e2e_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a CLI on a brand-new database of the backend."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["HOOKLINE_FILES_DIR"] = str(tmp_path / "files")
    if request.param == "postgresql":
        assert PG_URL is not None
        url = asyncio.run(create_database(PG_URL))
        env["HOOKLINE_DATABASE_URL"] = url
        yield env
        asyncio.run(drop_database(url, PG_URL))
    else:
        env["HOOKLINE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'hookline.db'}"
        yield env


ServerFactory = Callable[..., Server]


@pytest.fixture
def serve(e2e_env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    """A running `hookline serve` on a fresh database, stopped with SIGTERM afterwards."""
    server = start_server(tmp_path, e2e_env)
    yield server
    server.stop()
