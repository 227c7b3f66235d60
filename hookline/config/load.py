"""Building `Settings` from a TOML document and `HOOKLINE_*` variables. Pure."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hookline.config.checks import checked
from hookline.config.model import (
    _RENAMED,
    _SECRET_KEYS,
    _SECTIONS,
    DEFAULT_DATABASE_URL,
    DEFAULT_HANDLERS,
    HANDLER_KINDS,
    HandlerSettings,
    Settings,
    TypeSettings,
)
from hookline.redact import mask_url


def env_name(section: str | None, key: str) -> str:
    """The environment variable that overrides one setting."""
    parts = ["HOOKLINE", *([section] if section else []), key]
    return "_".join(parts).upper()


def load_settings(
    *,
    file_text: str | None = None,
    file_name: str = "hookline.toml",
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    read_text: Callable[[Path], str] | None = None,
) -> Settings:
    """Build settings from a TOML document, the environment and explicit overrides.

    Raises:
        ValueError: a setting is unknown or has the wrong type; the message names it.
    """
    environ = environ or {}
    try:
        doc = tomllib.loads(file_text) if file_text else {}
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{file_name}: {exc}") from exc

    known_top = {"database_url", "types", "handlers", *_SECTIONS}
    for key in doc:
        if key not in known_top:
            raise ValueError(f"{file_name}: unknown setting {key!r}")

    database_url = _coerce(
        "database_url", str, environ.get(env_name(None, "database_url"), doc.get("database_url"))
    )
    sections = {
        section: _section(section, cls, doc.get(section, {}), environ, file_name)
        for section, cls in _SECTIONS.items()
    }
    types = {
        name: _type_settings(name, table, file_name, read_text)
        for name, table in _table(doc.get("types", {}), "types", file_name).items()
    }
    settings = Settings(
        database_url=database_url or DEFAULT_DATABASE_URL,
        types=types,
        handlers=_handlers(doc, environ, file_name),
        **sections,
    )
    if overrides:
        settings = dataclasses.replace(settings, **overrides)
    return checked(settings)


def _section(
    section: str, cls: type[Any], table: Any, environ: Mapping[str, str], file_name: str
) -> Any:
    """One `[section]`: its table's values, each overridden by its environment variable."""
    if not isinstance(table, dict):
        raise ValueError(f"{file_name}: [{section}] must be a table")
    values: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in table:
        if key not in fields and (section, key) not in _RENAMED:
            raise ValueError(f"{file_name}: unknown setting {section}.{key}")
    for name, f in fields.items():
        raw = environ.get(env_name(section, name), table.get(name))
        if raw is None:
            raw = _renamed_value(section, name, table, environ)
        if raw is not None:
            values[name] = _coerce(f"{section}.{name}", _field_type(f), raw)
    return cls(**values)


def _handlers(
    doc: Mapping[str, Any], environ: Mapping[str, str], file_name: str
) -> dict[str, HandlerSettings]:
    """`[handlers.<type>]` from the file, or all of them from HOOKLINE_HANDLERS (JSON)."""
    handlers_doc = _table(doc.get("handlers", {}), "handlers", file_name)
    handlers_source = file_name
    handlers_env = environ.get(env_name(None, "handlers"))
    if handlers_env:
        handlers_source = "HOOKLINE_HANDLERS"
        try:
            handlers_doc = json.loads(handlers_env)
        except ValueError as exc:
            raise ValueError(f"HOOKLINE_HANDLERS is not a JSON object: {exc}") from exc
        handlers_doc = _table(handlers_doc, "handlers", "HOOKLINE_HANDLERS")
    handlers = dict(DEFAULT_HANDLERS)
    for name, table in handlers_doc.items():
        handlers[name] = _handler_settings(name, table, handlers_source)
    return handlers


def _renamed_value(
    section: str, name: str, table: Mapping[str, Any], environ: Mapping[str, str]
) -> Any:
    """The value set under an old name of `section.name`, if any."""
    for (where, old), new in _RENAMED.items():
        if where == section and new == name:
            return environ.get(env_name(section, old), table.get(old))
    return None


def _handler_settings(name: str, table: Any, file_name: str) -> HandlerSettings:
    where = f"handlers.{name}"
    table = _table(table, where, file_name)
    fields = {f.name: f for f in dataclasses.fields(HandlerSettings)}
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in fields:
            raise ValueError(f"{file_name}: unknown setting {where}.{key}")
        if raw is None:
            raise ValueError(f"{file_name}: setting {where}.{key} must not be null")
        kind = str if key in ("kind", "url", "target") else _field_type(fields[key])
        values[key] = _coerce(f"{where}.{key}", kind, raw)
    handler = HandlerSettings(**values)
    if handler.kind not in HANDLER_KINDS:
        raise ValueError(
            f"setting {where}.kind: {handler.kind!r} is not one of {', '.join(HANDLER_KINDS)}"
        )
    if handler.kind == "http" and not (handler.url or "").startswith(("http://", "https://")):
        raise ValueError(f"setting {where}.url: an http handler needs an http(s):// URL")
    if handler.kind == "python" and not handler.target:
        raise ValueError(
            f"setting {where}.target: a python handler needs module:function or an entry point"
        )
    if (
        handler.timeout_s <= 0
        or handler.max_attempts < 1
        or handler.backoff_s < 0
        or handler.backoff_max_s < 0
    ):
        raise ValueError(
            f"setting {where}: timeout_s must be > 0, max_attempts >= 1, "
            "backoff_s and backoff_max_s >= 0"
        )
    return handler


def _table(value: Any, where: str, file_name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{file_name}: [{where}] must be a table")
    return value


def _type_settings(
    name: str, table: Any, file_name: str, read_text: Callable[[Path], str] | None
) -> TypeSettings:
    table = _table(table, f"types.{name}", file_name)
    unknown = set(table) - {"params_schema"}
    if unknown:
        raise ValueError(f"{file_name}: unknown setting types.{name}.{sorted(unknown)[0]}")
    schema = table.get("params_schema")
    if isinstance(schema, str):
        # A path to a JSON Schema document; the caller resolves and reads it.
        path = Path(schema)
        if read_text is None:
            raise ValueError(f"{file_name}: types.{name}.params_schema: paths need a config file")
        try:
            schema = json.loads(read_text(path))
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"{file_name}: types.{name}.params_schema: cannot read {path}: {exc}"
            ) from exc
    if schema is not None and not isinstance(schema, dict):
        raise ValueError(
            f"{file_name}: types.{name}.params_schema must be a table or a path to a JSON file"
        )
    return TypeSettings(params_schema=schema)


def _field_type(f: dataclasses.Field[Any]) -> type[Any]:
    return {
        "int": int,
        "str": str,
        "float": float,
        "bool": bool,
        "tuple[float, ...]": _FloatList,
        "tuple[str, ...]": _StrList,
    }[str(f.type)]


class _FloatList(tuple[float, ...]):
    """A list setting of numbers: a TOML array, or a comma list in the environment."""


class _StrList(tuple[str, ...]):
    """A list setting of strings: a TOML array, or a comma list in the environment."""


def _coerce_list(name: str, kind: type[Any], raw: Any) -> tuple[Any, ...]:
    items = [p.strip() for p in raw.split(",") if p.strip()] if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple):
        raise ValueError(f"setting {name}: expected a list, got {raw!r}")
    item_kind = float if kind is _FloatList else str
    return tuple(_coerce(f"{name}[{i}]", item_kind, item) for i, item in enumerate(items))


def _coerce(name: str, kind: type[Any], raw: Any) -> Any:
    if raw is None:
        return None
    if kind in (_FloatList, _StrList):
        return _coerce_list(name, kind, raw)
    if isinstance(raw, str) and kind is not str:
        try:
            if kind is bool:
                lowered = raw.strip().lower()
                if lowered not in {"1", "0", "true", "false", "yes", "no"}:
                    raise ValueError(raw)
                return lowered in {"1", "true", "yes"}
            return kind(raw)
        except ValueError as exc:
            raise ValueError(f"setting {name}: {raw!r} is not a valid {kind.__name__}") from exc
    if kind is float and isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    if not isinstance(raw, kind) or (kind is int and isinstance(raw, bool)):
        raise ValueError(f"setting {name}: expected {kind.__name__}, got {raw!r}")
    return raw


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as a dict, with credentials in URLs masked (see `mask_url`)."""
    out = dataclasses.asdict(settings)
    for key in _SECRET_KEYS:
        out[key] = mask_url(out[key])
    for handler in out["handlers"].values():
        if handler["url"]:
            handler["url"] = mask_url(handler["url"])
    return out
