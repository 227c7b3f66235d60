"""hookline: a self-hosted task pipeline with guaranteed callbacks."""

from __future__ import annotations

__version__ = "0.1.0"
