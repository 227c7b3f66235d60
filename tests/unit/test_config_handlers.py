"""Settings for handlers (`[handlers.<type>]`, HOOKLINE_HANDLERS) and the dispatcher."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from hookline.config import (
    DispatcherSettings,
    HandlerSettings,
    Settings,
    load_settings,
)

FILE = """
[handlers.categorization]
kind = "http"
url = "http://labeler.internal:8000/work"
timeout_s = 30
max_attempts = 5
backoff_s = 2
backoff_max_s = 60

[handlers.sentiment]
kind = "python"
target = "mypkg.handlers:sentiment"
timeout_s = 2.5

[handlers.review]
kind = "manual"

[dispatcher]
concurrency = 8
lease_s = 30
batch_size = 10
poll_s = 0.5
drain_s = 5
"""


def test_defaults_configure_echo_and_the_dispatcher() -> None:
    """With no file, the echo type uses the echo handler and the dispatcher has its defaults."""
    settings = load_settings()

    assert dict(settings.handlers) == {"echo": HandlerSettings(kind="echo")}
    assert settings.dispatcher == DispatcherSettings(
        concurrency=64, lease_s=60.0, claim_size=50, poll_s=1.0, drain_s=10.0
    )


def test_handler_defaults_are_manual_with_a_policy() -> None:
    """A handler table that says nothing is manual with a 30 s timeout and 3 attempts."""
    handler = load_settings(file_text="[handlers.people]\n").handlers["people"]

    assert handler == HandlerSettings(
        kind="manual",
        url=None,
        target=None,
        timeout_s=30.0,
        max_attempts=3,
        backoff_s=1.0,
        backoff_max_s=300.0,
    )


def test_file_configures_http_python_and_manual_types() -> None:
    """Each [handlers.<type>] table becomes that type's handler settings; echo stays."""
    settings = load_settings(file_text=FILE)

    assert dict(settings.handlers) == {
        "echo": HandlerSettings(kind="echo"),
        "categorization": HandlerSettings(
            kind="http",
            url="http://labeler.internal:8000/work",
            timeout_s=30.0,
            max_attempts=5,
            backoff_s=2.0,
            backoff_max_s=60.0,
        ),
        "sentiment": HandlerSettings(
            kind="python", target="mypkg.handlers:sentiment", timeout_s=2.5
        ),
        "review": HandlerSettings(kind="manual"),
    }


def test_integer_durations_become_floats() -> None:
    """TOML integers given for seconds are stored as floats."""
    http = load_settings(file_text=FILE).handlers["categorization"]

    assert isinstance(http.timeout_s, float)
    assert isinstance(http.backoff_s, float)
    assert isinstance(http.backoff_max_s, float)


def test_file_can_reconfigure_the_echo_type() -> None:
    """A [handlers.echo] table replaces the built-in default for that type."""
    settings = load_settings(file_text='[handlers.echo]\nkind = "manual"\n')

    assert settings.handlers["echo"] == HandlerSettings(kind="manual")


def test_hookline_handlers_env_overrides_the_file() -> None:
    """HOOKLINE_HANDLERS, a JSON object, wins over the file's handler tables."""
    env = {
        "categorization": {"kind": "echo"},
        "extra": {"kind": "http", "url": "https://worker.example/run", "timeout_s": 5},
    }

    settings = load_settings(file_text=FILE, environ={"HOOKLINE_HANDLERS": json.dumps(env)})

    assert settings.handlers["categorization"] == HandlerSettings(kind="echo")
    assert settings.handlers["extra"] == HandlerSettings(
        kind="http", url="https://worker.example/run", timeout_s=5.0
    )
    assert settings.handlers["echo"] == HandlerSettings(kind="echo")


def test_empty_hookline_handlers_env_keeps_the_file() -> None:
    """An empty HOOKLINE_HANDLERS is treated as unset."""
    settings = load_settings(file_text=FILE, environ={"HOOKLINE_HANDLERS": ""})

    assert settings.handlers == load_settings(file_text=FILE).handlers


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("{not json", id="not-json"),
        pytest.param("[1, 2]", id="array"),
        pytest.param('"echo"', id="string"),
    ],
)
def test_hookline_handlers_env_must_be_a_json_object(value: str) -> None:
    """A HOOKLINE_HANDLERS that is not a JSON object is a ValueError naming the variable."""
    with pytest.raises(ValueError, match="HOOKLINE_HANDLERS"):
        load_settings(environ={"HOOKLINE_HANDLERS": value})


def test_dispatcher_section_from_the_file() -> None:
    """[dispatcher] values replace the defaults, coerced to their types."""
    dispatcher = load_settings(file_text=FILE).dispatcher

    assert dispatcher == DispatcherSettings(
        concurrency=8, lease_s=30.0, claim_size=10, poll_s=0.5, drain_s=5.0
    )
    assert isinstance(dispatcher.lease_s, float)


@pytest.mark.parametrize(
    ("variable", "value", "read", "expected"),
    [
        pytest.param(
            "HOOKLINE_DISPATCHER_CONCURRENCY",
            "4",
            lambda s: s.dispatcher.concurrency,
            4,
            id="concurrency",
        ),
        pytest.param(
            "HOOKLINE_DISPATCHER_LEASE_S", "12.5", lambda s: s.dispatcher.lease_s, 12.5, id="lease"
        ),
        pytest.param(
            "HOOKLINE_DISPATCHER_BATCH_SIZE",
            "3",
            lambda s: s.dispatcher.claim_size,
            3,
            id="batch-size",
        ),
        pytest.param(
            "HOOKLINE_DISPATCHER_CLAIM_SIZE",
            "4",
            lambda s: s.dispatcher.claim_size,
            4,
            id="claim-size",
        ),
        pytest.param(
            "HOOKLINE_DISPATCHER_POLL_S", "0.25", lambda s: s.dispatcher.poll_s, 0.25, id="poll"
        ),
        pytest.param(
            "HOOKLINE_DISPATCHER_DRAIN_S", "20", lambda s: s.dispatcher.drain_s, 20.0, id="drain"
        ),
        pytest.param(
            "HOOKLINE_DISPATCHER_IDLE_POLL_S",
            "30",
            lambda s: s.dispatcher.idle_poll_s,
            30.0,
            id="idle-poll",
        ),
        pytest.param(
            "HOOKLINE_CALLBACKS_IDLE_POLL_S",
            "2.5",
            lambda s: s.callbacks.idle_poll_s,
            2.5,
            id="callbacks-idle-poll",
        ),
    ],
)
def test_dispatcher_environment_overrides_the_file(
    variable: str, value: str, read: Callable[[Settings], object], expected: object
) -> None:
    """HOOKLINE_DISPATCHER_* variables win over [dispatcher] in the file."""
    from_file = read(load_settings(file_text=FILE))

    got = read(load_settings(file_text=FILE, environ={variable: value}))

    assert got == expected
    assert got != from_file


def test_dispatcher_environment_leaves_other_dispatcher_settings() -> None:
    """Overriding one dispatcher setting keeps the file's other dispatcher values."""
    dispatcher = load_settings(
        file_text=FILE, environ={"HOOKLINE_DISPATCHER_CONCURRENCY": "2"}
    ).dispatcher

    assert dispatcher == DispatcherSettings(
        concurrency=2, lease_s=30.0, claim_size=10, poll_s=0.5, drain_s=5.0
    )


BAD_HANDLERS = [
    pytest.param('[handlers.x]\nkind = "ftp"\n', "handlers.x.kind", id="unknown-kind"),
    pytest.param('[handlers.x]\nkind = "http"\n', "handlers.x.url", id="http-without-url"),
    pytest.param(
        '[handlers.x]\nkind = "http"\nurl = "ftp://files.example/x"\n',
        "handlers.x.url",
        id="http-with-ftp-url",
    ),
    pytest.param('[handlers.x]\nkind = "python"\n', "handlers.x.target", id="python-no-target"),
    pytest.param(
        '[handlers.x]\nkind = "python"\ntarget = ""\n',
        "handlers.x.target",
        id="python-empty-target",
    ),
    pytest.param("[handlers.x]\nretries = 2\n", "handlers.x.retries", id="unknown-key"),
    pytest.param("[handlers.x]\nmax_attempts = 0\n", "max_attempts", id="max-attempts-0"),
    pytest.param("[handlers.x]\ntimeout_s = 0\n", "timeout_s", id="timeout-0"),
    pytest.param("[handlers.x]\nbackoff_s = -1\n", "backoff_s", id="backoff-negative"),
    pytest.param("[handlers.x]\ntimeout_s = 'soon'\n", "handlers.x.timeout_s", id="timeout-str"),
    pytest.param(
        "[handlers.x]\nmax_attempts = true\n", "handlers.x.max_attempts", id="attempts-bool"
    ),
    pytest.param("[handlers.x]\nkind = 3\n", "handlers.x.kind", id="kind-int"),
    pytest.param("[handlers]\nx = 1\n", "handlers.x", id="handler-not-a-table"),
    pytest.param("handlers = 1\n", "[handlers]", id="handlers-not-a-table"),
    pytest.param(
        "[handlers.x]\nbackoff_max_s = -1\n",
        "backoff_max_s",
        id="backoff-max-negative",
    ),
]


@pytest.mark.parametrize(("file_text", "named"), BAD_HANDLERS)
def test_bad_handler_settings_raise_naming_the_setting(file_text: str, named: str) -> None:
    """A misconfigured handler is a ValueError naming the setting."""
    with pytest.raises(ValueError, match=re.escape(named)):
        load_settings(file_text=file_text)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        pytest.param({"x": {"kind": "ftp"}}, "handlers.x.kind", id="unknown-kind"),
        pytest.param({"x": {"kind": "http"}}, "handlers.x.url", id="http-without-url"),
        pytest.param({"x": {"kind": "python"}}, "handlers.x.target", id="python-no-target"),
        pytest.param({"x": {"retries": 2}}, "handlers.x.retries", id="unknown-key"),
        pytest.param({"x": {"max_attempts": 0}}, "max_attempts", id="max-attempts-0"),
        pytest.param({"x": 1}, "handlers.x", id="handler-not-an-object"),
        pytest.param(
            {"x": {"timeout_s": None}},
            "handlers.x.timeout_s",
            id="timeout-null",
        ),
    ],
)
def test_bad_hookline_handlers_env_raises_naming_the_setting(
    env: dict[str, object], named: str
) -> None:
    """A misconfigured handler in HOOKLINE_HANDLERS is a ValueError naming the setting."""
    with pytest.raises(ValueError, match=re.escape(named)):
        load_settings(environ={"HOOKLINE_HANDLERS": json.dumps(env)})


def test_bad_hookline_handlers_env_is_not_blamed_on_the_file() -> None:
    """An unknown key in HOOKLINE_HANDLERS is reported against the variable, not the file."""
    with pytest.raises(ValueError, match="HOOKLINE_HANDLERS") as raised:
        load_settings(
            file_name="hookline.toml",
            environ={"HOOKLINE_HANDLERS": json.dumps({"x": {"retries": 2}})},
        )

    assert "hookline.toml" not in str(raised.value)


@pytest.mark.parametrize(
    ("file_text", "environ", "named"),
    [
        pytest.param("[dispatcher]\nworkers = 2\n", {}, "dispatcher.workers", id="unknown-key"),
        pytest.param("dispatcher = 2\n", {}, "[dispatcher]", id="not-a-table"),
        pytest.param(
            "[dispatcher]\nconcurrency = 0\n", {}, "dispatcher.concurrency", id="concurrency-0"
        ),
        pytest.param(
            "", {"HOOKLINE_DISPATCHER_CONCURRENCY": "0"}, "dispatcher.concurrency", id="env-conc-0"
        ),
        pytest.param("[dispatcher]\nbatch_size = 0\n", {}, "batch_size", id="batch-size-0"),
        pytest.param("[dispatcher]\nlease_s = 0.5\n", {}, "dispatcher.lease_s", id="lease-short"),
        pytest.param(
            "",
            {"HOOKLINE_DISPATCHER_CONCURRENCY": "many"},
            "dispatcher.concurrency",
            id="env-concurrency-word",
        ),
        pytest.param(
            "[dispatcher]\nlease_s = 'long'\n", {}, "dispatcher.lease_s", id="lease-string"
        ),
        pytest.param(
            "[dispatcher]\npoll_s = 0\n",
            {},
            "dispatcher.poll_s",
            id="poll-0",
        ),
        pytest.param(
            "[dispatcher]\nidle_poll_s = 0\n",
            {},
            "dispatcher.idle_poll_s: must be > 0",
            id="idle-poll-0",
        ),
        pytest.param(
            "",
            {"HOOKLINE_CALLBACKS_IDLE_POLL_S": "86400"},
            "callbacks.idle_poll_s",
            id="idle-poll-a-day",
        ),
    ],
)
def test_bad_dispatcher_settings_raise_naming_the_setting(
    file_text: str, environ: dict[str, str], named: str
) -> None:
    """A misconfigured dispatcher is a ValueError naming the setting."""
    with pytest.raises(ValueError, match=re.escape(named)):
        load_settings(file_text=file_text, environ=environ)


def test_the_new_claim_size_name_wins_over_the_old_one() -> None:
    text = "[dispatcher]\nbatch_size = 5\nclaim_size = 7\n[callbacks]\nbatch_size = 9\n"
    settings = load_settings(file_text=text)
    assert (settings.dispatcher.claim_size, settings.callbacks.claim_size) == (7, 9)


def test_a_long_poll_s_alone_is_still_valid() -> None:
    """A config from before idle_poll_s with poll_s above its default (5 s) still loads:
    an idle_poll_s at or below poll_s means polls keep their pace."""
    settings = load_settings(file_text="[dispatcher]\npoll_s = 10\n[callbacks]\npoll_s = 30\n")
    assert (settings.dispatcher.poll_s, settings.dispatcher.idle_poll_s) == (10.0, 5.0)
    assert (settings.callbacks.poll_s, settings.callbacks.idle_poll_s) == (30.0, 5.0)
