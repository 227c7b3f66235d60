"""Attachments, teams, health endpoints and the OpenAPI document."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.routing import Route

from hookline.config import Settings, load_settings
from hookline.ingress import create_app
from hookline.ingress.app import API
from hookline.ingress.docs import ASSET_PATHS
from hookline.models import Environment, Scope
from hookline.store import Store, open_store
from tests.api.support import error_of, ok
from tests.conftest import Account, AccountFactory, ClientFactory, asgi_client

PAYLOAD = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def upload(client: httpx.AsyncClient, content: bytes = PAYLOAD) -> dict[str, str]:
    """Upload `content` as a multipart file; the answer."""
    answer: dict[str, str] = ok(
        await client.post("/v1/files/upload", files={"file": ("cat.png", content, "image/png")})
    )
    return answer


async def test_upload_serves_the_same_bytes_back(api: httpx.AsyncClient) -> None:
    """An uploaded file's attachment_url serves its bytes to the same account."""
    answer = await upload(api)
    assert answer["id"]
    assert answer["size"] == len(PAYLOAD)
    assert answer["filename"] == "cat.png"
    got = await api.get(urlsplit(answer["attachment_url"]).path)
    assert got.status_code == 200
    assert got.content == PAYLOAD
    assert got.headers["content-type"] == "image/png"


async def test_upload_without_a_type_gets_one_guessed(api: httpx.AsyncClient) -> None:
    """An upload that declares no media type gets one from its name, else from its bytes."""
    boundary = "hookline-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="cat.png"'
            "\r\n\r\n"
        ).encode()
        + PAYLOAD
        + f"\r\n--{boundary}--\r\n".encode()
    )
    untyped = ok(
        await api.post(
            "/v1/files/upload",
            content=body,
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
    )
    assert untyped["mime_type"] == "image/png"
    served = await api.get(urlsplit(untyped["attachment_url"]).path)
    assert served.headers["content-type"] == "image/png"

    # httpx, like curl and browsers, declares application/octet-stream for a name it cannot read.
    nameless = ok(await api.post("/v1/files/upload", files={"file": ("upload", PAYLOAD)}))
    assert nameless["mime_type"] == "image/png"
    assert (await upload(api))["mime_type"] == "image/png"


async def test_uploaded_file_is_a_404_elsewhere(
    api: httpx.AsyncClient,
    account: Account,
    account_factory: AccountFactory,
    client_factory: ClientFactory,
) -> None:
    """Another account, or the test environment, gets a 404 for an uploaded file."""
    path = urlsplit((await upload(api))["attachment_url"]).path
    for key in ((await account_factory()).live_key, account.test_key):
        error_of(await client_factory(key).get(path), 404)
    error_of(await client_factory().get(path), 401)


async def test_upload_needs_multipart(api: httpx.AsyncClient) -> None:
    """An upload that is not multipart/form-data, or lacks the `file` field, is a 400."""
    message = error_of(await api.post("/v1/files/upload", json={"file": "abc"}), 400)
    assert "multipart" in message
    error_of(
        await api.post("/v1/files/upload", files={"other": ("a.txt", b"x", "text/plain")}), 400
    )


async def test_unknown_file_answers_404(api: httpx.AsyncClient) -> None:
    """An unknown file id is a 404."""
    error_of(await api.get("/v1/files/" + "0" * 24), 404)


async def test_import_records_the_url(api: httpx.AsyncClient) -> None:
    """Importing a file by URL answers that URL as its attachment_url and redirects to it."""
    url = "https://example.com/images/cat.png?v=2"
    answer = ok(await api.post("/v1/files/import", json={"file_url": url}))
    assert answer["attachment_url"] == url
    assert answer["id"]
    served = await api.get(f"/v1/files/{answer['id']}")
    assert served.status_code == 307
    assert served.headers["location"] == url


async def test_import_rejects_a_bad_file_url(api: httpx.AsyncClient) -> None:
    """An import without an http(s) file_url is a 400."""
    for body in ({"file_url": "ftp://example.com/a.png"}, {"file_url": "not a url"}, {}):
        message = error_of(await api.post("/v1/files/import", json=body), 400)
        assert "file_url" in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "http://169.254.169.254/latest/meta-data/",
            "destination 169.254.169.254 is a link-local address",
            id="cloud-metadata",
        ),
        pytest.param(
            "http://127.0.0.1:8080/a.png",
            "destination 127.0.0.1 is a loopback address; allow it with "
            "HOOKLINE_CALLBACKS_ALLOW_NETWORKS=127.0.0.0/8",
            id="loopback",
        ),
        pytest.param(
            "http://[::ffff:10.0.0.1]/a.png", "embeds 10.0.0.1, a private address", id="mapped"
        ),
        pytest.param(
            "http://localhost/a.png", "destination localhost resolves to ", id="loopback-name"
        ),
        pytest.param(
            "http://2852039166/a.png",
            "non-canonical numeric form of 169.254.169.254",
            id="decimal-metadata",
        ),
        pytest.param("https://example.com/a.png\r\nX: 1", "must not contain whitespace", id="crlf"),
        pytest.param("https://example.com/a b.png", "must not contain whitespace", id="space"),
    ],
)
async def test_import_refuses_what_the_callback_guard_refuses(
    api: httpx.AsyncClient, url: str, expected: str
) -> None:
    """An import to a forbidden or malformed destination is a 400 saying why."""
    message = error_of(await api.post("/v1/files/import", json={"file_url": url}), 400)
    assert message.startswith("Field 'file_url'")
    assert expected in message


async def test_import_of_an_unresolvable_name_is_recorded(api: httpx.AsyncClient) -> None:
    """A name that cannot be resolved (here: a 64-character label) is recorded, not a 500."""
    url = f"https://{'a' * 64}.example/a.png"
    answer = ok(await api.post("/v1/files/import", json={"file_url": url}))
    assert answer["attachment_url"] == url


async def test_allowed_network_import_is_redirected_to(
    account: Account, client_factory: ClientFactory, settings: Settings
) -> None:
    """With loopback in callbacks.allow_networks, a loopback import is accepted and redirected."""
    allowing = dataclasses.replace(
        settings, callbacks=dataclasses.replace(settings.callbacks, allow_networks=("127.0.0.0/8",))
    )
    client = client_factory(account.live_key, settings_=allowing)
    url = "http://127.0.0.1:9000/a.png"
    answer = ok(await client.post("/v1/files/import", json={"file_url": url}))
    served = await client.get(f"/v1/files/{answer['id']}")
    assert (served.status_code, served.headers["location"]) == (307, url)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://169.254.169.254/latest/meta-data/", id="cloud-metadata"),
        pytest.param("http://2130706433/", id="decimal-loopback"),
        pytest.param("http://localhost:8080/", id="loopback-name"),
        pytest.param("http://example.com/a\nb", id="newline"),
    ],
)
async def test_stored_import_to_a_forbidden_address_is_not_redirected_to(
    api: httpx.AsyncClient, store: Store, account: Account, url: str
) -> None:
    """An import stored before the guard answers 403, not a redirect to a forbidden place."""
    stored = await store.files.add_file(account.live, source_url=url)
    served = await api.get(f"/v1/files/{stored.id}")
    message = error_of(served, 403)
    assert "location" not in served.headers
    assert message.startswith(f"File {stored.id} is not redirected to its imported URL: ")


async def test_upload_url_ignores_the_host_header(
    account: Account, client_factory: ClientFactory, settings: Settings
) -> None:
    """attachment_url starts with the configured public URL whatever Host the request names."""
    public = dataclasses.replace(
        settings,
        server=dataclasses.replace(settings.server, public_url="https://files.example/hl/"),
    )
    for configured, base in (
        (settings, "http://127.0.0.1:8000"),
        (public, "https://files.example/hl"),
    ):
        client = client_factory(account.live_key, settings_=configured)
        answer = ok(
            await client.post(
                "/v1/files/upload",
                files={"file": ("cat.png", PAYLOAD, "image/png")},
                headers={"host": "evil.example"},
            )
        )
        assert answer["attachment_url"] == f"{base}/v1/files/{answer['id']}"


async def test_teams_lists_members_and_roles(
    account: Account, store: Store, client_factory: ClientFactory
) -> None:
    """GET /teams lists the owners of the account's active keys with a role from their scopes."""
    for email, scopes in (
        ("ann@example.com", {Scope.WORK}),
        ("bob@example.com", {Scope.SUBMIT, Scope.AUDIT}),
        ("cy@example.com", {Scope.SUBMIT}),
    ):
        await store.accounts.create_key(
            account=account.name, environment=Environment.LIVE, scopes=scopes, email=email
        )
    gone = await store.accounts.create_key(
        account=account.name,
        environment=Environment.LIVE,
        scopes={Scope.SUBMIT},
        email="gone@example.com",
    )
    await store.accounts.revoke_key(gone)
    teams = ok(await client_factory(account.live_key).get("/v1/teams"))
    assert teams == [
        {"email": f"{account.name}@hookline.local", "role": "admin"},
        {"email": "ann@example.com", "role": "labeler"},
        {"email": "bob@example.com", "role": "manager"},
        {"email": "cy@example.com", "role": "member"},
    ]


async def test_teams_is_per_account(
    api: httpx.AsyncClient, account: Account, account_factory: AccountFactory
) -> None:
    """GET /teams does not list another account's members."""
    other = await account_factory()
    emails = {member["email"] for member in ok(await api.get("/v1/teams"))}
    assert emails == {f"{account.name}@hookline.local"}
    assert f"{other.name}@hookline.local" not in emails


async def test_healthz_and_readyz(client_factory: ClientFactory, backend: str) -> None:
    """/healthz and /readyz answer without a key; readyz names the database."""
    anonymous = client_factory()
    assert ok(await anonymous.get("/healthz")) == {"status": "ok"}
    assert ok(await anonymous.get("/readyz")) == {"status": "ok", "database": backend}


async def test_unreachable_database_answers_503(account: Account, tmp_path: Path) -> None:
    """With the database unreachable, readyz and the API answer 503 with Retry-After."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'hookline.db'}"
    broken = open_store(url)
    app = create_app(
        store=broken,
        settings=load_settings(
            environ={"HOOKLINE_DATABASE_URL": url, "HOOKLINE_FILES_DIR": str(tmp_path)}
        ),
    )
    try:
        async with asgi_client(app, account.live_key) as client:
            assert ok(await client.get("/healthz")) == {"status": "ok"}
            for response in (
                await client.get("/readyz"),
                await client.post("/v1/task/echo", json={"x": 1}),
            ):
                error_of(response, 503)
                assert response.headers["retry-after"] == "1"
    finally:
        await broken.close()


async def test_openapi_documents_every_route(
    client_factory: ClientFactory, store: Store, settings: Settings
) -> None:
    """/v1/openapi.json describes every route and method the app serves."""
    document = ok(await client_factory().get("/v1/openapi.json"))
    assert document["openapi"].startswith("3.")
    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    app = create_app(store=store, settings=settings)
    served = {
        (route.path, method)
        for route in app.routes
        if isinstance(route, Route) and route.path not in ASSET_PATHS  # files, not operations
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert documented == served
    assert {(api.path, api.method) for api in API} <= documented
    assert len(served) == len(API) + 5  # healthz, readyz, openapi.json, metrics, docs
    for api in API:
        operation = document["paths"][api.path][api.method.lower()]
        assert operation["summary"] == api.summary
        assert set(operation["responses"]) >= {"200", "400", "401", "404"}
