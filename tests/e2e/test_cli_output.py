"""What the `hookline` command prints for a person: help, the first-start banner, key lists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, run_cli

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("group", [[], ["keys"], ["account"], ["config"]])
def test_help_descriptions_are_whole(group: list[str], tmp_path: Path) -> None:
    """On an 80-column terminal, no command's description in --help is cut short."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    result = run_cli(*group, "--help", env=env | {"COLUMNS": "80"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    commands = result.stdout.split("Commands:", 1)[1].splitlines()
    assert [line for line in commands if line.strip()], result.stdout
    assert [line for line in commands if line.rstrip().endswith("...")] == []


def test_banner_names_the_real_url(serve: Server) -> None:
    """The first-start banner shows ScaleClient with the URL the server listens on."""
    printed = serve.stdout_path.read_text()
    assert f"ScaleClient('{serve.live_key}', api_instance_url='{serve.api_url}')" in printed


def test_keys_list_has_a_header_row(serve: Server) -> None:
    """`keys list` starts with a header naming its columns, aligned with the rows."""
    listed = serve.cli("keys", "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["ID", "ACCOUNT", "ENV", "STATE", "SCOPES", "OWNER"]
    assert len(rows) == 2
    for row in rows:
        for column in ("ACCOUNT", "ENV", "STATE", "SCOPES", "OWNER"):
            at = header.index(column)
            assert row[at - 1] == " " != row[at], (header, row)


def test_receive_says_what_is_wrong(serve: Server, tmp_path: Path) -> None:
    """`hookline receive` stops with one line naming the fix: a bad secret, no database, a busy port."""
    bad = serve.cli("receive", "--secret", "not-a-secret")
    assert bad.returncode != 0
    assert "--secret" in bad.stderr
    assert "hookline account show" in bad.stderr
    assert "Traceback" not in bad.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = serve.env | {"HOOKLINE_DATABASE_URL": f"sqlite+aiosqlite:///{elsewhere / 'h.db'}"}
    no_db = run_cli("receive", env=env, cwd=elsewhere)
    assert no_db.returncode != 0
    assert "where `hookline serve` runs" in no_db.stderr
    assert len(no_db.stderr.strip().splitlines()) == 1, no_db.stderr

    busy_port = serve.base_url.rsplit(":", 1)[1]
    busy = serve.cli("receive", "--port", busy_port)
    assert busy.returncode != 0
    assert f"cannot listen on 127.0.0.1:{busy_port}" in busy.stderr
    assert "Traceback" not in busy.stderr
