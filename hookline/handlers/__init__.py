"""What works a task. For now: the sample responses of Scale's test environment."""

from __future__ import annotations
