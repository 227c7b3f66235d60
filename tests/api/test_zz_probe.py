from __future__ import annotations
import httpx
from tests.api.support import create_task

async def test_probe(api, client_factory, account, settings, store):
    """x."""
    from hookline.ingress import create_app
    app = create_app(store=store, settings=settings)
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t", auth=(account.live_key, ""))
    for body in ({"x": 1e20}, {"x": 2**63}, {"x": 10**30}, {"metadata": {"m": 1e25}}, {"x": "a\u0000b"}, {"metadata": {"k\u0000": 1}}, {"x": 1.5e300}):
        r = await c.post("/v1/task/echo", json=body)
        print(body, r.status_code, r.text[:150])
    r = await c.get("/v1/tasks")
    print("list", r.status_code, r.text[:150])
    await c.aclose()
