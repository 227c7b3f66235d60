"""The README's quick start, run as written: serve, receive, create, work, verified callbacks."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


def quickstart_blocks() -> list[str]:
    """The quick start's shell blocks: the server, the receiver, then the client's steps."""
    section = README.read_text().split("\n## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.S)


def as_run_here(block: str, *, api_port: int, receiver_port: int) -> str:
    """A block as this test runs it: in the environment the tests run in, on free ports."""
    lines = []
    for line in block.splitlines():
        if line.startswith("python3 -m venv .venv") or line == ". .venv/bin/activate":
            continue  # the test runs hookline from the environment that runs the tests
        lines.append(line.removeprefix(". .venv/bin/activate && "))
    script = "\n".join(lines)
    script = script.replace("127.0.0.1:8000", f"127.0.0.1:{api_port}")
    return script.replace("127.0.0.1:9000", f"127.0.0.1:{receiver_port}").replace(
        "--port 9000", f"--port {receiver_port}"
    )


class Shell:
    """A pasted block running in a bash of its own (a process group, stopped with SIGTERM)."""

    def __init__(self, script: str, *, cwd: Path, env: dict[str, str], name: str) -> None:
        self.out = cwd / f"{name}.out"
        self.err = cwd / f"{name}.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                ["bash", "-c", script],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    def wait_for(self, text: str, *, count: int = 1, timeout_s: float = 60) -> str:
        until = time.monotonic() + timeout_s
        while True:
            printed = self.out.read_text()
            if printed.count(text) >= count:
                return printed
            if self.process.poll() is not None or time.monotonic() > until:
                raise AssertionError(
                    f"no {count} x {text!r}; stdout:\n{printed}\nstderr:\n{self.err.read_text()}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def shells() -> Iterator[list[Shell]]:
    started: list[Shell] = []
    yield started
    for shell in reversed(started):
        shell.stop()


def test_readme_quick_start_runs_as_written(tmp_path: Path, shells: list[Shell]) -> None:
    """Pasting the quick start gets two tasks worked and their callbacks received and verified."""
    server_block, receiver_block, *client_blocks = quickstart_blocks()
    assert "hookline serve" in server_block
    assert "hookline receive" in receiver_block
    api_port, receiver_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HOOKLINE_SERVER_PORT"] = str(api_port)  # the README's `serve` listens on 8000
    env["PYTHONUNBUFFERED"] = "1"

    def run(block: str, name: str) -> Shell:
        script = as_run_here(block, api_port=api_port, receiver_port=receiver_port)
        shell = Shell(script, cwd=tmp_path, env=env, name=name)
        shells.append(shell)
        return shell

    server = run(server_block, "serve")
    server.wait_for("live key: ")
    until = time.monotonic() + 60
    while not healthy(f"http://127.0.0.1:{api_port}/healthz"):
        assert time.monotonic() < until, server.err.read_text()
        time.sleep(0.1)
    receiver = run(receiver_block, "receive")
    receiver.wait_for("Receiving callbacks on")

    script = "set -eo pipefail\n" + "\n".join(
        as_run_here(b, api_port=api_port, receiver_port=receiver_port) for b in client_blocks
    )
    client = subprocess.run(
        ["bash", "-c", script + '\nprintf "KEY=%s\\n" "$KEY"'],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert client.returncode == 0, client.stdout + client.stderr
    key = client.stdout.splitlines()[-1].removeprefix("KEY=")
    assert key.startswith("live_")

    printed = receiver.wait_for("verified", count=2)
    assert "NOT" not in printed
    assert '"response":{"echo":{"text":"hello"}}' in printed
    assert '"response":{"category":"cat"}' in printed

    tasks = httpx.get(f"http://127.0.0.1:{api_port}/v1/tasks", auth=(key, ""), timeout=10).json()
    assert sorted((t["type"], t["status"]) for t in tasks["docs"]) == [
        ("categorization", "completed"),
        ("echo", "completed"),
    ]
    for task in tasks["docs"]:
        until = time.monotonic() + 30
        while True:
            got = httpx.get(
                f"http://127.0.0.1:{api_port}/v1/task/{task['task_id']}", auth=(key, ""), timeout=10
            ).json()
            if got["callback_completed"] or time.monotonic() > until:
                break
            time.sleep(0.1)
        assert got["callback_completed"], got
    assert "Traceback" not in server.err.read_text()
