"""Guessing an upload's media type from its name or its first bytes."""

from __future__ import annotations

import pytest

from hookline.content_types import SNIFF_BYTES, guess_content_type

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@pytest.mark.parametrize(
    ("declared", "filename", "head", "expected"),
    [
        pytest.param("image/png", "a.txt", b"text", "image/png", id="declared-wins"),
        pytest.param(
            "text/csv; charset=utf-8", None, b"", "text/csv; charset=utf-8", id="params-kept"
        ),
        pytest.param(None, "cat.png", b"", "image/png", id="by-name"),
        pytest.param(None, "CAT.JPG", b"", "image/jpeg", id="by-name-upper-case"),
        pytest.param(
            "application/octet-stream",
            "notes.json",
            b"{}",
            "application/json",
            id="octet-stream-is-no-answer",
        ),
        pytest.param(None, "dump.tar.gz", b"", "application/gzip", id="compressed-by-name"),
        pytest.param(None, None, PNG, "image/png", id="png-bytes"),
        pytest.param(
            None, "upload", b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg", id="jpeg-bytes"
        ),
        pytest.param(None, None, b"GIF89a\x01\x00", "image/gif", id="gif-bytes"),
        pytest.param(None, None, b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp", id="webp-bytes"),
        pytest.param(None, None, b"%PDF-1.7\n", "application/pdf", id="pdf-bytes"),
        pytest.param(None, None, b"\x00\x00\x00\x18ftypmp42", "video/mp4", id="mp4-bytes"),
        pytest.param(None, "readme", "héllo wörld\n".encode(), "text/plain", id="utf8-text"),
        pytest.param(
            None,
            None,
            ("é" * SNIFF_BYTES).encode()[: SNIFF_BYTES - 1],
            "text/plain",
            id="text-cut-mid-character",
        ),
        pytest.param(None, None, b"\x00\x01\x02\x03", "application/octet-stream", id="binary"),
        pytest.param(
            None, None, b"ok\xff\xfe then more text", "application/octet-stream", id="not-utf8"
        ),
        pytest.param(None, None, b"", "application/octet-stream", id="empty"),
        pytest.param(
            "", "unknown.zzz", b"\x01\x02", "application/octet-stream", id="nothing-tells"
        ),
    ],
)
def test_guess_content_type(
    declared: str | None, filename: str | None, head: bytes, expected: str
) -> None:
    """The declared type stands; otherwise the name, then the leading bytes, decide."""
    assert guess_content_type(declared, filename, head) == expected
