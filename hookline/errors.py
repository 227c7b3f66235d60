"""The exceptions hookline raises, by meaning.

    HooklineError
     ├── Invalid                 bad request input (400)
     │    ├── BodyTooLarge       request body over limits.max_body_bytes (413)
     │    ├── UnsupportedMediaType  a body that is not declared as JSON (415)
     │    └── IllegalOnBodyless  an illegal transition reported where the client cannot read a 409 (400)
     ├── Unauthorized            no key, unknown or revoked key (401)
     ├── Forbidden               the key lacks the scope (403)
     ├── NotFound                unknown, or another account's (404)
     ├── Conflict                (409)
     │    ├── DuplicateUniqueId
     │    ├── DuplicateName
     │    └── IllegalTransition
     ├── RateLimited             a rate limit is used up (429, Retry-After)
     ├── Unavailable             the store cannot be reached (503)
     │    └── Misconfigured      nor will it be without a change: no such database or role,
     │                           a wrong password, a file that cannot be opened
     └── StoreFailed             the database refused a statement: a bug (500)

Domain code raises these; foreign errors (SQLAlchemy, aiohttp) are translated
where they happen, and `ingress` maps this tree to HTTP answers in one table.
"""

from __future__ import annotations


class HooklineError(Exception):
    """Something went wrong in hookline."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self.args[0])


class Invalid(HooklineError):
    """The request is invalid."""


class BodyTooLarge(Invalid):
    """The request body is too large."""


class UnsupportedMediaType(Invalid):
    """Send the body as JSON with Content-Type: application/json."""


class IllegalOnBodyless(Invalid):
    """This action is not allowed in the task's current state."""


class Unauthorized(HooklineError):
    """Missing or invalid API key. Send it as HTTP Basic username (empty password) or as a Bearer token."""


class Forbidden(HooklineError):
    """This API key is not allowed to do that."""


class NotFound(HooklineError):
    """Not found."""


class Conflict(HooklineError):
    """The request conflicts with the current state."""


class DuplicateUniqueId(Conflict):
    """The unique_id is already used for a different task."""

    def __init__(self, unique_id: str, task_id: str) -> None:
        super().__init__(
            f'The unique_id ("{unique_id}") is already used for a different task ({task_id}).'
        )
        self.unique_id = unique_id
        self.task_id = task_id


class DuplicateName(Conflict):
    """The name is already taken."""


class IllegalTransition(Conflict):
    """This action is not allowed in the task's current state."""


class RateLimited(HooklineError):
    """Too many requests."""

    def __init__(self, message: str | None = None, *, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Unavailable(HooklineError):
    """The database is unavailable; retry shortly."""

    def __init__(self, message: str | None = None, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or "unknown"
        """Why, in words for the operator's log and the CLI; never shown to API clients."""


class Misconfigured(Unavailable):
    """The database is unavailable."""


class StoreFailed(HooklineError):
    """Internal server error; the incident was logged."""

    detail: str
    """What failed (error classes and SQLSTATE, never the statement's parameters): safe to log."""

    def __init__(self, detail: str) -> None:
        # The same words as any other 500 (ingress.http.handle_unexpected).
        super().__init__("Internal server error; the incident was logged")
        self.detail = detail
