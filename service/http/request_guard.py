"""ASGI middleware: upload and login routes get the right content type and a bounded body, or a clear 4xx.

For each guarded route it checks the ``Content-Type`` (415 with the expected type), refuses
bodies over the route's byte limit (413, from ``Content-Length`` or while reading a chunked
body, never buffering more than the limit) and empty bodies, then checks the body as it arrives:
multipart uploads with python-multipart's streaming parser (``service.http.multipart_check``: bounded
part headers, at most as many parts as the route takes, only file parts in the route's field),
JSON bodies with ``json`` (too deep a nesting is a 400, not a crash).

That is the body's one parse: the prediction routes and ``/preview`` find what it read in the
scope (:func:`guarded_inputs`: ``{field: bytes}``, ``{field: [bytes, ...]}`` or ``{field: str}``,
which their BentoML input specs, ``service.api.inputs``, hand to the API functions) and get no
body; the login routes get the body replayed and parse it themselves (FastAPI's models).

While the log spool is at its cap, prediction routes answer 503 before reading anything; a user
with too many refused requests of late gets a 429 the same way, unlogged
(``Predictor.refusals_exhausted``). What it refuses on a prediction route is logged as a rejected
prediction, like any other bad input; ``/preview`` and ``/auth/*`` are checked the same way but
never logged.

A body must keep arriving: a pause of ``BODY_IDLE_S`` between its chunks, or more than
``BODY_TOTAL_S`` for the whole of it, is answered 408 and the connection closed, so slow
clients cannot hold requests open.

Every other request with a body (``/corrections``, the admin and task routes, anything else) may
send at most ``OTHER_BODY_LIMIT`` bytes: a larger declared length is refused at once, a body sent
without one is read up to the limit and refused there (413), so no route reads an unbounded body.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import anyio

from service.core.config import Settings
from service.core.runtime import RuntimeNotReadyError, current
from service.http.asgi import ASGIApp, Receive, Scope, Send, send_error, send_starting
from service.http.auth_middleware import account_of
from service.http.multipart_check import MultipartChecker, MultipartRejectedError
from service.prediction.predictor import TOO_MANY_REFUSED
from service.predlog.rows import LogContext, log_row

MULTIPART = "multipart/form-data"
JSON = "application/json"
SINGLE = "single"
BATCH = "batch"
TASK = "task"
AUTH = "auth"
MULTIPART_OVERHEAD = 64 * 1024
AUTH_BODY_LIMIT = 4 * 1024
OTHER_BODY_LIMIT = 64 * 1024  # every route not in ROUTES: small JSON bodies at most
BODY_IDLE_S = 10.0
BODY_TOTAL_S = 60.0
TOO_SLOW = "the request body arrived too slowly"
CLOSE = {"connection": "close"}  # a refused body may be partly unread: the connection cannot carry another request
SPOOL_FULL = (
    "the prediction log is full: its rows cannot reach the database right now, so no prediction is taken; "
    "try again later"
)


@dataclass(frozen=True)
class Rule:
    """What one guarded route accepts: its content type, kind of upload and field, and whether refusals are logged."""

    content_type: str
    kind: str
    field: str
    logged: bool = True


ROUTES = {
    "/predict": Rule(MULTIPART, SINGLE, "image"),
    "/predict_base64": Rule(JSON, SINGLE, "image"),
    "/predict_batch": Rule(MULTIPART, BATCH, "images"),
    "/predict_async/submit": Rule(MULTIPART, TASK, "images"),
    "/preview": Rule(MULTIPART, SINGLE, "image", logged=False),
    "/auth/login": Rule(JSON, AUTH, "", logged=False),
    "/auth/register": Rule(JSON, AUTH, "", logged=False),
}
INPUTS_KEY = "digitify.inputs"


def guarded_inputs(scope: Scope) -> dict[str, Any] | None:
    """What the guard parsed from a prediction route's body, by field name (None on other routes)."""
    return scope.get(INPUTS_KEY)


@dataclass(frozen=True)
class Admitted:
    """A body that passed: what to replay to the route, and the parsed inputs it reads instead (if it does)."""

    body: bytes
    inputs: dict[str, Any] | None = None


def byte_limit(settings: Settings, kind: str) -> int:
    """Return the largest request body a route of ``kind`` accepts (base64 and form overhead included)."""
    if kind == SINGLE:
        return settings.max_upload_bytes * 4 // 3 + MULTIPART_OVERHEAD
    if kind == AUTH:
        return AUTH_BODY_LIMIT
    return settings.max_batch_bytes


def part_limit(settings: Settings, kind: str) -> tuple[int, str]:
    """Return how many multipart parts a route of ``kind`` takes, and the message for one more."""
    if kind == BATCH:
        limit = settings.max_batch_images
        return limit, f"more than {limit} images in one batch; at most {limit} (use /predict_async for more)"
    if kind == TASK:
        limit = settings.max_task_images
        return limit, f"more than {limit} images in one task; at most {limit}"
    return 1, "send one image per request; /predict_batch takes many"


def content_type(scope: Scope) -> tuple[str, str]:
    """Return the request's media type (lower-case, '' if absent) and its parameters."""
    for key, value in scope.get("headers", []):
        if key == b"content-type":
            media_type, _, parameters = value.decode("latin-1").partition(";")
            return media_type.strip().lower(), parameters
    return "", ""


def content_length(scope: Scope) -> int | None:
    """Return the declared body length, if any and valid."""
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def parse_json(body: bytes, field: str) -> tuple[dict[str, Any], str | None]:
    """Parse a JSON body that should be ``{field: "<string>"}`` (any object if no field): ``(document, problem)``."""
    try:
        document = json.loads(body)
    except RecursionError:
        return {}, "the JSON body is nested too deeply"
    except ValueError:
        return {}, "the body is not valid JSON"
    if not isinstance(document, dict):
        return {}, "the JSON body must be an object" if not field else _not_a_field_object(field)
    if field and not isinstance(document.get(field), str):
        return {}, _not_a_field_object(field)
    return document, None


def _not_a_field_object(field: str) -> str:
    return f'the JSON body must be an object with a string field {field!r}: {{"{field}": "data:image/png;base64,..."}}'


class RequestGuard:
    """Enforce content types, body sizes and multipart structure on the upload routes; log what it turns away."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then pass it on with its body replayed, or answer 400/413/415."""
        rule = ROUTES.get(scope.get("path", "")) if scope["type"] == "http" and scope.get("method") == "POST" else None
        if rule is None:
            await self._bounded(scope, receive, send)
            return
        try:
            runtime = current()
        except RuntimeNotReadyError:
            await send_starting(send)
            return
        if rule.logged and runtime.logbook.full():
            await send_error(send, 503, SPOOL_FULL, {"retry-after": "30"})
            return
        if rule.logged:
            account = account_of(scope)
            wait = runtime.predictor.refusals_exhausted(account.username if account is not None else None)
            if wait:
                await send_error(send, 429, TOO_MANY_REFUSED, {"retry-after": str(math.ceil(wait)), **CLOSE})
                return
        started = time.perf_counter()
        admitted, rejection = await self._admit(scope, receive, runtime.settings, rule)
        if admitted is not None:
            inner = scope if admitted.inputs is None else {**scope, INPUTS_KEY: admitted.inputs}
            await self.app(inner, _replay(admitted.body, receive), send)
            return
        status, message, nbytes = rejection
        if not rule.logged:
            await send_error(send, status, message, CLOSE)
            return
        account = account_of(scope)
        endpoint = scope["path"].strip("/").removesuffix("/submit")
        context = LogContext(str(uuid.uuid4()), account.username if account is not None else None, endpoint, started)
        runtime.predictor.count_refusal(context.username)
        row = log_row(context, runtime.model_version, error=message, image_bytes=nbytes)
        await runtime.logbook.record_async([row])
        await send_error(send, status, message, CLOSE, log_id=context.log_id)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass on a request of an unguarded route whose body is at most ``OTHER_BODY_LIMIT`` bytes, else 413."""
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        declared = content_length(scope)
        too_large = f"the request body is larger than this route takes ({OTHER_BODY_LIMIT:,} bytes)"
        if declared is not None and declared > OTHER_BODY_LIMIT:
            await send_error(send, 413, too_large, CLOSE)
            return
        try:
            body = b"".join([chunk async for chunk in _body_chunks(receive, OTHER_BODY_LIMIT, too_large)])
        except BodyRefusedError as exc:
            await send_error(send, exc.status, str(exc), CLOSE)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _admit(
        self, scope: Scope, receive: Receive, settings: Settings, rule: Rule
    ) -> tuple[Admitted | None, tuple[int, str, int | None] | None]:
        """Read and check the body; return what to pass on, or why not as ``(status, message, size)``."""
        actual, parameters = content_type(scope)
        declared = content_length(scope)
        if actual != rule.content_type:
            hint = (
                f"a multipart/form-data upload (field {rule.field!r})"
                if rule.content_type == MULTIPART
                else "a JSON body"
            )
            got = actual or "a body without a content type"
            return None, (415, f"this route takes {hint}, not {got}", declared)
        limit = byte_limit(settings, rule.kind)
        if declared is not None and declared > limit:
            return None, (413, f"the request is {declared:,} bytes; the limit is {limit:,}", declared)
        checker = None
        if rule.content_type == MULTIPART:
            max_parts, too_many = part_limit(settings, rule.kind)
            try:
                checker = MultipartChecker(parameters, rule.field, max_parts, too_many)
            except MultipartRejectedError as exc:
                return None, (exc.status, str(exc), declared)
        keep_body = checker is None  # a multipart body's files are kept by the checker
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in _body_chunks(receive, limit, f"the request is larger than the limit of {limit:,} bytes"):
                size += len(chunk)
                if checker is not None:
                    checker.feed(chunk)
                if keep_body:
                    chunks.append(chunk)
            if size == 0:
                return None, (400, "the request body is empty: send an image", 0)
            if checker is not None:
                checker.finish()
        except BodyRefusedError as exc:
            return None, (exc.status, str(exc), declared if exc.status == 413 else exc.size)
        except MultipartRejectedError as exc:
            return None, (exc.status, str(exc), size)
        body = b"".join(chunks)
        if checker is not None:
            files = checker.files[0] if rule.kind == SINGLE else checker.files
            return Admitted(b"", {rule.field: files}), None
        document, problem = parse_json(body, rule.field)
        if problem is not None:
            return None, (400, problem, len(body))
        if rule.kind == AUTH:  # the login routes parse their JSON themselves
            return Admitted(body), None
        return Admitted(b"", {rule.field: document[rule.field]}), None


class BodyRefusedError(Exception):
    """A request body refused while it arrived: its status (400, 408, 413), message and the bytes read so far."""

    def __init__(self, status: int, message: str, size: int) -> None:
        super().__init__(message)
        self.status = status
        self.size = size


async def _body_chunks(receive: Receive, limit: int, too_large: str) -> AsyncIterator[bytes]:
    """Yield a request body's chunks as they arrive (timed by :func:`_timed`), at most ``limit`` bytes in all.

    Raises BodyRefusedError: 408 when it arrives too slowly, 413 (``too_large``) past ``limit``,
    400 when the client disconnects before its end.
    """
    size = 0
    timed = _timed(receive)
    while True:
        try:
            message = await timed()
        except TimeoutError as exc:
            raise BodyRefusedError(408, TOO_SLOW, size) from exc
        if message["type"] == "http.disconnect":
            raise BodyRefusedError(400, "the client disconnected before sending the whole body", size)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyRefusedError(413, too_large, size)
        yield chunk
        if not message.get("more_body", False):
            return


def _timed(receive: Receive) -> Receive:
    """``receive``, raising TimeoutError after ``BODY_IDLE_S`` without a message or ``BODY_TOTAL_S`` in all."""
    deadline = anyio.current_time() + BODY_TOTAL_S

    async def timed() -> MutableMapping[str, Any]:
        with anyio.fail_after(min(BODY_IDLE_S, max(0.0, deadline - anyio.current_time()))):
            return await receive()

    return timed


def _has_body(scope: Scope) -> bool:
    """Whether the request declares a body (a non-zero ``Content-Length``, or a chunked transfer)."""
    for key, value in scope.get("headers", []):
        if key == b"content-length" and value.strip() not in (b"", b"0"):
            return True
        if key == b"transfer-encoding" and b"chunked" in value.lower():
            return True
    return False


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
