"""A development callback receiver: prints each callback and verifies its signature.

`hookline receive` runs it on 127.0.0.1:9000; the README's quick start points
callbacks at it. Each POST is checked as a receiver in production should check
it: the Standard Webhooks signature (https://www.standardwebhooks.com/) with
the account's webhook secret, and Scale's `scale-callback-auth` header when
the account's callback auth key is known. A verified callback is answered 200;
anything else 400, so the sender records a failed attempt and tries again.
"""

from __future__ import annotations

import asyncio
import binascii
import hmac
import itertools
import signal
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web
from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError, WebhookVerificationError

from hookline.signing import SECRET_PREFIX

_WHERE_FROM = "the webhook_secret (whsec_…) that `hookline account show NAME` prints"


def parse_secret(secret: str) -> Webhook:
    """A verifier for `secret`; ValueError naming what was expected when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {SECRET_PREFIX}: use {_WHERE_FROM}")
    try:
        return Webhook(secret)
    except (binascii.Error, ValueError, EmptyWebhookSecretError) as exc:
        raise ValueError(
            f"the webhook secret is not valid base64 after whsec_: use {_WHERE_FROM}"
        ) from exc


def summary(raw: bytes) -> str:
    """A callback body on one line, without the (long) task object a task's callback carries."""
    try:
        body: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode(errors="replace")
    if isinstance(body, dict) and "task" in body:
        body = {k: v for k, v in body.items() if k != "task"}
    return orjson.dumps(body).decode()


def receiver_app(
    webhook: Webhook, *, callback_auth_key: str | None, echo: Callable[[str], None]
) -> web.Application:
    """An app that answers every POST: verified callbacks 200, anything else 400."""
    numbers = itertools.count(1)

    async def receive(request: web.Request) -> web.Response:
        raw = await request.read()
        number = next(numbers)
        msg_id = request.headers.get("webhook-id", "-")
        where = f"#{number} POST {request.path} webhook-id={msg_id}"
        try:
            webhook.verify(raw, dict(request.headers), json_parse=False)
        except (WebhookVerificationError, ValueError) as exc:
            # ValueError: a malformed signature header, or a body that is not UTF-8.
            echo(f"{where}: signature NOT verified ({exc}); answered 400")
            return web.json_response({"error": f"signature not verified: {exc}"}, status=400)
        if callback_auth_key is not None and not hmac.compare_digest(
            request.headers.get("scale-callback-auth", ""), callback_auth_key
        ):
            echo(f"{where}: scale-callback-auth does NOT match the account's; answered 400")
            return web.json_response({"error": "scale-callback-auth does not match"}, status=400)
        checked = "signature and scale-callback-auth" if callback_auth_key else "signature"
        echo(f"{where}: {checked} verified")
        echo(f"  {summary(raw)}")
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/{path:.*}", receive)
    return app


async def serve_receiver(
    app: web.Application, *, host: str, port: int, ready: Callable[[str], None]
) -> None:
    """Listen on host:port until SIGINT or SIGTERM; OSError when the port cannot be had."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        shown = f"[{host}]" if ":" in host else host
        ready(f"http://{shown}:{port}")
        await stop.wait()
    finally:
        await runner.cleanup()
