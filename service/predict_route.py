"""``POST /predict``, answered by the innermost ASGI middleware rather than after the routers.

``/predict`` is the hot route. By the time a request reaches this middleware, BentoML's middleware
(metrics, tracing, timeout, concurrency limit) and Digitify's own have run. The security headers,
the loopback guard, the auth check and the request guard have each run once. The request guard
has also parsed the one uploaded file into the scope (``service.request_guard.uploads_of``).

What is left after that is plumbing that ``/predict`` does not use: BentoML's Starlette app, its
context middleware, its router, the FastAPI mount, and FastAPI's exception, body-limit and
dependency layers. On a 2-core machine this cost about a tenth of the web worker's CPU per
prediction (see the README's performance section). So :class:`PredictRoute` answers the request
itself, with :func:`predict_answer`.

The FastAPI route that documents ``/predict`` in ``/docs.json`` calls the same function. It
serves the route wherever this middleware is not installed.
"""

from __future__ import annotations

import time

from service.auth_middleware import ASGIApp, Receive, Scope, Send, account_of, send_json_bytes
from service.predictor import Refusal
from service.request_guard import uploads_of
from service.runtime import RuntimeNotReadyError, current

PATH = "/predict"
STARTING = b'{"error": "the service is starting"}'


async def predict_answer(scope: Scope) -> tuple[int, bytes]:
    """Read and log the upload the request guard admitted; return the HTTP status and the JSON body."""
    started = time.perf_counter()
    uploads = uploads_of(scope)
    try:
        predictor = current().predictor
    except RuntimeNotReadyError:
        predictor = None
    if not uploads or predictor is None:
        return 503, STARTING
    account = account_of(scope)
    username = account.username if account is not None else None
    outcome = await predictor.predict_one(uploads[0], "predict", username, started)
    if isinstance(outcome, Refusal):
        return outcome.error.status, outcome.json()
    return 200, outcome.model_dump_json().encode()


class PredictRoute:
    """Answer ``POST /predict`` with :func:`predict_answer`; pass every other request on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve ``POST /predict`` here, or hand the request to the app."""
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        status, body = await predict_answer(scope)
        await send_json_bytes(send, status, body, {"retry-after": "2"} if status == 503 else None)
