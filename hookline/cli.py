"""The `hookline` command: the root group and the roles (serve, api, worker).

The roles themselves run in `hookline.runtime`; the other subcommands live in
`hookline.commands` and are added to the root group `main` below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import click
import structlog

import hookline
from hookline import runtime
from hookline.commands.account import account
from hookline.commands.common import common, run, settings_from
from hookline.commands.config_cmd import config_group
from hookline.commands.db import migrate
from hookline.commands.keys import keys
from hookline.commands.receive import receive
from hookline.logging import configure_logging

log = structlog.get_logger("hookline")

DEV_NETWORKS = ("127.0.0.0/8", "::1/128")


CLIENT_COMMANDS = ("submit", "tasks", "events", "deliveries", "stats")
"""The HTTP client's commands (hookline/client/), imported only when one is run or listed,
so that a server process does not carry the client's modules (rich, its renderers)."""


class _Root(click.Group):
    """The root group, with the client's commands loaded on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *CLIENT_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in CLIENT_COMMANDS and cmd_name not in self.commands:
            from hookline.client.commands import COMMANDS

            for command in COMMANDS:
                self.add_command(command)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(hookline.__version__, prog_name="hookline")
def main() -> None:
    """hookline: a task pipeline with guaranteed callbacks and a Scale-compatible API.

    Start with `hookline serve`: it creates ./hookline.db, migrates it, prints
    an API key on first start, and listens on http://127.0.0.1:8000/v1.
    """


def _server_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--log-level",
        type=click.Choice(["debug", "info", "warning", "error"]),
        default="info",
        show_default=True,
        help="debug logs every request.",
    )(f)
    f = click.option(
        "--port", type=int, help="Port to listen on [default 8000; HOOKLINE_SERVER_PORT]."
    )(f)
    return click.option(
        "--host", help="Interface to listen on [default 127.0.0.1; HOOKLINE_SERVER_HOST]."
    )(f)


def _given(**values: Any) -> dict[str, Any]:
    """The flags that were given, as settings overrides."""
    return {k: v for k, v in values.items() if v is not None}


@main.command(short_help="Run the API, the dispatcher and the callback sender in one process.")
@common
@_server_options
@click.option(
    "--dev",
    is_flag=True,
    help="Local development: callbacks may reach loopback (adds 127.0.0.0/8 and ::1/128 "
    "to callbacks.allow_networks). Never in production.",
)
def serve(
    config: str | None,
    database_url: str | None,
    host: str | None,
    port: int | None,
    log_level: str,
    dev: bool,
) -> None:
    """Run everything in one process: the API and the dispatcher (SQLite by default).

    Creates the schema on an empty database and an account with keys on first start.
    """
    configure_logging(log_level)
    settings = settings_from(config, database_url, server=_given(host=host, port=port))
    if dev:
        allow = tuple(dict.fromkeys((*settings.callbacks.allow_networks, *DEV_NETWORKS)))
        callbacks = dataclasses.replace(settings.callbacks, allow_networks=allow)
        settings = dataclasses.replace(settings, callbacks=callbacks)
        log.warning(
            "dev_mode_loopback_callbacks_allowed",
            allow_networks=list(allow),
            note="--dev lets callbacks reach this machine; never use it in production",
        )
    run(runtime.serve(settings))


@main.command(short_help="Run the API alone (any number behind a load balancer).")
@common
@_server_options
def api(
    config: str | None, database_url: str | None, host: str | None, port: int | None, log_level: str
) -> None:
    """Run the API alone (scale out: any number behind a load balancer, one PostgreSQL)."""
    configure_logging(log_level)
    settings = settings_from(config, database_url, server=_given(host=host, port=port))
    run(runtime.api(settings))


@main.command(short_help="Run the dispatcher and the callback sender alone.")
@common
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
@click.option(
    "--health-port",
    type=int,
    envvar="HOOKLINE_WORKER_HEALTH_PORT",
    help="Serve /healthz and /readyz on this port (on --host) for an orchestrator's probes.",
)
@click.option("--host", help="Interface for --health-port [default 127.0.0.1].")
def worker(
    config: str | None,
    database_url: str | None,
    log_level: str,
    health_port: int | None,
    host: str | None,
) -> None:
    """Run the dispatcher and the callback sender alone (any number of processes)."""
    configure_logging(log_level)
    settings = settings_from(config, database_url, server=_given(host=host, port=health_port))
    run(runtime.worker(settings, health=health_port is not None))


for _command in (migrate, keys, account, receive, config_group):
    main.add_command(_command)
