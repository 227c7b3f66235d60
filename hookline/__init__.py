"""hookline: a self-hosted task pipeline with guaranteed callbacks."""

from __future__ import annotations

import sys

__version__ = "0.1.0"


def _import_structlog_without_rich() -> None:
    """Import structlog while rich is hidden.

    structlog's console renderer imports rich, when it is installed, to draw
    exceptions: 3 MB in every process, servers included. hookline's logs print
    plain tracebacks instead. rich stays importable afterwards for the client
    commands, which draw their tables and progress bars with it.
    """
    if "structlog" in sys.modules or "rich" in sys.modules:
        return
    sys.modules["rich"] = None  # type: ignore[assignment]  # `import rich` raises ImportError
    try:
        import structlog  # noqa: F401
    finally:
        del sys.modules["rich"]


_import_structlog_without_rich()
