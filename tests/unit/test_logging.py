"""`configure_logging`: one pipeline for structlog and the standard library, filtered by level."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from hookline.logging import configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def _lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_a_level_below_the_setting_is_dropped_and_the_rest_are_json_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("warning", json=True)
    log = structlog.get_logger("hookline.test")
    log.debug("not_shown", n=1)
    log.info("not_shown_either")
    log.warning("shown", n=2)
    logging.getLogger("uvicorn.error").warning("from the standard library")
    lines = _lines(capsys.readouterr().err)
    assert [line["event"] for line in lines] == ["shown", "from the standard library"]
    assert lines[0]["n"] == 2
    assert lines[0]["level"] == "warning"
    assert lines[0]["logger"] == "hookline.test"
    assert "timestamp" in lines[0]


def test_debug_shows_debug_lines_with_bound_and_context_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("debug", json=True)
    log = structlog.get_logger("hookline.test").bind(worker="w1")
    with structlog.contextvars.bound_contextvars(request_id="r1"):
        log.debug("detail", n=3)
    try:
        raise LookupError("gone")
    except LookupError:
        log.exception("failed")
    detail, failed = _lines(capsys.readouterr().err)
    assert detail == detail | {"event": "detail", "n": 3, "worker": "w1", "request_id": "r1"}
    assert failed["level"] == "error"
    assert "LookupError: gone" in str(failed["exception"])
