"""`hookline submit` against a real `hookline serve`: summary, exit code, re-runs, Ctrl-C."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.client.conftest import Cli, wait_for
from tests.e2e.conftest import HOOKLINE, free_port

pytestmark = pytest.mark.e2e

# A type without a handler: its tasks stay pending, so the server only stores them.
TYPE = "clitest"


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def _mixed_file(path: Path, tag: str) -> Path:
    """Lines 1-3 and 5 are new tasks; 4 repeats 1 (derived id), 6 repeats 2's unique_id;
    7 is not JSON, 8 an array, 9 blank, 10 a callback_url the server refuses."""
    good = {"instruction": "one", "params": {"n": 1}, "tags": [tag]}
    return _write(
        path,
        [
            json.dumps(good),
            json.dumps({"instruction": "two", "unique_id": f"{tag}-2", "tags": [tag]}),
            json.dumps({"instruction": "three", "tags": [tag]}),
            json.dumps(dict(reversed(good.items()))),
            json.dumps({"instruction": "five", "unique_id": f"{tag}-5", "tags": [tag]}),
            json.dumps({"instruction": "six", "unique_id": f"{tag}-2", "tags": [tag]}),
            '{"instruction": "seven", ',
            "[1, 2]",
            "",
            json.dumps({"instruction": "ten", "callback_url": "ftp://x/", "tags": [tag]}),
        ],
    )


def test_submit_counts_created_duplicate_invalid_and_a_rerun_creates_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    """Good lines are created once, repeats are duplicates, bad lines are listed by number;
    a second run creates nothing and reports every good line as a duplicate."""
    tag = uuid.uuid4().hex
    file = _mixed_file(tmp_path / "tasks.jsonl", tag)
    first = cli("submit", str(file), "--type", TYPE, "--concurrency", "1")
    assert first.returncode == 1, first.stderr
    lines = first.stdout.splitlines()
    assert lines[1] == "created 4, duplicate 2, invalid 3"
    assert lines[2].startswith("line 7: invalid: not JSON: ")
    assert lines[3] == "line 8: invalid: not a JSON object: list"
    assert lines[4].startswith("line 10: invalid: 400: Field 'callback_url' must be")
    assert len(lines) == 5
    assert "9/9 lines: created 4, duplicate 2, invalid 3" in first.stderr  # plain progress
    assert cli.count(tags=tag) == 4

    again = cli("submit", str(file), "--type", TYPE, "--json")
    assert again.returncode == 1, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["created"], summary["duplicate"], summary["invalid"]) == (0, 6, 3)
    assert [p["line"] for p in summary["problems"]] == [7, 8, 10]
    assert cli.count(tags=tag) == 4


def test_submit_of_good_lines_exits_zero_and_fills_the_callback_url(
    cli: Cli, tmp_path: Path
) -> None:
    """Every line created (or already there) is exit 0; --callback-url fills lines without one."""
    tag = uuid.uuid4().hex
    file = _write(
        tmp_path / "good.jsonl",
        [json.dumps({"instruction": f"t{i}", "tags": [tag]}) for i in range(20)],
    )
    url = "http://127.0.0.1:9/cb"
    first = cli("submit", str(file), "--type", TYPE, "--callback-url", url)
    assert first.returncode == 0, first.stderr
    assert "created 20, duplicate 0, invalid 0" in first.stdout
    tasks = cli.api("GET", "/tasks", params={"tags": tag})["docs"]
    assert {t["callback_url"] for t in tasks} == {url}
    assert all(t["unique_id"].startswith("line-") for t in tasks)
    again = cli("submit", str(file), "--type", TYPE)
    assert again.returncode == 0, again.stderr
    assert "created 0, duplicate 20, invalid 0" in again.stdout


def test_sigint_halfway_stops_cleanly_and_a_rerun_completes_the_file(
    cli: Cli, tmp_path: Path
) -> None:
    """Ctrl-C stops with the summary so far and exit 130; running again creates the rest,
    and the server ends with exactly one task per line."""
    tag, n = uuid.uuid4().hex, 2000
    # Odd lines carry a unique_id, even ones get the derived one.
    bodies = [
        {"instruction": "big", "params": {"i": i}, "tags": [tag]}
        | ({"unique_id": f"{tag}-{i}"} if i % 2 else {})
        for i in range(n)
    ]
    file = _write(tmp_path / "big.jsonl", [json.dumps(b) for b in bodies])
    process = cli.popen("submit", str(file), "--type", TYPE, "--concurrency", "2", "--json")
    try:
        wait_for(lambda: cli.count(tags=tag) >= 200, what="200 tasks created")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    assert process.returncode == 130, err
    summary = json.loads(out)
    assert summary["interrupted"] is True
    assert 200 <= summary["created"] < n
    done = sum(summary[k] for k in ("created", "duplicate", "invalid", "failed"))
    assert f"interrupted: {n - done} lines not sent; run again to go on" in err
    assert summary["invalid"] == summary["failed"] == 0
    created_before = cli.count(tags=tag)
    assert created_before >= summary["created"]  # lines in flight at Ctrl-C may have landed

    rest = cli("submit", str(file), "--type", TYPE, "--json", timeout_s=120)
    assert rest.returncode == 0, rest.stderr
    final = json.loads(rest.stdout)
    assert final["created"] == n - created_before
    assert final["duplicate"] == created_before
    assert cli.count(tags=tag) == n
    assert len({t["unique_id"] for t in _all_tasks(cli, tag)}) == n


def _all_tasks(cli: Cli, tag: str) -> list[dict[str, object]]:
    docs: list[dict[str, object]] = []
    params = {"tags": tag, "limit": "100"}
    while True:
        page = cli.api("GET", "/tasks", params=params)
        docs += page["docs"]
        if not page["next_token"]:
            return docs
        params["next_token"] = page["next_token"]


def test_submit_on_a_terminal_draws_a_progress_bar(cli: Cli, tmp_path: Path) -> None:
    """With stderr on a terminal, rich draws a bar instead of plain lines."""
    file = _write(tmp_path / "t.jsonl", [json.dumps({"instruction": uuid.uuid4().hex})])
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [*HOOKLINE, "submit", str(file), "--type", TYPE],
            env=cli.env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=60,
            check=False,
        )
        os.close(terminal)
        terminal = -1
        drawn = b""
        while chunk := _read(controller):
            drawn += chunk
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    assert result.returncode == 0
    assert "created 1, duplicate 0, invalid 0" in result.stdout
    assert b"submitting" in drawn
    assert b"1/1" in drawn
    assert b"lines: created" not in drawn  # not the plain progress lines


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO once the terminal's other end is closed
        return b""


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        pytest.param(
            ["--key", "live_nope"],
            {},
            "Error: 401: Invalid or revoked API key; check --key/HOOKLINE_KEY",
            id="wrong-key",
        ),
        pytest.param([], {"HOOKLINE_KEY": ""}, "Error: no API key: give --key or set HOOKLINE_KEY", id="no-key"),
        pytest.param(["--url", "ftp://x"], {}, "Error: --url/HOOKLINE_URL must be http(s)://HOST[:PORT], got 'ftp://x'", id="bad-url"),
    ],
)  # fmt: skip
def test_submit_refusals_are_one_line(
    cli: Cli, tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    """A wrong key, no key or a bad URL: one line on stderr, exit 1, nothing created."""
    tag = uuid.uuid4().hex
    file = _write(tmp_path / "t.jsonl", [json.dumps({"instruction": "x", "tags": [tag]})] * 3)
    result = cli("submit", str(file), "--type", TYPE, *args, env=env)
    assert result.returncode == 1
    assert message in result.stderr.splitlines()
    assert [line for line in result.stderr.splitlines() if line.startswith("Error")] == [message]
    assert cli.count(tags=tag) == 0


def test_submit_without_a_server_says_so(cli: Cli, tmp_path: Path) -> None:
    """No server at --url: one line naming the URL, exit 1."""
    file = _write(tmp_path / "t.jsonl", [json.dumps({"instruction": "x"})])
    url = f"http://127.0.0.1:{free_port()}"
    result = cli("submit", str(file), "--type", TYPE, "--url", url)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert errors == [f"Error: cannot reach {url}: connection refused; is hookline running?"]


def test_submit_of_a_missing_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    """A file that is not there: one stderr line, exit 1."""
    result = cli("submit", str(tmp_path / "nope.jsonl"), "--type", TYPE)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Error: cannot read {tmp_path / 'nope.jsonl'}: No such file or directory"
    ]
