"""`GET /metrics`, and counting HTTP requests by route template.

`/metrics` is public unless `metrics.require_key` is set: Prometheus scrapes
without credentials by default, and the numbers are the process's own (no
task ids, no payloads). They span every account, so where tenants must not
see each other's task types, set `require_key` (an admin-scoped key, sent as
HTTP Basic or Bearer: Prometheus's `basic_auth` or `authorization`), or keep
the port private.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Scope

from hookline.config import MetricsSettings, Settings
from hookline.ingress.auth import Authenticator, require_scope
from hookline.metrics import UNMATCHED, Metrics
from hookline.models import Scope as KeyScope
from hookline.store import Store

METRICS_PATH = "/metrics"


def metrics_route(
    metrics: Metrics, settings: MetricsSettings, authenticate: Authenticator
) -> Route:
    """The `/metrics` route of an app: this process's metrics in Prometheus's text format."""

    async def endpoint(request: Request) -> Response:
        if settings.require_key:
            who = await authenticate(request.headers.get("authorization"))
            require_scope(who, KeyScope.ADMIN)
        await metrics.refresh_queue_depth()
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return Route(METRICS_PATH, endpoint, methods=["GET"])


class RouteTemplates:
    """The path template of the route a request goes to (`/v1/task/{task_id}`), or `unmatched`.

    Only the path is matched (a 405 is named by its route too), on the raw path as
    `RawPathRouting` routes; the routes' own regexes, in the router's order.
    """

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._patterns: list[tuple[re.Pattern[str], str]] = [
            (route.path_regex, route.path) for route in routes if isinstance(route, Route | Mount)
        ]

    def __call__(self, scope: Scope) -> str:
        raw = scope.get("raw_path")
        path = raw.decode("latin-1").partition("?")[0] if raw else scope["path"]
        for pattern, template in self._patterns:
            if pattern.match(path):
                return template
        return UNMATCHED


class RequestMetrics:
    """Count each answered request (`hookline_http_requests_total{route,status}`) and time
    it: `RequestContext`'s `observe`.

    The route is the one Starlette's router chose (it leaves it in the scope); a
    request answered before routing (413, 429) is named by `RouteTemplates`.
    """

    def __init__(self, metrics: Metrics, routes: Sequence[BaseRoute]) -> None:
        self.metrics = metrics
        self.route_of = RouteTemplates(routes)

    def __call__(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = route.path if isinstance(route, Route | Mount) else self.route_of(scope)
        self.metrics.http_request(template, status, seconds)


def app_metrics(store: Store, settings: Settings) -> Metrics:
    """The metrics of one process: configured types named first, queue depths from `store`."""
    return Metrics(
        max_types=settings.metrics.max_types,
        known_types=sorted({*settings.handlers, *settings.types}),
        queue_depth=store.stats.queue_depth,
    )


def metrics_of(request: Request) -> Metrics:
    """The app's `Metrics` (set by `create_app`), for an endpoint's hook."""
    found: Metrics = request.app.state.metrics
    return found
