"""Attachments (`/files/upload`, `/files/import`, `GET /files/{id}`) and `GET /teams`."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from hookline.config import public_base_url
from hookline.content_types import SNIFF_BYTES, guess_content_type
from hookline.errors import Forbidden, Invalid, NotFound
from hookline.guard import Network, address_refusal, host_refusal, is_ip_literal, parse_networks
from hookline.ingress.http import path_param, read_object
from hookline.ingress.query import check_text
from hookline.ingress.services import services
from hookline.models import Principal, StoredFile
from hookline.serialize import file_json, teammate_json
from hookline.submission import check_callback_url, required_str, url_host

_CHUNK_BYTES = 1 << 20
_RESOLVE_TIMEOUT_S = 5.0


def _attachment_url(request: Request, stored: StoredFile) -> str:
    if stored.storage_path is None and stored.source_url is not None:
        return stored.source_url
    # From the configured public URL, never from the request's Host header.
    base = public_base_url(services(request).settings.server)
    return base + str(request.app.url_path_for("get_file", file_id=stored.id))


async def _refusal(url: str, allowed: Sequence[Network]) -> str | None:
    """Why `url` may not be handed out as a redirect: the callback guard's rules, or None.

    A name is resolved here; one that does not resolve (or cannot be, e.g. a
    label over 63 characters) is left alone, as it is never fetched; one with
    any forbidden address is refused.
    """
    try:
        check_callback_url(url, "file_url")
        host = url_host(url)
    except (Invalid, ValueError) as exc:
        return str(exc)
    refusal = host_refusal(host, allowed)
    if refusal is not None or is_ip_literal(host):
        return refusal
    try:
        async with asyncio.timeout(_RESOLVE_TIMEOUT_S):
            found = await asyncio.get_running_loop().getaddrinfo(host, None)
    except (OSError, TimeoutError, UnicodeError):
        return None
    reasons = (address_refusal(str(info[4][0]), allowed, host=host) for info in found)
    return next((r for r in reasons if r), None)


async def upload_file(request: Request, who: Principal) -> dict[str, Any]:
    """Store a multipart `file` under `files.dir`; its URL serves it back to the account."""
    svc = services(request)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise Invalid("Upload a file as multipart/form-data with the file in the 'file' field")
    async with request.form(max_files=1, max_fields=50) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Invalid("Missing the 'file' field in the multipart form")
        _check_part(upload)
        file_id = svc.store.files.new_file_id()
        target = svc.files_dir / file_id
        head = await upload.read(SNIFF_BYTES)
        await upload.seek(0)
        digest, size = await _save(upload, target)
        stored = await svc.store.files.add_file(
            who,
            file_id=file_id,
            filename=upload.filename,
            content_type=guess_content_type(upload.content_type, upload.filename, head),
            size_bytes=size,
            sha256=digest,
            storage_path=str(target),
        )
    return file_json(stored, _attachment_url(request, stored))


def _check_part(upload: UploadFile) -> None:
    """The part's filename and content type fit the files table and hold no NUL."""
    for name, value, max_length in (
        ("filename", upload.filename, 500),
        ("content_type", upload.content_type, 200),
    ):
        if value is None:
            continue
        check_text(name, value, what="The 'file' part's")
        if len(value) > max_length:
            raise Invalid(f"The 'file' part's {name!r} is longer than {max_length} characters")


async def _save(upload: UploadFile, target: Path) -> tuple[str, int]:
    """Copy an upload to disk off the event loop; the sha256 and size of what was written."""
    digest = hashlib.sha256()
    size = 0
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    handle = await asyncio.to_thread(target.open, "wb")
    try:
        while chunk := await upload.read(_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)
    return digest.hexdigest(), size


async def import_file(request: Request, who: Principal) -> dict[str, Any]:
    """Record a remote file by URL; it is not fetched, so tasks point at the source."""
    body = await read_object(request)
    svc = services(request)
    raw = required_str(body, "file_url", max_length=2048)
    url = check_callback_url(raw, "file_url") or raw
    refusal = await _refusal(url, parse_networks(svc.settings.callbacks.allow_networks))
    if refusal is not None:
        raise Invalid(f"Field 'file_url' is refused: {refusal}")
    stored = await svc.store.files.add_file(who, source_url=url)
    return file_json(stored, _attachment_url(request, stored))


async def get_file(request: Request, who: Principal) -> Response:
    svc = services(request)
    stored = await svc.store.files.get_file(who, path_param(request, "file_id"))
    if stored.storage_path is None:
        if stored.source_url is None:
            raise NotFound(f"File {stored.id} has no content")
        # Checked again: imports stored before the guard, or a name that now resolves inside.
        allowed = parse_networks(svc.settings.callbacks.allow_networks)
        refusal = await _refusal(stored.source_url, allowed)
        if refusal is not None:
            raise Forbidden(f"File {stored.id} is not redirected to its imported URL: {refusal}")
        return RedirectResponse(stored.source_url, status_code=307)
    path = Path(stored.storage_path)
    if not await asyncio.to_thread(path.is_file):
        raise NotFound(f"The content of file {stored.id} is gone from the files directory")
    return FileResponse(
        path,
        media_type=stored.content_type or "application/octet-stream",
        filename=stored.filename,
    )


async def list_teammates(request: Request, who: Principal) -> list[dict[str, Any]]:
    members = await services(request).store.accounts.teammates(who.account_id)
    return [teammate_json(m) for m in members]
