"""Signing in to the dashboard with an API key, signing out, and guarding every page.

A page runs only for a valid session (else: the login page), counts against
the key's rate limits like an API call, needs the scope the matching API
endpoint needs, and, when it is a POST, the session's CSRF token.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hookline.errors import Forbidden, HooklineError
from hookline.ingress.auth import require_scope
from hookline.ingress.http import status_for
from hookline.models import Principal, Scope
from hookline.ui import data, session
from hookline.ui.render import render

log = structlog.get_logger("hookline.ui")


@dataclass(frozen=True, slots=True)
class Signed:
    """The principal a valid session acts as, and the CSRF token of its forms."""

    who: Principal
    csrf: str

    def can(self, scope: Scope) -> bool:
        return self.who.has_scope(scope)


PageHandler = Callable[[Request, Signed], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def is_secure(request: Request) -> bool:
    """HTTPS as the client sees it: the request's scheme (rewritten from X-Forwarded-Proto
    for `rate_limits.trusted_proxies`), or an https `server.public_url`."""
    public_url = data.settings_of(request).server.public_url
    return request.url.scheme == "https" or public_url.startswith("https://")


def _set_cookie(request: Request, response: Response, name: str, value: str, path: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=session.SESSION_S,
        path=path,
        secure=is_secure(request),
        httponly=True,
        samesite="strict",
    )


async def signed_in(request: Request) -> Signed | None:
    """The session of the request, verified against the keys table now; None if none."""
    claimed = session.parse(request.cookies.get(session.SESSION_COOKIE))
    if claimed is None:
        return None
    found = await data.session_key(request, claimed.key_id)
    if found is None or not session.verify(claimed, found.key_hash, now_s=time.time()):
        return None
    return Signed(found.principal, session.csrf_token(claimed, found.key_hash))


def error_page(request: Request, signed: Signed | None, status: int, message: str) -> Response:
    return render(
        request,
        "error.html",
        {"signed": signed, "nav": "", "status": status, "message": message},
        status,
    )


def page(handler: PageHandler, *, scope: Scope | None = None) -> Endpoint:
    """An endpoint that runs `handler` for a signed-in key allowed to use it."""

    async def endpoint(request: Request) -> Response:
        signed = await signed_in(request)
        if signed is None:
            response = RedirectResponse("/ui/login", status_code=303)
            response.delete_cookie(session.SESSION_COOKIE, path="/ui")
            return response
        try:
            request.app.state.key_limits.check(signed.who, scope)
            if request.method == "POST":
                form = await request.form()
                given = form.get("csrf")
                if not session.tokens_match(signed.csrf, given if isinstance(given, str) else None):
                    raise Forbidden("The form's CSRF token is missing or wrong; reload the page")
            require_scope(signed.who, scope)
            return await handler(request, signed)
        except HooklineError as exc:
            return error_page(request, signed, status_for(type(exc)), exc.message)

    return endpoint


def _login_form(request: Request, token: str, error: str | None, status: int) -> Response:
    response = render(
        request, "login.html", {"signed": None, "csrf": token, "error": error}, status
    )
    _set_cookie(request, response, session.LOGIN_CSRF_COOKIE, token, "/ui/login")
    return response


async def login_form(request: Request) -> Response:
    """`GET /ui/login`: the form, or the overview for a signed-in browser."""
    if await signed_in(request) is not None:
        return RedirectResponse("/ui/", status_code=303)
    return _login_form(request, secrets.token_hex(16), None, 200)


async def login(request: Request) -> Response:
    """`POST /ui/login`: a valid key gets a session cookie; anything else the form again."""
    form = await request.form()
    cookie_token = request.cookies.get(session.LOGIN_CSRF_COOKIE)
    given: Any = form.get("csrf")
    if not session.tokens_match(cookie_token, given if isinstance(given, str) else None):
        message = "The sign-in form expired or was not sent from this site; try again"
        return _login_form(request, secrets.token_hex(16), message, 403)
    raw: Any = form.get("key")
    key = raw.strip() if isinstance(raw, str) else ""
    found = await data.authenticate(request, key) if key and "\x00" not in key else None
    if found is None:
        log.info("ui_sign_in_refused")
        # A 401 counts against the client address (rate_limits.failed_auth_per_minute).
        return _login_form(request, cookie_token or "", "Invalid or revoked API key", 401)
    value = session.issue(
        found.principal.key_id,
        found.key_hash,
        now_s=time.time(),
        random_bytes=secrets.token_bytes(16),
    )
    log.info("ui_signed_in", key_id=found.principal.key_id)
    response = RedirectResponse("/ui/", status_code=303)
    _set_cookie(request, response, session.SESSION_COOKIE, value, "/ui")
    response.delete_cookie(session.LOGIN_CSRF_COOKIE, path="/ui/login")
    return response


async def _logout(request: Request, signed: Signed) -> Response:
    log.info("ui_signed_out", key_id=signed.who.key_id)
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(
        session.SESSION_COOKIE,
        path="/ui",
        secure=is_secure(request),
        httponly=True,
        samesite="strict",
    )
    return response


logout = page(_logout)
"""`POST /ui/logout`: forget the session cookie."""
