"""`GET /docs`: Swagger UI from the package, loading nothing from another host."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from hookline.ingress.docs import STATIC
from tests.api.support import ok
from tests.conftest import ClientFactory


async def test_docs_and_every_asset_are_served_from_this_server(
    client_factory: ClientFactory,
) -> None:
    """The page and every file it references answer 200 here; no URL names another host."""
    anonymous = client_factory(None)
    page = await anonymous.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert not re.search(r"https?://", html)
    assert "default-src 'self'" in page.headers["content-security-policy"]
    referenced = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(referenced) == 3
    for path in referenced:
        assert path.startswith("/"), path
        asset = await anonymous.get(path)
        assert asset.status_code == 200, path
        assert asset.content == (STATIC / path.rsplit("/", 1)[1]).read_bytes()
    config = (await anonymous.get("/docs/static/docs.js")).text
    assert '"/v1/openapi.json"' in config
    assert "validatorUrl: null" in config  # no call to the online validator
    assert (await anonymous.get("/docs/static/VENDORED.md")).status_code == 404


def test_the_vendored_swagger_ui_carries_its_licence() -> None:
    """Swagger UI's Apache-2.0 licence and notice ship beside it."""
    assert "Apache License" in (STATIC / "LICENSE").read_text()
    assert "SmartBear" in (STATIC / "NOTICE").read_text()


async def test_the_rendered_document_is_valid_and_lists_docs_and_metrics(
    client_factory: ClientFactory,
) -> None:
    """openapi-spec-validator accepts the document; /docs and /metrics are in it, public."""
    document = ok(await client_factory(None).get("/v1/openapi.json"))
    validate(document)
    for path in ("/docs", "/metrics"):
        assert document["paths"][path]["get"]["security"] == []
