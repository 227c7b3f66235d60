from __future__ import annotations

import httpx
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs


async def test_request_id_is_answered_and_logged(api: httpx.AsyncClient) -> None:
    """A caller's x-request-id comes back and names the request in the logs."""
    with capture_logs(processors=[merge_contextvars]) as logs:
        response = await api.get("/v1/tasks", headers={"x-request-id": "lb-123"})
    assert response.headers["x-request-id"] == "lb-123"
    assert {"event": "http_request", "request_id": "lb-123", "status": 200} in [
        {k: e.get(k) for k in ("event", "request_id", "status")} for e in logs
    ]


async def test_malformed_request_id_is_replaced(api: httpx.AsyncClient) -> None:
    """A request id with odd characters is replaced by a generated one."""
    response = await api.get("/v1/tasks", headers={"x-request-id": "bad id!"})
    assert response.headers["x-request-id"] != "bad id!"
    assert len(response.headers["x-request-id"]) == 32
