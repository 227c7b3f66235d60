"""A run without PostgreSQL reports its skipped PostgreSQL tests in one summary line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import PG_SKIP_REASON

ROOT = Path(__file__).resolve().parents[1]


def test_pg_skips_fold_into_one_line() -> None:
    """`-ra` prints one SKIPPED line counting every PostgreSQL test, not one line per test."""
    env = {k: v for k, v in os.environ.items() if k != "HOOKLINE_TEST_PG_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/store/test_claims.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    skipped_lines = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped_lines) == 1, skipped_lines
    [line] = skipped_lines
    assert PG_SKIP_REASON in line
    count = re.search(r"SKIPPED \[(\d+)\]", line)
    passed = re.search(r"(\d+) passed, (\d+) skipped", result.stdout)
    assert count is not None
    assert passed is not None
    assert int(count.group(1)) == int(passed.group(2)) > 1
