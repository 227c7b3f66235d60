"""Fixtures of the in-process dashboard tests: an unauthenticated client of the app."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ClientFactory


@pytest.fixture
def web(client_factory: ClientFactory) -> httpx.AsyncClient:
    """A client with no API key: it signs in through the login form and keeps cookies."""
    return client_factory()
