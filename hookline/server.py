"""The uvicorn server, owning sockets and signals; hookline decides how to exit."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

import uvicorn


class Server(uvicorn.Server):
    """uvicorn's server, except that SIGTERM/SIGINT end `serve()` without re-raising.

    uvicorn re-raises a captured signal after shutdown, which kills the process
    before its owner can close the store; here the owner finishes cleanly.
    `on_exit` runs on the first signal, so the dispatcher stops claiming at once.
    """

    on_exit: Callable[[], None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self.on_exit is not None:
            self.on_exit()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
