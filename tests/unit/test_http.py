"""Which Content-Type headers declare a JSON body."""

from __future__ import annotations

import pytest

from hookline.ingress.http import is_json_media_type


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("application/json", id="plain"),
        pytest.param("application/json; charset=utf-8", id="charset-utf-8"),
        pytest.param("Application/JSON; Charset=UTF-8", id="any-case"),
        pytest.param('application/json; charset="utf-8"', id="quoted-charset"),
        pytest.param("application/json;charset=utf8", id="utf8-no-space"),
        pytest.param("application/vnd.api+json", id="structured-suffix"),
        pytest.param("application/merge-patch+json; charset=utf-8", id="suffix-with-charset"),
    ],
)
def test_json_media_types_are_accepted(value: str) -> None:
    """application/json and application/*+json, in UTF-8, declare JSON."""
    assert is_json_media_type(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("text/plain", id="text-plain"),
        pytest.param("application/x-www-form-urlencoded", id="curl-d-default"),
        pytest.param("multipart/form-data; boundary=x", id="multipart"),
        pytest.param("text/json", id="text-json"),
        pytest.param("application/jsonp", id="jsonp"),
        pytest.param("application/json; charset=latin-1", id="other-charset"),
        pytest.param("json", id="no-slash"),
    ],
)
def test_other_media_types_are_refused(value: str | None) -> None:
    """Anything else, a missing header included, does not declare JSON."""
    assert not is_json_media_type(value)
