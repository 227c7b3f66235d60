"""What works a task, chosen by task type from configuration.

A handler is an async callable `(task) -> Outcome`; it never touches the
store: the dispatcher applies what it returns. Types with no handler are
`manual`: they wait for a worker to claim them through the worker API.
"""

from __future__ import annotations

from hookline.handlers.base import Handler, HandlerSpec, PermanentFailure

__all__ = ["Handler", "HandlerSpec", "PermanentFailure"]
