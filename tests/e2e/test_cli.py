"""The `hookline` command itself: help, migrate, keys, config, and refusing a newer schema."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server, free_port, run_cli, start_server

pytestmark = pytest.mark.e2e


def test_help_lists_commands(tmp_path: Path, e2e_env: dict[str, str]) -> None:
    """--help names every command a user needs."""
    result = run_cli("--help", env=e2e_env, cwd=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "migrate", "keys", "config"):
        assert command in result.stdout


def test_keys_create_list_revoke(serve: Server) -> None:
    """A created key is alone on the last stdout line, listed, works, and stops working once revoked."""
    created = serve.cli("keys", "create", "--account", "acme", "--test", "--scopes", "submit")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("test_")

    listed = serve.cli("keys", "list", "--account", "acme", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["account"], r["environment"], r["scopes"]) for r in rows] == [
        ("acme", "test", "submit")
    ]

    made = httpx.post(f"{serve.api_url}/task/echo", json={"x": 1}, auth=(key, ""), timeout=10)
    assert (made.status_code, made.json()["status"]) == (200, "completed")
    # Another account's task is invisible to this key.
    foreign = httpx.post(
        f"{serve.api_url}/task/echo", json={}, auth=(serve.test_key, ""), timeout=10
    ).json()["task_id"]
    assert httpx.get(f"{serve.api_url}/task/{foreign}", auth=(key, "")).status_code == 404

    spare = serve.cli("keys", "create", "--account", "acme").stdout.strip().splitlines()[-1]
    revoked = serve.cli("keys", "revoke", spare)
    assert revoked.returncode == 0, revoked.stderr
    refused = httpx.get(f"{serve.api_url}/projects", auth=(spare, ""))
    assert refused.status_code == 401
    assert refused.json()["status_code"] == 401
    again = serve.cli("keys", "revoke", spare)
    assert again.returncode != 0
    assert "No active key" in again.stderr


def test_keys_create_rejects_unknown_scope(serve: Server) -> None:
    """An unknown scope is refused with a message naming the choices."""
    result = serve.cli("keys", "create", "--account", "acme", "--scopes", "submit,everything")
    assert result.returncode != 0
    assert "submit,work,audit,admin" in result.stderr.replace(", ", ",")


def test_test_keys_default_to_no_admin_and_empty_scopes_are_refused(serve: Server) -> None:
    """`keys create --test` gives submit,work,audit; an empty --scopes is one line and exit 1."""
    created = serve.cli("keys", "create", "--account", "lab", "--test")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    listed = serve.cli("keys", "list", "--account", "lab", "--json")
    assert [json.loads(line)["scopes"] for line in listed.stdout.splitlines()] == [
        "audit,submit,work"
    ]
    refused = httpx.get(f"{serve.api_url}/account", auth=(key, ""))
    assert refused.status_code == 403
    live = serve.cli("keys", "create", "--account", "lab")
    assert "admin,audit,submit,work" in live.stderr + live.stdout

    for empty in ("", " , "):
        result = serve.cli("keys", "create", "--account", "lab", "--scopes", empty)
        assert result.returncode == 1
        assert result.stdout == ""
        [line] = result.stderr.strip().splitlines()
        assert "--scopes" in line
        assert "at least one" in line
    listed = serve.cli("keys", "list", "--account", "lab", "--json")
    assert len(listed.stdout.splitlines()) == 2


def test_account_show_prints_both_environments(serve: Server) -> None:
    """`account show` prints each environment's credentials, as GET /v1/account shows them."""
    result = serve.cli("account", "show", "default")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert set(shown) == {"account", "live", "test"}
    assert shown["account"] == "default"
    created = serve.cli("keys", "create", "--account", "default", "--test", "--scopes", "admin")
    assert created.returncode == 0, created.stderr
    match = re.search(r"test_\w+", created.stdout)
    assert match is not None, created.stdout
    test_admin = match.group(0)  # the first-start test key has no admin scope
    for environment, key in (("live", serve.live_key), ("test", test_admin)):
        api = httpx.get(f"{serve.api_url}/account", auth=(key, "")).json()
        assert api["environment"] == environment
        assert {k: api[k] for k in ("callback_auth_key", "webhook_secret")} == shown[environment]
    assert shown["live"]["webhook_secret"] != shown["test"]["webhook_secret"]
    assert shown["live"]["callback_auth_key"] != shown["test"]["callback_auth_key"]
    missing = serve.cli("account", "show", "nobody")
    assert missing.returncode != 0
    assert "nobody" in missing.stderr


def test_migrate_then_serve_keeps_data(tmp_path: Path, e2e_env: dict[str, str]) -> None:
    """`migrate` creates the schema; a restarted server keeps its tasks and prints no new keys."""
    migrated = run_cli("migrate", env=e2e_env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert "schema was empty" in migrated.stdout

    first = start_server(tmp_path, e2e_env)
    try:
        task_id = httpx.post(
            f"{first.api_url}/task/echo", json={"n": 1}, auth=(first.live_key, "")
        ).json()["task_id"]
    finally:
        assert first.stop() == 0
    second = start_server(tmp_path, e2e_env)
    try:
        assert second.live_key == ""
        got = httpx.get(f"{second.api_url}/task/{task_id}", auth=(first.live_key, ""))
        assert got.json()["params"] == {"n": 1}
    finally:
        second.stop()


def test_serve_refuses_a_newer_schema(tmp_path: Path, e2e_env: dict[str, str]) -> None:
    """A database migrated by a newer release stops `serve` with a message saying what to do."""
    url = e2e_env["HOOKLINE_DATABASE_URL"]
    if not url.startswith("sqlite"):
        pytest.skip("the revision is rewritten through sqlite3")
    assert run_cli("migrate", env=e2e_env, cwd=tmp_path).returncode == 0
    with sqlite3.connect(url.split("///", 1)[1]) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    result = run_cli("serve", "--port", "1", env=e2e_env, cwd=tmp_path)
    assert result.returncode != 0
    assert "newer than this hookline" in result.stderr


def test_config_show_masks_password(tmp_path: Path, e2e_env: dict[str, str]) -> None:
    """`config show` prints the effective settings with the database password masked."""
    env = e2e_env | {
        "HOOKLINE_DATABASE_URL": "postgresql+asyncpg://app:s3cret@db.internal/hookline",
        "HOOKLINE_LIMITS_MAX_TAGS": "7",
    }
    result = run_cli("config", "show", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["database_url"] == "postgresql+asyncpg://app:***@db.internal/hookline"
    assert shown["limits"]["max_tags"] == 7
    assert "s3cret" not in result.stdout


def test_config_show_masks_query_and_handler_credentials(
    tmp_path: Path, e2e_env: dict[str, str]
) -> None:
    """`config show` masks a query-string password and the credentials in handler URLs."""
    handlers = {"remote": {"kind": "http", "url": "https://bob:hunter2@w/work?api_key=k3y"}}
    env = e2e_env | {
        "HOOKLINE_DATABASE_URL": "postgresql+asyncpg://app@db.internal/hookline?password=s3cret",
        "HOOKLINE_HANDLERS": json.dumps(handlers),
    }
    result = run_cli("config", "show", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["database_url"] == "postgresql+asyncpg://app@db.internal/hookline?password=***"
    assert shown["handlers"]["remote"]["url"] == "https://bob:***@w/work?api_key=***"
    for secret in ("s3cret", "hunter2", "k3y"):
        assert secret not in result.stdout


def test_bad_config_names_the_setting(tmp_path: Path, e2e_env: dict[str, str]) -> None:
    """A wrong setting stops start-up with a message naming it."""
    (tmp_path / "hookline.toml").write_text("[limits]\nmax_tagz = 3\n")
    result = run_cli("config", "show", env=e2e_env, cwd=tmp_path)
    assert result.returncode != 0
    assert "limits.max_tagz" in result.stderr


def test_raw_bad_input_over_http(serve: Server) -> None:
    """Malformed JSON and an oversized Content-Length get the Scale error shape."""
    url = f"{serve.api_url}/task/echo"
    bad = httpx.post(
        url,
        content=b"{not json",
        auth=(serve.live_key, ""),
        headers={"content-type": "application/json"},
    )
    assert bad.status_code == 400
    assert bad.json()["status_code"] == 400
    huge = httpx.post(
        url,
        content=b"x" * (10 * 1024 * 1024 + 1),
        auth=(serve.live_key, ""),
        timeout=30,
    )
    assert huge.status_code == 413
    assert "max_body_bytes" in huge.json()["error"]
    listed = httpx.get(f"{serve.api_url}/tasks", auth=(serve.live_key, "")).json()
    assert listed["total"] == 0


def test_handler_credentials_stay_out_of_logs_and_errors(
    tmp_path: Path, e2e_env: dict[str, str]
) -> None:
    """An http handler URL's password and token are masked in the start-up log and task errors."""
    url = f"http://bob:s3cret@127.0.0.1:{free_port()}/work?token=t0ken"
    handlers = {"remote": {"kind": "http", "url": url, "max_attempts": 1, "timeout_s": 2}}
    env = e2e_env | {"HOOKLINE_HANDLERS": json.dumps(handlers)}
    server = start_server(tmp_path, env)
    try:
        auth = (server.live_key, "")
        task_id = httpx.post(f"{server.api_url}/task/remote", json={}, auth=auth).json()["task_id"]
        deadline = time.monotonic() + 20
        while (task := httpx.get(f"{server.api_url}/task/{task_id}", auth=auth).json())[
            "status"
        ] != "error" and time.monotonic() < deadline:
            time.sleep(0.1)
        events = httpx.get(f"{server.api_url}/task/{task_id}/events", auth=auth).json()
    finally:
        server.stop()
    assert task["status"] == "error"
    assert "http://bob:***@127.0.0.1" in task["error"]
    assert "token=***" in task["error"]
    errored = [e for e in events["docs"] if e["action"] == "errored"]
    assert errored[0]["reason"] == task["error"]
    log = server.stderr_path.read_text()
    assert "http://bob:***@127.0.0.1" in log
    for text in (json.dumps(task), json.dumps(events), log):
        assert "s3cret" not in text
        assert "t0ken" not in text
