"""What the commands share: `--config`/`--database-url`, settings, the event loop, the store."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from hookline.config import Settings, checked, load_settings
from hookline.errors import HooklineError, Misconfigured, Unavailable
from hookline.startup import check_database_file
from hookline.store import SchemaState, Store, open_store

T = TypeVar("T")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (uvicorn[standard] brings it on Linux and macOS):
    the same asyncio API with cheaper sockets and scheduling; asyncio's loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to its end; hookline's errors become one `Error: …` line and exit 1."""
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(coro)
    except Misconfigured as exc:
        raise click.ClickException(exc.reason) from exc
    except Unavailable as exc:
        raise click.ClickException(
            f"cannot reach the database: {exc.reason}; check database_url "
            "(--database-url, HOOKLINE_DATABASE_URL) and that the server is up"
        ) from exc
    except HooklineError as exc:
        raise click.ClickException(exc.message) from exc


def settings_from(config: str | None, database_url: str | None, **overrides: Any) -> Settings:
    """Settings from the file (--config, HOOKLINE_CONFIG or ./hookline.toml), the
    environment and the flags: `overrides` maps a section to the values its flags set."""
    path = Path(config) if config else Path(os.environ.get("HOOKLINE_CONFIG", "hookline.toml"))
    explicit = config is not None or "HOOKLINE_CONFIG" in os.environ
    text = None
    if path.is_file():
        text = path.read_text()
    elif explicit:
        raise click.BadParameter(f"config file {path} does not exist", param_hint="--config")
    try:
        settings = load_settings(
            file_text=text,
            file_name=str(path),
            environ=os.environ,
            read_text=lambda p: (path.parent / p).read_text(),
        )
        if database_url:
            settings = dataclasses.replace(settings, database_url=database_url)
        for section, values in overrides.items():
            if values:
                current = getattr(settings, section)
                settings = dataclasses.replace(
                    settings, **{section: dataclasses.replace(current, **values)}
                )
        return checked(settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def common(f: Callable[..., Any]) -> Callable[..., Any]:
    """The options every command that reads settings takes: --config and --database-url."""
    f = click.option(
        "--database-url",
        envvar="HOOKLINE_DATABASE_URL",
        help="sqlite:///PATH (default hookline.db) or postgresql://USER@HOST/DB.",
    )(f)
    return click.option(
        "--config",
        type=click.Path(dir_okay=False),
        help="TOML settings file [env HOOKLINE_CONFIG; default ./hookline.toml if present].",
    )(f)


def with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open the store (whose schema must be current), run `work` with it, close it."""

    async def go() -> T:
        check_database_file(settings.database_url, create=False)
        store = open_store(settings.database_url, settings.database)
        try:
            if await store.schema_state() is not SchemaState.CURRENT:
                raise click.ClickException(
                    "the database has no current schema; run `hookline migrate` first"
                )
            return await work(store)
        finally:
            await store.close()

    return run(go())
