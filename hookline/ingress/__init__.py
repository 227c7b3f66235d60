"""The HTTP edge: a Starlette application over the store."""

from __future__ import annotations

from hookline.ingress.app import create_app, create_health_app

__all__ = ["create_app", "create_health_app"]
