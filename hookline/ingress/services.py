"""What endpoints need, handed to the app once (see `create_app`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request

from hookline.config import Settings
from hookline.schemas import ParamValidator
from hookline.store import Store


@dataclass(frozen=True, slots=True)
class Services:
    store: Store
    settings: Settings
    validator: ParamValidator
    files_dir: Path


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found
