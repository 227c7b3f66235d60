"""The `http` handler: POST the task to a remote worker; its 2xx JSON body is the response."""

from __future__ import annotations

import aiohttp
import orjson
import yarl

from hookline.models import Completed, Failed, Outcome, Task
from hookline.redact import mask_url, scrub
from hookline.serialize import task_json

_RETRYABLE_4XX = frozenset({408, 425, 429})


class HttpHandler:
    """4xx (except 408/425/429) is final; 5xx, timeouts and connection errors are retried."""

    def __init__(self, session: aiohttp.ClientSession, url: str, *, timeout_s: float) -> None:
        self._session = session
        self._url = url
        # What error texts (stored on the task and its events) say instead of the URL,
        # and the spellings of the URL an aiohttp exception may carry.
        self._shown = mask_url(url)
        self._spellings = _spellings(url)
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def __call__(self, task: Task) -> Outcome:
        body = orjson.dumps(task_json(task))
        try:
            async with self._session.post(
                self._url,
                data=body,
                headers={"content-type": "application/json", "x-hookline-task-id": task.id},
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                raw = await response.read()
                status = response.status
        except TimeoutError:
            return Failed(error=f"worker {self._shown} timed out", retryable=True)
        except aiohttp.ClientError as exc:
            detail = scrub(repr(exc), self._url, *self._spellings)
            return Failed(error=f"worker {self._shown} unreachable: {detail}", retryable=True)
        if 200 <= status < 300:
            try:
                return Completed(response=orjson.loads(raw))
            except orjson.JSONDecodeError:
                return Failed(error=f"worker answered {status} without a JSON body", retryable=True)
        snippet = raw[:200].decode("utf-8", "replace")
        error = f"worker answered {status}: {snippet}"
        return Failed(error=error, retryable=status >= 500 or status in _RETRYABLE_4XX)


def _spellings(url: str) -> tuple[str, ...]:
    """The URL as yarl writes it (aiohttp's exceptions show that form), if yarl can parse it."""
    try:
        return (str(yarl.URL(url)), str(yarl.URL(url, encoded=True)))
    except ValueError:
        return ()
