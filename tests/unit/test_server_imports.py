"""What a server process imports: nothing it does not use (each module costs every process)."""

from __future__ import annotations

import subprocess
import sys


def _probe(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_a_server_does_not_load_rich_through_structlog() -> None:
    """structlog would import rich to draw exceptions (3 MB a process)."""
    assert _probe("import sys, hookline.cli, hookline.runtime; print('rich' in sys.modules)") == (
        "False"
    )


def test_rich_stays_importable_for_the_client_commands() -> None:
    probe = (
        "import hookline.cli, hookline.client.render, structlog.dev, sys; "
        "print('rich' in sys.modules, structlog.dev.rich is None)"
    )
    assert _probe(probe) == "True True"


def test_exceptions_in_console_logs_are_plain_tracebacks() -> None:
    """Not rich's boxes, which also print the frames' local variables (tenant data)."""
    probe = (
        "import hookline, structlog\n"
        "try:\n"
        "    raise ValueError('boom')\n"
        "except ValueError:\n"
        "    print(structlog.dev.ConsoleRenderer(colors=False)(None, 'error',"
        " {'event': 'failed', 'exc_info': True}))\n"
    )
    out = _probe(probe)  # hookline first: structlog is imported through it
    assert out.splitlines()[1] == "Traceback (most recent call last):"
    assert "ValueError: boom" in out
    assert "locals" not in out
