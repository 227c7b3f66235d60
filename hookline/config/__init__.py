"""Settings: defaults, overridden by a TOML file, overridden by `HOOKLINE_*` variables.

Pure: the caller reads the file and the environment and passes them in.
Every scalar setting has one environment name, `HOOKLINE_<SECTION>_<KEY>`
(top-level keys: `HOOKLINE_<KEY>`). Per-type tables (`[types.<name>]`) come
from the file only.
"""

from __future__ import annotations

from hookline.config.checks import checked, database_url, sqlite_path
from hookline.config.load import env_name, load_settings, masked
from hookline.config.model import (
    _SECTIONS,
    DEFAULT_DATABASE_URL,
    DEFAULT_HANDLERS,
    DEFAULT_SCHEDULE_S,
    HANDLER_KINDS,
    CallbacksSettings,
    DatabaseSettings,
    DispatcherSettings,
    FilesSettings,
    HandlerSettings,
    LimitsSettings,
    MetricsSettings,
    RateLimitsSettings,
    RetentionSettings,
    ServerSettings,
    Settings,
    TypeSettings,
    public_base_url,
)

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_HANDLERS",
    "DEFAULT_SCHEDULE_S",
    "HANDLER_KINDS",
    "_SECTIONS",
    "CallbacksSettings",
    "DatabaseSettings",
    "DispatcherSettings",
    "FilesSettings",
    "HandlerSettings",
    "LimitsSettings",
    "MetricsSettings",
    "RateLimitsSettings",
    "RetentionSettings",
    "ServerSettings",
    "Settings",
    "TypeSettings",
    "checked",
    "database_url",
    "env_name",
    "load_settings",
    "masked",
    "public_base_url",
    "sqlite_path",
]
