"""A file's media type when its upload declares none: from its name, else its first bytes."""

from __future__ import annotations

import mimetypes

OCTET_STREAM = "application/octet-stream"
SNIFF_BYTES = 512

# Python's built-in table only: `mimetypes.guess_type` also reads the host's
# /etc/mime.types, which would make the answer depend on the machine.
_BY_NAME = mimetypes.MimeTypes()
_COMPRESSED = {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz"}

# Leading bytes of common attachment formats, after the WHATWG MIME Sniffing standard's tables.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b\x08", "application/gzip"),
    (b"ID3", "audio/mpeg"),
    (b"OggS\x00", "application/ogg"),
    (b"\x1aE\xdf\xa3", "video/webm"),
)
# Control bytes that never occur in text (WHATWG: "binary data byte").
_BINARY_BYTES = frozenset([*range(0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])
_RIFF = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}


def _sniff(head: bytes) -> str | None:
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head and not _BINARY_BYTES.intersection(head):
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A cut at SNIFF_BYTES can split the last character; the rest must decode.
            if exc.start < len(head) - 3:
                return None
        return "text/plain"
    return None


def guess_content_type(declared: str | None, filename: str | None, head: bytes) -> str:
    """The declared type when it says something; else one guessed from `filename`, then
    from `head` (the file's first bytes); application/octet-stream when nothing tells."""
    if declared and declared.split(";")[0].strip().lower() != OCTET_STREAM:
        return declared
    if filename:
        by_name, encoding = _BY_NAME.guess_type(filename, strict=False)
        if encoding in _COMPRESSED:
            return _COMPRESSED[encoding]
        if by_name and encoding is None:
            return by_name
    return _sniff(head[:SNIFF_BYTES]) or OCTET_STREAM
