"""The benchmark's generator against a real `hookline serve`: a tiny W1 run loses nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import start_server

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_w1_run_against_serve(tmp_path: Path) -> None:
    """30 tasks: all called back once, the two resubmissions refused with 409, CPU sampled."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env |= {
        "PYTHONUNBUFFERED": "1",
        "HOOKLINE_FILES_DIR": str(tmp_path / "files"),
        "HOOKLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hookline.db'}",
        "HOOKLINE_CALLBACKS_ALLOW_NETWORKS": "127.0.0.0/8",
        "HOOKLINE_CALLBACKS_SCHEDULE_S": "0,0.2,0.4,0.8,1.6,3.2",
    }
    server = start_server(tmp_path, env)
    try:
        done = subprocess.run(
            [
                sys.executable, "-m", "bench.w1", "--base", server.base_url,
                "--api-key", server.live_key, "--n", "30", "--c", "8", "--warmup", "5",
                "--grace", "0.5", "--cb-timeout", "30", "--service-pid", str(server.process.pid),
            ],
            cwd=ROOT,
            env=env | {"PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )  # fmt: skip
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stdout.strip().splitlines()[-1])
    assert line["accepted"] == 30
    assert line["callbacks_ok"] == 30
    assert line["lost"] == 0
    assert line["duplicate_deliveries"] == 0
    assert line["dup_sent"] == 2
    assert line["dup_rejected_409"] == 2
    assert line["injected_then_ok"] == line["injected_500"]
    assert line["delivery_attempts"] == 30 + line["injected_500"]
    assert line["unknown_task_callbacks"] == 0
    assert line["service_cpu_s"] > 0
    assert line["service_peak_pss_mb"] > 10
