"""The client commands' help and shell completion, without a server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import run_cli

pytestmark = pytest.mark.e2e


def _env(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")} | extra


@pytest.mark.parametrize("group", ["tasks", "events", "deliveries"])
def test_group_help_descriptions_are_whole(group: str, tmp_path: Path) -> None:
    """On an 80-column terminal, no client command's description is cut short."""
    result = run_cli(group, "--help", env=_env(COLUMNS="80"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    commands = [line for line in result.stdout.split("Commands:", 1)[1].splitlines() if line]
    assert commands
    assert [line for line in commands if line.rstrip().endswith("...")] == []


def test_submit_help_says_where_a_unique_id_comes_from(tmp_path: Path) -> None:
    """`submit --help` names both sources of the unique_id that makes a re-run safe."""
    result = run_cli("submit", "--help", env=_env(COLUMNS="200"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "a line's `unique_id`" in text
    assert "`line-` + the SHA-256 of the type and the line's canonical JSON" in text


def _complete(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed `hookline` script: click names the completion variable after it."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "hookline")],
        env=_env(**env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_bash_completion_offers_commands_and_choices(tmp_path: Path) -> None:
    """click's completion (`_HOOKLINE_COMPLETE=bash_source hookline`) knows the client commands
    and the --status values."""
    source = _complete(tmp_path, _HOOKLINE_COMPLETE="bash_source")
    assert "_hookline_completion()" in source.stdout
    words = _complete(
        tmp_path, _HOOKLINE_COMPLETE="bash_complete", COMP_WORDS="hookline del", COMP_CWORD="1"
    )
    assert words.stdout.split() == ["plain,deliveries"]
    statuses = _complete(
        tmp_path,
        _HOOKLINE_COMPLETE="bash_complete",
        COMP_WORDS="hookline tasks ls --status ",
        COMP_CWORD="4",
    )
    assert statuses.stdout.split() == [
        "plain,pending",
        "plain,completed",
        "plain,canceled",
        "plain,error",
    ]
