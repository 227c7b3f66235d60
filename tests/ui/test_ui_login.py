"""Signing in to the dashboard: keys, cookies, CSRF, sign out, revocation."""

from __future__ import annotations

import httpx
import pytest

from hookline.config import Settings, load_settings
from hookline.store import Store
from hookline.ui.session import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import Account, ClientFactory
from tests.ui.support import csrf_of, sign_in, signed_in_client


def _set_cookie_header(response: httpx.Response, name: str) -> str:
    headers = [v for v in response.headers.get_list("set-cookie") if v.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers
    return headers[0]


async def test_good_key_signs_in(web: httpx.AsyncClient, account: Account) -> None:
    """A valid key gets a session cookie and the overview of its account."""
    answer = await sign_in(web, account.live_key)
    assert answer.status_code == 303
    page = await web.get("/ui/")
    assert page.status_code == 200
    assert account.name in page.text
    assert "Tasks by status" in page.text


async def test_session_cookie_flags(web: httpx.AsyncClient, account: Account) -> None:
    """The session cookie is HttpOnly, SameSite=Strict, scoped to /ui, and holds no key."""
    answer = await sign_in(web, account.live_key)
    header = _set_cookie_header(answer, SESSION_COOKIE)
    lowered = header.lower()
    assert "httponly" in lowered
    assert "samesite=strict" in lowered
    assert "path=/ui" in lowered
    assert "secure" not in lowered  # plain HTTP
    secret = account.live_key.partition("_")[2][12:]
    assert secret not in header
    assert account.live.key_id in header


async def test_cookie_is_secure_over_https(
    client_factory: ClientFactory, account: Account, settings: Settings
) -> None:
    """Over HTTPS the session and login-form cookies carry Secure."""
    client = client_factory()
    client.base_url = httpx.URL("https://testserver")
    form = await client.get("/ui/login")
    assert "secure" in _set_cookie_header(form, LOGIN_CSRF_COOKIE).lower()
    answer = await client.post("/ui/login", data={"csrf": csrf_of(form), "key": account.live_key})
    assert answer.status_code == 303
    assert "secure" in _set_cookie_header(answer, SESSION_COOKIE).lower()


async def test_cookie_is_secure_with_https_public_url(
    client_factory: ClientFactory, account: Account, database_url: str
) -> None:
    """Behind a TLS proxy (server.public_url is https) the cookie is Secure on plain HTTP."""
    behind_proxy = load_settings(
        environ={
            "HOOKLINE_DATABASE_URL": database_url,
            "HOOKLINE_SERVER_PUBLIC_URL": "https://hooks.example.com",
        }
    )
    client = client_factory(settings_=behind_proxy)
    form = await client.get("/ui/login")
    assert "secure" in _set_cookie_header(form, LOGIN_CSRF_COOKIE).lower()
    # The proxy speaks HTTPS to the browser, which sends the Secure cookie back.
    token = csrf_of(form)
    client.cookies.set(LOGIN_CSRF_COOKIE, token, path="/ui/login")
    answer = await client.post("/ui/login", data={"csrf": token, "key": account.live_key})
    assert answer.status_code == 303
    assert "secure" in _set_cookie_header(answer, SESSION_COOKIE).lower()


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("live_" + "0" * 44, id="unknown"),
        pytest.param("not-a-key", id="malformed"),
        pytest.param("", id="empty"),
    ],
)
async def test_bad_key_is_refused(web: httpx.AsyncClient, key: str) -> None:
    """A wrong key gets the form again with a 401 and no session."""
    answer = await sign_in(web, key)
    assert answer.status_code == 401
    assert "Invalid or revoked API key" in answer.text
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")
    assert (await web.get("/ui/")).headers["location"] == "/ui/login"


async def test_login_without_form_token_is_refused(
    web: httpx.AsyncClient, account: Account
) -> None:
    """A login post without the form's token (a cross-site post) gets 403 and no session."""
    await web.get("/ui/login")
    answer = await web.post("/ui/login", data={"csrf": "0" * 32, "key": account.live_key})
    assert answer.status_code == 403
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


async def test_pages_redirect_to_login(web: httpx.AsyncClient) -> None:
    """Without a session every page redirects to the login form."""
    for path in ("/ui/", "/ui/tasks", "/ui/tasks/0123456789abcdef01234567", "/ui/workers"):
        answer = await web.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/ui/login"


async def test_forged_cookie_is_ignored(web: httpx.AsyncClient, account: Account) -> None:
    """A cookie with a changed expiry (or any change) is no session."""
    await signed_in_client(web, account.live_key)
    value = web.cookies[SESSION_COOKIE]
    key_id, expires, nonce, mac = value.split(".")
    web.cookies.clear()
    web.cookies.set(SESSION_COOKIE, f"{key_id}.{int(expires) + 1}.{nonce}.{mac}", path="/ui")
    assert (await web.get("/ui/")).status_code == 303


async def test_post_without_csrf_is_refused(web: httpx.AsyncClient, account: Account) -> None:
    """A signed-in POST without the session's CSRF token answers a 403 page."""
    await signed_in_client(web, account.live_key)
    for path in (
        "/ui/logout",
        "/ui/deliveries/replay",
        "/ui/tasks/0123456789abcdef01234567/resend",
    ):
        answer = await web.post(path, data={"csrf": "nope", "since": "2020-01-01"})
        assert answer.status_code == 403, path
        assert "CSRF" in answer.text
    assert (await web.get("/ui/")).status_code == 200  # still signed in


async def test_sign_out(web: httpx.AsyncClient, account: Account) -> None:
    """Signing out clears the cookie; the pages redirect to the login form again."""
    await signed_in_client(web, account.live_key)
    page = await web.get("/ui/")
    answer = await web.post("/ui/logout", data={"csrf": csrf_of(page)})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/login"
    assert SESSION_COOKIE not in web.cookies
    assert (await web.get("/ui/")).status_code == 303


async def test_revoked_key_signs_out_at_once(
    web: httpx.AsyncClient, account: Account, store: Store
) -> None:
    """Revoking the key ends its sessions on the next request."""
    await signed_in_client(web, account.live_key)
    assert (await web.get("/ui/")).status_code == 200
    await store.accounts.revoke_key(account.live.key_id)
    assert (await web.get("/ui/")).status_code == 303


async def test_pages_carry_security_headers(web: httpx.AsyncClient) -> None:
    """Pages forbid framing and scripts."""
    page = await web.get("/ui/login")
    assert page.headers["x-frame-options"] == "DENY"
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]


async def test_bare_ui_redirects_to_the_overview(web: httpx.AsyncClient) -> None:
    """`/ui` leads to the overview at `/ui/`."""
    answer = await web.get("/ui")
    assert answer.status_code in (307, 308)
    assert answer.headers["location"].endswith("/ui/")
