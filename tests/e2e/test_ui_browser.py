"""The dashboard in a real browser: Debian's chromium driven by Playwright, against a real
`hookline serve` delivering callbacks to a real receiver on 127.0.0.1.

Playwright cannot download a browser here; CI installs Debian's `chromium`
(see .ci/run), and these tests skip, saying so, when it is missing.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server, start_server
from tests.e2e.test_callbacks_e2e import ThreadedReceiver

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed (apt-get install chromium); CI installs it",
    ),
]
if CHROMIUM.exists():
    from playwright.sync_api import Browser, Page, expect, sync_playwright


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: $HOOKLINE_UI_SCREENSHOTS, else the test's tmp dir."""
    found = Path(os.environ.get("HOOKLINE_UI_SCREENSHOTS") or tmp_path / "screenshots")
    found.mkdir(parents=True, exist_ok=True)
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`hookline serve` on SQLite, callbacks allowed to 127.0.0.1 and retried quickly; one
    for the module (each test opens a browser context of its own: no cookie is shared)."""
    tmp_path = tmp_path_factory.mktemp("ui-serve")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env |= {
        "PYTHONUNBUFFERED": "1",
        "HOOKLINE_FILES_DIR": str(tmp_path / "files"),
        "HOOKLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hookline.db'}",
        "HOOKLINE_CALLBACKS_ALLOW_NETWORKS": "127.0.0.0/8",
        "HOOKLINE_CALLBACKS_SCHEDULE_S": "0,0.2,0.2",
        "HOOKLINE_CALLBACKS_TIMEOUT_S": "2",
    }
    found = start_server(tmp_path, env)
    yield found
    found.stop()


@pytest.fixture
def receiver(server: Server) -> Iterator[ThreadedReceiver]:
    found = ThreadedReceiver()
    found.secret = json.loads(server.cli("account", "show", "default").stdout)["test"][
        "webhook_secret"
    ]
    found.healthy = True
    yield found
    found.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


def _task(server: Server, key: str, **body: object) -> str:
    answer = httpx.post(f"{server.api_url}/task/echo", json=body, auth=(key, ""), timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["task_id"])


def _delivered(server: Server, key: str, task_id: str) -> None:
    until = time.monotonic() + 20
    while time.monotonic() < until:
        task = httpx.get(f"{server.api_url}/task/{task_id}", auth=(key, ""), timeout=10).json()
        if task["callback_completed"]:
            return
        time.sleep(0.1)
    raise AssertionError(f"the callback of {task_id} was not delivered")


def _sign_in(page: Page, base_url: str, key: str) -> None:
    page.goto(f"{base_url}/ui")
    expect(page).to_have_url(f"{base_url}/ui/login")
    page.fill("input[name=key]", key)
    page.click("button:has-text('Sign in')")


def test_dashboard_flow(
    server: Server, receiver: ThreadedReceiver, browser: Browser, shots: Path
) -> None:
    """Sign in, filter tasks, open one, see its timeline and attempts, resend, sign out."""
    key, url = server.test_key, f"http://127.0.0.1:{receiver.port}/cb"
    blue = [_task(server, key, callback_url=url, tags=["blue"], i=i) for i in range(2)]
    _task(server, key, callback_url=url, tags=["green"])
    for task_id in blue:
        _delivered(server, key, task_id)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, server.base_url, key)
    expect(page.get_by_test_id("task-depths")).to_contain_text("completed")
    page.screenshot(path=shots / "1-overview.png", full_page=True)

    page.click("nav >> text=Tasks")
    page.fill("input[name=tag]", "blue")
    page.select_option("select[name=status]", "completed")
    page.click("button:has-text('Filter')")
    rows = page.locator("[data-testid=tasks] tr:has(td)")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("showing")).to_contain_text("of 2")
    page.screenshot(path=shots / "2-tasks-filtered.png", full_page=True)

    page.click(f"text={blue[0]}")
    expect(page).to_have_url(f"{server.base_url}/ui/tasks/{blue[0]}")
    expect(page.get_by_test_id("timeline")).to_contain_text("callback_delivered")
    attempts = page.locator("[data-testid=attempts] tr.attempt")
    expect(attempts).to_have_count(1)
    expect(attempts.first).to_contain_text("204")
    page.screenshot(path=shots / "3-task.png", full_page=True)

    page.click("button:has-text('Resend callback')")
    expect(page.get_by_role("status")).to_contain_text("queued to be sent again")
    until = time.monotonic() + 20
    while attempts.count() < 2 and time.monotonic() < until:
        time.sleep(0.2)
        page.reload()
    expect(attempts).to_have_count(2)
    expect(attempts.nth(1)).to_contain_text("204")
    expect(page.get_by_test_id("timeline")).to_contain_text("callback_resent")
    page.screenshot(path=shots / "4-task-after-resend.png", full_page=True)

    page.click("button:has-text('Sign out')")
    expect(page).to_have_url(f"{server.base_url}/ui/login")
    page.goto(f"{server.base_url}/ui/tasks")
    expect(page).to_have_url(f"{server.base_url}/ui/login")
    page.screenshot(path=shots / "5-signed-out.png", full_page=True)


def test_wrong_key_is_refused(server: Server, browser: Browser, shots: Path) -> None:
    """A wrong key gets the form again with the refusal, and no page behind it."""
    page = browser.new_page()
    _sign_in(page, server.base_url, "test_" + "0" * 44)
    expect(page.get_by_role("alert")).to_have_text("Invalid or revoked API key")
    page.screenshot(path=shots / "6-wrong-key.png", full_page=True)
    page.goto(f"{server.base_url}/ui")
    expect(page).to_have_url(f"{server.base_url}/ui/login")


def test_other_accounts_task_is_a_404_page(server: Server, browser: Browser, shots: Path) -> None:
    """Another account's task id shows a 404 page, not the task."""
    created = server.cli("keys", "create", "--account", "other", "--test")
    assert created.returncode == 0, created.stderr
    other_key = created.stdout.strip().splitlines()[-1]
    theirs = _task(server, other_key, instruction="not-for-your-eyes")
    page = browser.new_page()
    _sign_in(page, server.base_url, server.test_key)
    expect(page.get_by_test_id("who")).to_contain_text("default")
    answer = page.goto(f"{server.base_url}/ui/tasks/{theirs}")
    assert answer is not None
    assert answer.status == 404
    expect(page.locator("h1")).to_contain_text("404")
    expect(page.locator("body")).not_to_contain_text("not-for-your-eyes")
    assert re.search(rf"Task {theirs} not found", page.content())
    page.screenshot(path=shots / "7-other-account-404.png", full_page=True)
