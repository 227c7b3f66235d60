"""Build the handlers the configuration names, once, at start-up."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from hookline.config import HandlerSettings
from hookline.handlers.base import HandlerSpec, echo, echo_response
from hookline.handlers.http import HttpHandler
from hookline.handlers.python import PythonHandler, load_target
from hookline.redact import mask_url
from hookline.retry import RetryPolicy


def build_handlers(
    configured: Mapping[str, HandlerSettings], session: aiohttp.ClientSession
) -> dict[str, HandlerSpec]:
    """Handlers by task type; `manual` types are left out (workers claim them).

    Raises:
        ValueError: a python target cannot be loaded; the message names it.
    """
    specs: dict[str, HandlerSpec] = {}
    for task_type, settings in configured.items():
        policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            backoff_s=settings.backoff_s,
            backoff_max_s=settings.backoff_max_s,
        )
        if settings.kind == "echo":
            handler, description = echo, "echo"
        elif settings.kind == "http":
            url = settings.url or ""
            handler = HttpHandler(session, url, timeout_s=settings.timeout_s)
            description = f"http {mask_url(url)}"
        elif settings.kind == "python":
            target = settings.target or ""
            handler = PythonHandler(load_target(target))
            description = f"python {target}"
        else:
            continue
        specs[task_type] = HandlerSpec(
            kind=settings.kind,
            handler=handler,
            timeout_s=settings.timeout_s,
            policy=policy,
            description=description,
            inline=echo_response if settings.kind == "echo" else None,
        )
    return specs
