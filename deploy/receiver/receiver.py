"""An example callback receiver: verifies hookline's Standard Webhooks signature, then logs.

    WEBHOOK_SECRET=whsec_... RECEIVER_PORT=9000 python receiver.py

Answer 2xx only once the callback is safely handled: anything else is retried.
"""

from __future__ import annotations

import json
import logging
import os

from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError

log = logging.getLogger("receiver")


def verify(secret: str, body: bytes, headers: dict[str, str]) -> dict[str, object]:
    """The callback's JSON if the signature holds; raises WebhookVerificationError if not."""
    payload: dict[str, object] = Webhook(secret).verify(body, headers)
    return payload


async def callback(request: web.Request) -> web.Response:
    body = await request.read()
    secret = request.app["secret"]
    if not secret:
        return web.json_response({"error": "WEBHOOK_SECRET is not set"}, status=503)
    try:
        payload = verify(secret, body, dict(request.headers))
    except WebhookVerificationError:
        return web.json_response({"error": "bad signature"}, status=401)
    # webhook-id is the same on every retry of one delivery: use it to drop duplicates.
    log.info(
        "callback %s",
        json.dumps(
            {"webhook_id": request.headers["webhook-id"], "task_id": payload.get("task_id")}
        ),
    )
    return web.json_response({"ok": True})


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    app = web.Application()
    app["secret"] = os.environ.get("WEBHOOK_SECRET", "")
    app.router.add_post("/callback", callback)
    web.run_app(app, host="0.0.0.0", port=int(os.environ.get("RECEIVER_PORT", "9000")))  # noqa: S104


if __name__ == "__main__":
    main()
