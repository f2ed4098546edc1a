"""ASGI middleware: upload routes get the right content type and a bounded body, or a clear 4xx.

For each prediction route it checks the ``Content-Type`` (415 with the expected type),
refuses bodies over the route's byte limit (413, from ``Content-Length`` or while reading a
chunked body, never buffering more than the limit), empty bodies and malformed or misnamed
multipart fields (400), then replays the body to the application. What it refuses on a
prediction route is logged as a rejected prediction, like any other bad input; ``/preview``
is checked the same way but never logged (it is not a prediction).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import MutableMapping
from typing import Any

import anyio

from service.auth_middleware import ASGIApp, Receive, Scope, Send, account_of, send_json
from service.config import Settings
from service.logbook import log_row
from service.runtime import RuntimeNotReadyError, current

MULTIPART = "multipart/form-data"
JSON = "application/json"
SINGLE = "single"
BATCH = "batch"
ROUTES = {
    "/predict": (MULTIPART, SINGLE, "image"),
    "/predict_base64": (JSON, SINGLE, "image"),
    "/predict_batch": (MULTIPART, BATCH, "images"),
    "/predict_async": (MULTIPART, BATCH, "images"),
    "/predict_async/submit": (MULTIPART, BATCH, "images"),
    "/preview": (MULTIPART, SINGLE, "image"),
}
UNLOGGED = frozenset({"/preview"})
PART_NAME = re.compile(rb'content-disposition:[^\r\n]*?[; ]name="([^"]*)"', re.IGNORECASE)
PART_FILENAME = re.compile(rb"content-disposition:[^\r\n]*?[; ]filename\*?=", re.IGNORECASE)
BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
MULTIPART_OVERHEAD = 64 * 1024


def byte_limit(settings: Settings, kind: str) -> int:
    """Return the largest request body a route of ``kind`` accepts (base64 and form overhead included)."""
    if kind == SINGLE:
        return settings.max_upload_bytes * 4 // 3 + MULTIPART_OVERHEAD
    return settings.max_batch_bytes


def content_type(scope: Scope) -> tuple[str, str]:
    """Return the request's media type (lower-case, '' if absent) and its parameters."""
    for key, value in scope.get("headers", []):
        if key == b"content-type":
            media_type, _, parameters = value.decode("latin-1").partition(";")
            return media_type.strip().lower(), parameters
    return "", ""


def multipart_fields(body: bytes, parameters: str) -> list[tuple[str, bool]] | None:
    """Return ``(field name, is a file)`` for each part of a multipart body, or None if it is malformed."""
    boundary = BOUNDARY.search(parameters)
    if boundary is None:
        return None
    delimiter = b"--" + boundary.group(1).encode("latin-1")
    parts = body.split(delimiter)
    if len(parts) < 3:
        return None
    names = []
    for part in parts[1:]:
        if part.startswith(b"--"):
            return names
        head, separator, _ = part.partition(b"\r\n\r\n")
        name = PART_NAME.search(head)
        if not separator or name is None:
            return None
        names.append((name.group(1).decode("utf-8", "replace"), PART_FILENAME.search(head) is not None))
    return None


def check_fields(fields: list[tuple[str, bool]] | None, field: str, single: bool) -> str | None:
    """Say what is wrong with a multipart upload's fields, or None if it only has file parts named ``field``."""
    if fields is None:
        return "the multipart body is malformed"
    unexpected = sorted({name for name, _ in fields} - {field})
    if unexpected:
        return f"unexpected form field {unexpected[0]!r}: send images in the field {field!r}"
    if not fields:
        return f"no image: send it in the multipart field {field!r}"
    if not all(is_file for _, is_file in fields):
        return f"the field {field!r} must be a file upload, not a text value"
    if single and len(fields) > 1:
        return f"send one image per request ({len(fields)} given); /predict_batch takes many"
    return None


def content_length(scope: Scope) -> int | None:
    """Return the declared body length, if any and valid."""
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def check_json(body: bytes, field: str) -> str | None:
    """Say what is wrong with a JSON body that should be ``{field: "<string>"}``, or None."""
    try:
        document = json.loads(body)
    except ValueError:
        return "the body is not valid JSON"
    if not isinstance(document, dict) or not isinstance(document.get(field), str):
        return (
            f'the JSON body must be an object with a string field {field!r}: {{"{field}": "data:image/png;base64,..."}}'
        )
    return None


class RequestGuard:
    """Enforce content types and body sizes on the prediction routes; log what it turns away."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then pass it on with its body replayed, or answer 400/413/415."""
        rule = ROUTES.get(scope.get("path", "")) if scope["type"] == "http" and scope.get("method") == "POST" else None
        if rule is None:
            await self.app(scope, receive, send)
            return
        try:
            runtime = current()
        except RuntimeNotReadyError:
            await send_json(send, 503, {"error": "the service is starting"}, {"retry-after": "2"})
            return
        started = time.perf_counter()
        body, rejection = await self._admit(scope, receive, runtime.settings, rule)
        if rejection is None:
            await self.app(scope, _replay(body, receive), send)
            return
        status, message, nbytes = rejection
        if scope["path"] in UNLOGGED:
            await send_json(send, status, {"error": message})
            return
        account = account_of(scope)
        row = log_row(
            log_id=str(uuid.uuid4()),
            username=account.username if account is not None else None,
            endpoint=scope["path"].strip("/").removesuffix("/submit"),
            model_version=runtime.model_version,
            latency_ms=(time.perf_counter() - started) * 1000,
            error=message,
            image_bytes=nbytes,
        )
        await anyio.to_thread.run_sync(runtime.logbook.record, [row])
        await send_json(send, status, {"error": message, "log_id": row["id"]})

    async def _admit(
        self, scope: Scope, receive: Receive, settings: Settings, rule: tuple[str, str, str]
    ) -> tuple[bytes, tuple[int, str, int | None] | None]:
        """Read and check the body; return it, or why it is refused as ``(status, message, size)``."""
        expected, kind, field = rule
        actual, parameters = content_type(scope)
        declared = content_length(scope)
        if actual != expected:
            hint = f"a multipart/form-data upload (field {field!r})" if expected == MULTIPART else "a JSON body"
            got = actual or "a body without a content type"
            return b"", (415, f"this route takes {hint}, not {got}", declared)
        limit = byte_limit(settings, kind)
        if declared is not None and declared > limit:
            return b"", (413, f"the request is {declared:,} bytes; the limit is {limit:,}", declared)
        body = await self._read_body(receive, limit)
        if body is None:
            return b"", (413, f"the request is larger than the limit of {limit:,} bytes", declared)
        if not body:
            return body, (400, "the request body is empty: send an image", 0)
        problem = (
            check_fields(multipart_fields(body, parameters), field, kind == SINGLE)
            if expected == MULTIPART
            else check_json(body, field)
        )
        if problem is not None:
            return body, (400, problem, len(body))
        return body, None

    @staticmethod
    async def _read_body(receive: Receive, limit: int) -> bytes | None:
        """Read the whole body, or return None as soon as it exceeds ``limit``."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Make a receive callable that yields ``body`` once, then defers to the original (for disconnects)."""
    sent = False

    async def replay() -> MutableMapping[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
