"""Settings: defaults, the TOML file, HOOKLINE_* variables, validation and masking."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from hookline.config import (
    DEFAULT_DATABASE_URL,
    ServerSettings,
    Settings,
    env_name,
    load_settings,
    masked,
    public_base_url,
    sqlite_path,
)

PG_URL = "postgresql+asyncpg://hook:s3cret@db.example:5432/hookline"

FILE = """
database_url = "sqlite+aiosqlite:///from-file.db"

[server]
host = "10.0.0.1"
port = 9000

[database]
pool_size = 3

[limits]
max_tags = 2
max_body_bytes = 2048

[files]
dir = "/srv/files"
"""


def test_defaults_apply_without_a_file() -> None:
    """No file and no environment gives the documented defaults."""
    settings = load_settings()

    assert settings == Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.server.host == "127.0.0.1"
    assert settings.server.port == 8000
    assert settings.limits.max_tags == 5
    assert settings.limits.max_body_bytes == 10 * 1024 * 1024
    assert settings.database.pool_size == 10
    assert settings.files.dir == "hookline-files"
    assert dict(settings.types) == {}


def test_file_values_override_defaults() -> None:
    """Values in the TOML file replace the defaults they name and leave the rest."""
    settings = load_settings(file_text=FILE)

    assert settings.database_url == "sqlite+aiosqlite:///from-file.db"
    assert settings.server.host == "10.0.0.1"
    assert settings.server.port == 9000
    assert settings.database.pool_size == 3
    assert settings.database.max_overflow == 10
    assert settings.limits.max_tags == 2
    assert settings.limits.max_body_bytes == 2048
    assert settings.files.dir == "/srv/files"


@pytest.mark.parametrize(
    ("variable", "value", "read"),
    [
        pytest.param("HOOKLINE_LIMITS_MAX_TAGS", "7", lambda s: s.limits.max_tags, id="max_tags"),
        pytest.param("HOOKLINE_DATABASE_URL", PG_URL, lambda s: s.database_url, id="database_url"),
        pytest.param("HOOKLINE_SERVER_PORT", "9100", lambda s: s.server.port, id="port"),
        pytest.param("HOOKLINE_SERVER_HOST", "::1", lambda s: s.server.host, id="host"),
        pytest.param(
            "HOOKLINE_FILES_DIR", "/srv/other-files", lambda s: s.files.dir, id="files_dir"
        ),
    ],
)
def test_environment_overrides_file(
    variable: str, value: str, read: Callable[[Settings], object]
) -> None:
    """A HOOKLINE_* variable wins over the same setting in the file, coerced to its type."""
    from_file = read(load_settings(file_text=FILE))
    settings = load_settings(file_text=FILE, environ={variable: value})

    got = read(settings)
    expected: object = int(value) if isinstance(from_file, int) else value
    assert got == expected
    assert got != from_file


def test_environment_leaves_other_settings_from_file() -> None:
    """Overriding one setting from the environment keeps the file's other values."""
    settings = load_settings(file_text=FILE, environ={"HOOKLINE_SERVER_PORT": "9100"})

    assert settings.server == ServerSettings(host="10.0.0.1", port=9100)
    assert settings.limits.max_tags == 2


def test_unrelated_environment_variables_are_ignored() -> None:
    """Variables without a matching setting name change nothing."""
    settings = load_settings(environ={"HOOKLINE_NOPE": "1", "PATH": "/bin"})

    assert settings == Settings()


@pytest.mark.parametrize(
    ("file_text", "named"),
    [
        pytest.param("colour = 'blue'\n", "'colour'", id="top-level-key"),
        pytest.param("[server]\nhostname = 'x'\n", "server.hostname", id="section-key"),
        pytest.param("[cache]\nsize = 1\n", "'cache'", id="section"),
        pytest.param("[types.custom]\nschema = {}\n", "types.custom.schema", id="type-table-key"),
    ],
)
def test_unknown_settings_raise_naming_them(file_text: str, named: str) -> None:
    """An unknown key or section is a ValueError whose message names it."""
    with pytest.raises(ValueError, match=re.escape(named)):
        load_settings(file_text=file_text)


def test_unknown_setting_message_names_the_file() -> None:
    """The error for a bad file names the file it came from."""
    with pytest.raises(ValueError, match=r"^my\.toml: unknown setting 'colour'"):
        load_settings(file_text="colour = 1\n", file_name="my.toml")


@pytest.mark.parametrize(
    ("file_text", "environ", "named"),
    [
        pytest.param("[server]\nport = 'abc'\n", {}, "server.port", id="port-string"),
        pytest.param("[server]\nport = true\n", {}, "server.port", id="port-bool"),
        pytest.param("[server]\nport = 80.5\n", {}, "server.port", id="port-float"),
        pytest.param("[server]\nhost = 5\n", {}, "server.host", id="host-int"),
        pytest.param("database_url = 5\n", {}, "database_url", id="database_url-int"),
        pytest.param("", {"HOOKLINE_SERVER_PORT": "eighty"}, "server.port", id="env-port"),
        pytest.param("", {"HOOKLINE_LIMITS_MAX_TAGS": "1.5"}, "limits.max_tags", id="env-tags"),
        pytest.param("server = 1\n", {}, "[server]", id="section-not-table"),
        pytest.param("types = 1\n", {}, "[types]", id="types-not-table"),
        pytest.param("[types]\ncustom = 1\n", {}, "types.custom", id="type-not-table"),
    ],
)
def test_wrong_types_raise_naming_the_setting(
    file_text: str, environ: dict[str, str], named: str
) -> None:
    """A value of the wrong type is a ValueError naming the setting."""
    with pytest.raises(ValueError, match=re.escape(named)):
        load_settings(file_text=file_text, environ=environ)


def test_malformed_toml_raises_naming_the_file() -> None:
    """A file that is not TOML is a ValueError naming the file."""
    with pytest.raises(ValueError, match=r"^conf\.toml: "):
        load_settings(file_text="[server\n", file_name="conf.toml")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("sqlite:///plain.db", "sqlite+aiosqlite:///plain.db", id="sqlite-plain"),
        pytest.param("sqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db", id="sqlite-absolute"),
        pytest.param("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db", id="sqlite-driver"),
        pytest.param("postgresql://u@h/db", "postgresql+asyncpg://u@h/db", id="postgresql-plain"),
        pytest.param("postgres://u:p@h:5433/db", "postgresql+asyncpg://u:p@h:5433/db", id="libpq"),
        pytest.param("POSTGRESQL://u@h/db", "postgresql+asyncpg://u@h/db", id="upper-case"),
        pytest.param(PG_URL, PG_URL, id="postgresql-driver"),
    ],
)
def test_database_url_gets_the_shipped_driver(url: str, expected: str) -> None:
    """Plain sqlite:/// and postgresql:// URLs connect through aiosqlite and asyncpg."""
    assert load_settings(environ={"HOOKLINE_DATABASE_URL": url}).database_url == expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        pytest.param("mysql://u@h/db", "not mysql://", id="mysql"),
        pytest.param("hookline.db", "'hookline.db' is not a URL", id="bare-path"),
        pytest.param("u:secret@h/db", "'h/db' is not a URL", id="no-scheme-password-hidden"),
        pytest.param(
            "postgresql+psycopg://u:secret@h/db",
            "not psycopg; write postgresql://u:***@h/db",
            id="other-postgresql-driver",
        ),
        pytest.param("sqlite+pysqlite:///x.db", "write sqlite:///x.db", id="other-sqlite-driver"),
        pytest.param("sqlite://x.db", "write sqlite:///x.db (three slashes", id="two-slashes"),
        pytest.param("sqlite:///:memory:", "in-memory", id="memory"),
        pytest.param("sqlite://", "write sqlite:///PATH", id="empty-sqlite"),
    ],
)
def test_database_url_mistakes_are_one_clear_line(url: str, says: str) -> None:
    """A URL hookline cannot use is a ValueError naming the setting and what to write."""
    with pytest.raises(ValueError, match="setting database_url") as raised:
        load_settings(environ={"HOOKLINE_DATABASE_URL": url})
    assert says in str(raised.value)
    assert "secret" not in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        pytest.param("sqlite+aiosqlite:///x.db", "x.db", id="relative"),
        pytest.param("sqlite+aiosqlite:////var/x.db?timeout=5", "/var/x.db", id="absolute-query"),
        pytest.param("postgresql+asyncpg://u@h/db", None, id="postgresql"),
    ],
)
def test_sqlite_path_is_the_file_of_a_sqlite_url(url: str, path: str | None) -> None:
    """sqlite_path gives the database file of a SQLite URL and None for PostgreSQL."""
    assert sqlite_path(url) == path


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        pytest.param({"HOOKLINE_SERVER_PORT": "0"}, "server.port", id="port-zero"),
        pytest.param({"HOOKLINE_SERVER_PORT": "65536"}, "server.port", id="port-high"),
        pytest.param({"HOOKLINE_LIMITS_MAX_TAGS": "-1"}, "limits.max_tags", id="tags-negative"),
        pytest.param(
            {"HOOKLINE_LIMITS_MAX_BODY_BYTES": "1023"}, "limits.max_body_bytes", id="body-small"
        ),
        pytest.param({"HOOKLINE_DATABASE_POOL_SIZE": "0"}, "database.pool_size", id="pool-zero"),
        pytest.param(
            {"HOOKLINE_SERVER_HEADER_TIMEOUT_S": "0"}, "server.header_timeout_s", id="header-zero"
        ),
        pytest.param(
            {"HOOKLINE_SERVER_BODY_TIMEOUT_S": "-1"}, "server.body_timeout_s", id="body-negative"
        ),
        pytest.param(
            {"HOOKLINE_LIMITS_MAX_METADATA_BYTES": "1"},
            "limits.max_metadata_bytes",
            id="metadata-smaller-than-an-empty-object",
        ),
    ],
)
def test_out_of_range_values_raise_naming_the_setting(environ: dict[str, str], named: str) -> None:
    """Values outside their allowed range are a ValueError naming the setting."""
    with pytest.raises(ValueError, match=re.escape(f"setting {named}")):
        load_settings(environ=environ)


def test_overrides_win_and_are_checked() -> None:
    """Explicit overrides replace loaded values and still go through the checks."""
    settings = load_settings(file_text=FILE, overrides={"database_url": PG_URL})
    assert settings.database_url == PG_URL

    with pytest.raises(ValueError, match="setting database_url"):
        load_settings(overrides={"database_url": "mysql://x"})


def test_type_params_schema_inline_table() -> None:
    """An inline params_schema table becomes the type's JSON Schema."""
    text = """
[types.sentiment]
params_schema = { type = "object", required = ["text"] }
"""
    settings = load_settings(file_text=text)

    assert dict(settings.types["sentiment"].params_schema or {}) == {
        "type": "object",
        "required": ["text"],
    }


def test_type_without_params_schema_has_none() -> None:
    """A type table with no params_schema has no schema."""
    settings = load_settings(file_text="[types.free]\n")

    assert settings.types["free"].params_schema is None


def test_type_params_schema_path_is_read_through_read_text() -> None:
    """A string params_schema is a path handed to read_text and parsed as JSON."""
    schema = {"type": "object", "required": ["question"]}
    asked: list[Path] = []

    def read_text(path: Path) -> str:
        asked.append(path)
        return json.dumps(schema)

    settings = load_settings(
        file_text='[types.survey]\nparams_schema = "schemas/survey.json"\n', read_text=read_text
    )

    assert asked == [Path("schemas/survey.json")]
    assert dict(settings.types["survey"].params_schema or {}) == schema


def test_type_params_schema_path_needs_read_text() -> None:
    """A schema path without a way to read files is a ValueError naming the setting."""
    with pytest.raises(ValueError, match=re.escape("types.survey.params_schema")):
        load_settings(file_text='[types.survey]\nparams_schema = "survey.json"\n')


def test_type_params_schema_path_with_bad_json_raises() -> None:
    """A schema file that is not valid JSON is a ValueError naming the setting."""
    with pytest.raises(ValueError, match=re.escape("types.survey.params_schema")):
        load_settings(
            file_text='[types.survey]\nparams_schema = "survey.json"\n',
            read_text=lambda _path: "{not json",
        )


def test_type_params_schema_unreadable_file_raises() -> None:
    """An OSError from read_text becomes a ValueError naming the setting and the path."""

    def read_text(path: Path) -> str:
        raise FileNotFoundError(path)

    with pytest.raises(ValueError, match=r"types\.survey\.params_schema: cannot read survey\.json"):
        load_settings(
            file_text='[types.survey]\nparams_schema = "survey.json"\n', read_text=read_text
        )


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("5", id="number"),
        pytest.param("[1, 2]", id="array"),
        pytest.param("true", id="bool"),
    ],
)
def test_type_params_schema_of_wrong_kind_raises(value: str) -> None:
    """A params_schema that is neither a table nor a path is a ValueError naming it."""
    with pytest.raises(ValueError, match=re.escape("types.t.params_schema")):
        load_settings(file_text=f"[types.t]\nparams_schema = {value}\n")


def test_type_params_schema_json_not_an_object_raises() -> None:
    """A schema file holding JSON that is not an object is rejected."""
    with pytest.raises(ValueError, match=re.escape("types.t.params_schema")):
        load_settings(
            file_text='[types.t]\nparams_schema = "t.json"\n', read_text=lambda _path: "[1]"
        )


def test_masked_hides_the_password_in_a_postgres_url() -> None:
    """masked() replaces the URL's password with *** and keeps user, host and database."""
    out = masked(load_settings(environ={"HOOKLINE_DATABASE_URL": PG_URL}))

    assert out["database_url"] == "postgresql+asyncpg://hook:***@db.example:5432/hookline"
    assert "s3cret" not in json.dumps(out)
    assert out["server"] == {
        "host": "127.0.0.1",
        "port": 8000,
        "reuse_port": False,
        "header_timeout_s": 10.0,
        "body_timeout_s": 30.0,
        "public_url": "",
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "postgresql+asyncpg://hook@db:5432/x",
            "postgresql+asyncpg://hook@db:5432/x",
            id="no-password",
        ),
        pytest.param(
            "postgresql+asyncpg://hook:p@ss:w@db/x",
            "postgresql+asyncpg://hook:***@db/x",
            id="password-with-at-and-colon",
        ),
        pytest.param("sqlite+aiosqlite:///a.db", "sqlite+aiosqlite:///a.db", id="sqlite"),
    ],
)
def test_masked_leaves_urls_without_a_password_alone(url: str, expected: str) -> None:
    """URLs with no password are unchanged; awkward passwords are still hidden."""
    assert masked(load_settings(environ={"HOOKLINE_DATABASE_URL": url}))["database_url"] == expected


def test_masked_hides_credentials_in_query_and_handler_urls() -> None:
    """masked() hides a query password in database_url and credentials in http handler URLs."""
    settings = load_settings(
        file_text=(
            'database_url = "postgresql+asyncpg://hook@db/x?password=s3cret"\n'
            "[handlers.remote]\n"
            'kind = "http"\n'
            'url = "https://bob:hunter2@worker/work?token=t0ken&mode=fast"\n'
        )
    )

    out = masked(settings)

    assert out["database_url"] == "postgresql+asyncpg://hook@db/x?password=***"
    assert out["handlers"]["remote"]["url"] == "https://bob:***@worker/work?token=***&mode=fast"
    assert out["handlers"]["echo"]["url"] is None
    text = json.dumps(out)
    assert "s3cret" not in text
    assert "hunter2" not in text
    assert "t0ken" not in text


@pytest.mark.parametrize(
    ("section", "key", "expected"),
    [
        pytest.param(None, "database_url", "HOOKLINE_DATABASE_URL", id="top-level"),
        pytest.param("server", "port", "HOOKLINE_SERVER_PORT", id="server-port"),
        pytest.param("limits", "max_tags", "HOOKLINE_LIMITS_MAX_TAGS", id="limits-max-tags"),
        pytest.param("", "database_url", "HOOKLINE_DATABASE_URL", id="empty-section"),
    ],
)
def test_env_name(section: str | None, key: str, expected: str) -> None:
    """env_name joins HOOKLINE, the section and the key in upper case."""
    assert env_name(section, key) == expected


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        pytest.param(ServerSettings(), "http://127.0.0.1:8000", id="default"),
        pytest.param(ServerSettings(host="10.0.0.5", port=9000), "http://10.0.0.5:9000", id="host"),
        pytest.param(
            ServerSettings(host="0.0.0.0", port=80),  # noqa: S104 - a setting, not a bind
            "http://127.0.0.1:80",
            id="bind-all-v4",
        ),
        pytest.param(ServerSettings(host="::", port=80), "http://[::1]:80", id="bind-all-v6"),
        pytest.param(ServerSettings(host="fd00::5"), "http://[fd00::5]:8000", id="v6-host"),
        pytest.param(
            ServerSettings(public_url="https://hl.example/base/"),
            "https://hl.example/base",
            id="public-url-trailing-slash",
        ),
    ],
)
def test_public_base_url_is_configured_or_derived(server: ServerSettings, expected: str) -> None:
    """The public base URL is server.public_url, else http://HOST:PORT with a usable host."""
    assert public_base_url(server) == expected


def test_public_url_comes_from_the_environment() -> None:
    """HOOKLINE_SERVER_PUBLIC_URL sets server.public_url."""
    url = "https://hookline.example.com"
    settings = load_settings(environ={"HOOKLINE_SERVER_PUBLIC_URL": url})
    assert settings.server.public_url == url


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("hookline.example.com", id="no-scheme"),
        pytest.param("ftp://hookline.example.com", id="ftp"),
        pytest.param("https://", id="no-host"),
        pytest.param("https://hookline.example.com/?x=1", id="query"),
        pytest.param("https://hookline.example.com/#top", id="fragment"),
        pytest.param("https://hookline.example.com/a b", id="space"),
        pytest.param("https://hookline.example.com:99999", id="bad-port"),
    ],
)
def test_bad_public_url_fails_at_start_naming_the_setting(url: str) -> None:
    """A public_url that is no http(s) base URL is refused with a message naming it."""
    with pytest.raises(ValueError, match=r"^setting server\.public_url: "):
        load_settings(environ={"HOOKLINE_SERVER_PUBLIC_URL": url})


def test_max_metadata_bytes_defaults_to_64_kib_and_reads_the_environment() -> None:
    """limits.max_metadata_bytes is 65536 unless HOOKLINE_LIMITS_MAX_METADATA_BYTES says otherwise."""
    assert load_settings().limits.max_metadata_bytes == 64 * 1024
    settings = load_settings(environ={"HOOKLINE_LIMITS_MAX_METADATA_BYTES": "100"})
    assert settings.limits.max_metadata_bytes == 100
