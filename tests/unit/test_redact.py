"""mask_url: passwords and secret query parameters out of URLs before they are shown."""

from __future__ import annotations

import pytest

from hookline.redact import is_secret_param, mask_url, scrub


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("http://worker:8000/work", "http://worker:8000/work", id="plain"),
        pytest.param(
            "https://bob:s3cret@worker/work", "https://bob:***@worker/work", id="user-password"
        ),
        pytest.param("https://bob@worker/work", "https://bob@worker/work", id="user-only"),
        pytest.param("https://:s3cret@worker/", "https://:***@worker/", id="empty-user"),
        pytest.param(
            "postgresql+asyncpg://hook:p@ss:w@db/x",
            "postgresql+asyncpg://hook:***@db/x",
            id="password-with-at-and-colon",
        ),
        pytest.param(
            "postgresql+asyncpg://hook:pa/ss@db/x",
            "postgresql+asyncpg://hook:***@db/x",
            id="password-with-slash",
        ),
        pytest.param(
            "postgresql+asyncpg://hook@db/x?password=s3cret&ssl=require",
            "postgresql+asyncpg://hook@db/x?password=***&ssl=require",
            id="password-in-query",
        ),
        pytest.param(
            "http://w/work?token=abc&mode=fast&api_key=k1&sig=zz",
            "http://w/work?token=***&mode=fast&api_key=***&sig=***",
            id="several-secret-params",
        ),
        pytest.param(
            "http://w/?PassWord=a&Access-Token=b&pwd=c&passwd=d&secret=e&key=f",
            "http://w/?PassWord=***&Access-Token=***&pwd=***&passwd=***&secret=***&key=***",
            id="names-any-case-and-dash",
        ),
        pytest.param(
            "https://s3/b/o?X-Amz-Signature=abc&X-Amz-Security-Token=t&X-Amz-Date=1",
            "https://s3/b/o?X-Amz-Signature=***&X-Amz-Security-Token=***&X-Amz-Date=1",
            id="presigned-url",
        ),
        pytest.param(
            "http://w/?client_secret=a&refresh_token=b&signature=c&access_token=d",
            "http://w/?client_secret=***&refresh_token=***&signature=***&access_token=***",
            id="suffixed-names",
        ),
        pytest.param(
            "http://w/?email=a@b.example&monkey=1",
            "http://w/?email=a@b.example&monkey=1",
            id="at-in-query-is-not-userinfo",
        ),
        pytest.param(
            "http://u:p@w/?email=a@b.example",
            "http://u:***@w/?email=a@b.example",
            id="userinfo-and-at-in-query",
        ),
        pytest.param(
            "http://w/cb#access_token=abc&state=1",
            "http://w/cb#access_token=***&state=1",
            id="fragment-params",
        ),
        pytest.param("http://w/cb#section-2", "http://w/cb#section-2", id="plain-fragment"),
        pytest.param("http://w/?token", "http://w/?token", id="param-without-value"),
        pytest.param("http://w/?token=", "http://w/?token=***", id="empty-value"),
        pytest.param(
            "http://w/?a=1&&token=x", "http://w/?a=1&&token=***", id="empty-parameter-kept"
        ),
        pytest.param("sqlite+aiosqlite:///a.db", "sqlite+aiosqlite:///a.db", id="sqlite"),
        pytest.param("not a url", "not a url", id="no-scheme"),
        pytest.param("", "", id="empty"),
    ],
)
def test_mask_url(url: str, expected: str) -> None:
    """mask_url hides passwords and secret parameter values and keeps the rest as written."""
    assert mask_url(url) == expected


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        pytest.param("token", True, id="token"),
        pytest.param("API_KEY", True, id="upper-case"),
        pytest.param("x-api-key", True, id="dashed-suffix"),
        pytest.param("api%5Fkey", True, id="percent-encoded"),
        pytest.param("monkey", False, id="ends-in-key-letters"),
        pytest.param("keyboard", False, id="starts-with-key"),
        pytest.param("page", False, id="ordinary"),
    ],
)
def test_is_secret_param(name: str, secret: bool) -> None:
    """Secret parameter names are matched whole or by a `_secret`-style suffix."""
    assert is_secret_param(name) is secret


@pytest.mark.parametrize(
    ("text", "url", "forms", "expected"),
    [
        pytest.param(
            "<InvalidUrlClientError http://u:pw@h:99999/x>",
            "http://u:pw@h:99999/x",
            (),
            "<InvalidUrlClientError http://u:***@h:99999/x>",
            id="given-form",
        ),
        pytest.param(
            "bad URL('http://u:p%20w@h/x')",
            "http://u:p w@h/x",
            ("http://u:p%20w@h/x",),
            "bad URL('http://u:***@h/x')",
            id="other-spelling",
        ),
        pytest.param(
            "connect to h:80 failed", "http://u:pw@h/", (), "connect to h:80 failed", id="no-url"
        ),
    ],
)
def test_scrub(text: str, url: str, forms: tuple[str, ...], expected: str) -> None:
    """scrub replaces every spelling of the URL in a text by its masked form."""
    assert scrub(text, url, *forms) == expected
