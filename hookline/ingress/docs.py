"""`GET /docs`: the OpenAPI document rendered by Swagger UI, from files inside the package.

Swagger UI 5 (vendored from the npm package `swagger-ui-dist`, see
`static/swagger-ui/VENDORED.md`) renders OpenAPI 3.1. The page loads nothing
from another host: its Content-Security-Policy allows this server only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

STATIC = Path(__file__).parent / "static" / "swagger-ui"
DOCS_PATH = "/docs"
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "docs.js": "text/javascript; charset=utf-8",
}
ASSET_PATHS = frozenset(f"{DOCS_PATH}/static/{name}" for name in ASSETS)

# Swagger UI sets inline styles and uses data: images; everything else comes from here.
_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'"
)
_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>hookline API</title>
  <link rel="stylesheet" href="{DOCS_PATH}/static/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{DOCS_PATH}/static/swagger-ui-bundle.js"></script>
  <script src="{DOCS_PATH}/static/docs.js"></script>
</body>
</html>
"""


async def docs_page(request: Request) -> Response:
    return HTMLResponse(_PAGE, headers={"content-security-policy": _CSP})


def _asset(name: str, media_type: str) -> Route:
    async def endpoint(request: Request) -> Response:
        return FileResponse(
            STATIC / name,
            media_type=media_type,
            headers={"cache-control": "public, max-age=86400"},
        )

    return Route(f"{DOCS_PATH}/static/{name}", endpoint, methods=["GET"])


def docs_routes() -> list[Route]:
    """`/docs` and its assets (a route each: nothing else in the folder is served)."""
    return [
        Route(DOCS_PATH, docs_page, methods=["GET"]),
        *(_asset(name, media_type) for name, media_type in ASSETS.items()),
    ]


def _public(summary: str, operation_id: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "tags": ["operations"],
            "security": [],
            "responses": {"200": {"description": "Success", "content": content}},
        }
    }


def operations_paths(*, metrics_require_key: bool) -> dict[str, Any]:
    """The OpenAPI entries of `/docs` and `/metrics` (public unless metrics.require_key)."""
    text = {"text/plain": {"schema": {"type": "string"}}}
    metrics = _public(
        "Prometheus metrics of this process (text exposition format)", "get_metrics", text
    )
    if metrics_require_key:
        operation = metrics["get"]
        del operation["security"]
        operation["description"] = "Needs an admin-scoped key (metrics.require_key)."
        error = {"$ref": "#/components/schemas/Error"}
        for code, description in (("401", "Missing or invalid API key"), ("403", "Not admin")):
            operation["responses"][code] = {
                "description": description,
                "content": {"application/json": {"schema": error}},
            }
    return {
        "/docs": _public(
            "This document, rendered by Swagger UI",
            "get_docs",
            {"text/html": {"schema": {"type": "string"}}},
        ),
        "/metrics": metrics,
    }
