"""The request guard's one parse of an upload: the files it keeps are the bytes sent, however the body arrives."""

from __future__ import annotations

import os

import pytest

from service.http.multipart_check import MultipartChecker, MultipartRejectedError

BOUNDARY = "digitify-unit-boundary"


def form(*files: bytes, field: str = "images") -> bytes:
    """A multipart body with one file part per item, in ``field``."""
    parts = [
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name={field}; filename=f{i}.png\r\n"
        f"Content-Type: image/png\r\n\r\n".encode()
        + data
        + b"\r\n"
        for i, data in enumerate(files)
    ]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def parse(body: bytes, chunk: int, max_parts: int = 8) -> list[bytes]:
    """Feed ``body`` in chunks of ``chunk`` bytes; return the files kept."""
    checker = MultipartChecker(f"; boundary={BOUNDARY}", "images", max_parts, "too many")
    for start in range(0, len(body), chunk):
        checker.feed(body[start : start + chunk])
    checker.finish()
    return checker.files


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_kept_files_are_the_bytes_sent_in_order_whatever_the_chunking(chunk):
    # random bytes hold CR, LF and dashes: a part's data may look like a boundary's start
    files = [os.urandom(3000), b"", f"\r\n--{BOUNDARY}-".encode() + os.urandom(50), os.urandom(1)]
    assert parse(form(*files), chunk) == files


def test_a_part_beyond_the_limit_is_refused_before_it_is_kept():
    with pytest.raises(MultipartRejectedError, match="too many"):
        parse(form(b"a", b"b", b"c"), 64, max_parts=2)


def test_a_body_cut_before_its_closing_boundary_is_refused():
    body = form(b"abc")
    with pytest.raises(MultipartRejectedError, match="ends before its closing boundary"):
        parse(body[: len(body) - 10], 64)
