"""HTML answers of the dashboard: the Jinja2 environment, its filters, the security headers."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from starlette.templating import Jinja2Templates

SECURITY_HEADERS = {
    # No script runs on these pages; styles come from /ui/static only.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def when(value: datetime | None) -> str:
    """A time as the pages show it: UTC, to the second."""
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M:%SZ")


def pretty(value: Any) -> str:
    """A JSON value, indented."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def capped(value: int, cap: int) -> str:
    """A count read with a cap: `10,000+` once it passed the cap."""
    return f"{cap:,}+" if value > cap else f"{value:,}"


@functools.cache
def templates() -> Jinja2Templates:
    """The pages' templates, loaded with Jinja2 on the first page asked for: a server whose
    dashboard nobody opens does not carry Jinja2."""
    import jinja2
    from starlette.templating import Jinja2Templates

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hookline.ui", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(when=when, pretty=pretty, capped=capped)
    return Jinja2Templates(env=env)


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """The template `name` with `context`, and the dashboard's security headers."""
    response = templates().TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response
