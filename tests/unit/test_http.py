"""Which Content-Type headers declare a JSON body, and which status each domain error answers."""

from __future__ import annotations

import inspect

import pytest

from hookline import errors
from hookline.ingress import http
from hookline.ingress.http import STATUS_BY_ERROR, is_json_media_type, status_for


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


STATUS_OF_EVERY_ERROR: dict[type[errors.HooklineError], int] = {
    errors.HooklineError: 500,
    errors.Invalid: 400,
    errors.BodyTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.IllegalOnBodyless: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.DuplicateUniqueId: 409,
    errors.DuplicateName: 409,
    errors.IllegalTransition: 409,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
    errors.Misconfigured: 503,
    errors.StoreFailed: 500,
}
"""What every class of errors.py answers: the status its most specific mapped ancestor says."""


def test_the_status_table_names_every_class_of_the_error_tree() -> None:
    """Every exception class in errors.py has its expected status written down here."""
    declared = {
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.HooklineError)
    }
    assert declared == set(STATUS_OF_EVERY_ERROR)


@pytest.mark.parametrize(
    ("error", "status"),
    [pytest.param(cls, status, id=cls.__name__) for cls, status in STATUS_OF_EVERY_ERROR.items()],
)
def test_each_domain_error_answers_its_status(
    error: type[errors.HooklineError], status: int
) -> None:
    """Each class answers the status of its nearest ancestor in the table (itself included)."""
    assert status_for(error) == status


class _LateConflict(errors.DuplicateName):
    """A class the table does not list, two levels under Conflict."""


class _HugeBody(errors.BodyTooLarge):
    """A class under BodyTooLarge, itself under Invalid."""


class _MissingAndConflicting(errors.NotFound, errors.Conflict):
    """Two mapped parents: the first along the MRO decides."""


@pytest.mark.parametrize(
    ("error", "status"),
    [
        pytest.param(_LateConflict, 409, id="grandparent-conflict"),
        pytest.param(_HugeBody, 413, id="parent-not-grandparent"),
        pytest.param(_MissingAndConflicting, 404, id="first-base-along-the-mro"),
    ],
)
def test_an_unlisted_subclass_answers_as_its_nearest_mapped_ancestor(
    error: type[errors.HooklineError], status: int
) -> None:
    """A subclass the table does not list maps through its parents, most specific first."""
    assert status_for(error) == status


@pytest.mark.parametrize(
    "order",
    [
        pytest.param(list(STATUS_BY_ERROR.items()), id="as-written"),
        pytest.param(list(reversed(STATUS_BY_ERROR.items())), id="reversed"),
        pytest.param(sorted(STATUS_BY_ERROR.items(), key=lambda kv: kv[0].__name__), id="by-name"),
        pytest.param(sorted(STATUS_BY_ERROR.items(), key=lambda kv: kv[1]), id="by-status"),
    ],
)
def test_the_order_of_the_table_cannot_change_an_answer(
    monkeypatch: pytest.MonkeyPatch, order: list[tuple[type[errors.HooklineError], int]]
) -> None:
    """Written in any order, the table gives every class the same status."""
    monkeypatch.setattr(http, "STATUS_BY_ERROR", dict(order))
    classes = [*STATUS_OF_EVERY_ERROR, _LateConflict, _HugeBody, _MissingAndConflicting]
    answers = {cls: status_for(cls) for cls in classes}
    assert answers == {
        **STATUS_OF_EVERY_ERROR,
        _LateConflict: 409,
        _HugeBody: 413,
        _MissingAndConflicting: 404,
    }
