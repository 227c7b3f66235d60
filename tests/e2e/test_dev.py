"""`hookline serve --dev`: callbacks may reach loopback, and the log says so loudly."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import HOOKLINE, free_port

pytestmark = pytest.mark.e2e


class _Receiver(BaseHTTPRequestHandler):
    received: list[bytes]

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers["content-length"])))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what was received."""


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[bytes]]]:
    """A callback receiver on 127.0.0.1: its URL and the bodies it received."""
    received: list[bytes] = []
    handler = type("Handler", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cb", received
    server.shutdown()
    server.server_close()


def serve_and_call_back(
    tmp_path: Path, receiver: tuple[str, list[bytes]], *args: str
) -> tuple[str, str]:
    """Run `hookline serve ARGS`, create a test-key task calling back the receiver, wait for
    its first attempt; the task id and serve's stderr."""
    url, received = receiver
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["HOOKLINE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'hookline.db'}"
    env["HOOKLINE_FILES_DIR"] = str(tmp_path / "files")
    port = free_port()
    out_path, err_path = tmp_path / "serve.out", tmp_path / "serve.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            [*HOOKLINE, "serve", "--port", str(port), *args],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=err,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, err_path.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, err_path.read_text()
            time.sleep(0.1)
        found = re.search(r"test key: (test_\w+)", out_path.read_text())
        assert found is not None
        created = httpx.post(
            f"{base}/v1/task/echo",
            json={"callback_url": url, "x": 1},
            auth=(found.group(1), ""),
            timeout=5,
        )
        assert created.status_code == 200, created.text
        # The first attempt is due at once: wait until it has been made, either way.
        deadline = time.monotonic() + 15
        while '"callback_attempt"' not in err_path.read_text() and not received:
            assert time.monotonic() < deadline, err_path.read_text()
            time.sleep(0.1)
        return created.json()["task_id"], err_path.read_text()
    finally:
        process.terminate()
        process.wait(15)


def test_dev_flag_lets_callbacks_reach_loopback_and_warns(
    tmp_path: Path, receiver: tuple[str, list[bytes]]
) -> None:
    """With --dev a callback to 127.0.0.1 arrives, and a warning names the allowed networks."""
    _, received = receiver
    task_id, stderr = serve_and_call_back(tmp_path, receiver, "--dev")
    assert [task_id.encode() in body for body in received] == [True]
    [warning] = [
        line for line in stderr.splitlines() if "dev_mode_loopback_callbacks_allowed" in line
    ]
    assert "127.0.0.0/8" in warning
    assert "never use it in production" in warning


def test_without_dev_flag_loopback_is_blocked_saying_what_to_set(
    tmp_path: Path, receiver: tuple[str, list[bytes]]
) -> None:
    """Without --dev the same callback is blocked, and the warning line says what to set."""
    _, received = receiver
    _, stderr = serve_and_call_back(tmp_path, receiver)
    assert received == []
    [attempt] = [line for line in stderr.splitlines() if '"callback_attempt"' in line]
    assert '"error": "blocked"' in attempt
    assert "HOOKLINE_CALLBACKS_ALLOW_NETWORKS=127.0.0.0/8 (development only)" in attempt
    assert "dev_mode_loopback_callbacks_allowed" not in stderr
