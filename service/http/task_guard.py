"""ASGI middleware: a background task belongs to the user who submitted it.

``POST /predict_async/submit`` answers with a task id; before that answer leaves, the id is
recorded with the submitter (``service.accounts.task_owners``). ``status``, ``get``, ``cancel`` and
``retry`` then answer 404 to anyone but the owner or an admin, as if the task did not exist.
``retry`` runs a task again only if it failed or was cancelled (a finished result is kept, not
copied again), and the new task belongs to the same owner.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qs

import anyio

from service.core.runtime import RuntimeNotReadyError, current
from service.http.asgi import ASGIApp, Receive, Scope, Send, send_error, send_starting
from service.http.auth_middleware import account_of

TASK_ROUTE = "/predict_async"
SUBMIT = f"{TASK_ROUTE}/submit"
RETRY = f"{TASK_ROUTE}/retry"
GUARDED = frozenset({f"{TASK_ROUTE}/status", f"{TASK_ROUTE}/get", f"{TASK_ROUTE}/cancel", RETRY})
RETRYABLE = frozenset({"failed", "canceled"})
NOT_FOUND = "task_id not found among your tasks"


def task_id_of(scope: Scope) -> str | None:
    """Return the ``task_id`` query parameter of a request, if given."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("task_id")
    return values[0] if values else None


async def _empty_body() -> MutableMapping[str, Any]:
    """An ASGI receive callable for a request without a body."""
    return {"type": "http.request", "body": b"", "more_body": False}


class TaskGuard:
    """Record task owners at submission; let only owners and admins see, cancel or retry a task."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check ownership of task requests; record the owner of new tasks."""
        path = scope.get("path", "")
        account = account_of(scope)
        if scope["type"] != "http" or account is None or (path != SUBMIT and path not in GUARDED):
            await self.app(scope, receive, send)
            return
        try:
            owners = current().task_owners
        except RuntimeNotReadyError:
            await send_starting(send)
            return
        owner = account.username
        if path in GUARDED:
            task_id = task_id_of(scope)
            if task_id is None:
                await send_error(send, 400, "task_id is required")
                return
            owner = await anyio.to_thread.run_sync(owners.owner, task_id)
            if owner is None or (owner != account.username and not account.is_admin):
                await send_error(send, 404, NOT_FOUND)
                return
            if path == RETRY:
                status = await self._status(scope, task_id)
                if status not in RETRYABLE:
                    message = f"task {task_id} is {status or 'unknown'}: only a failed or cancelled task can be retried"
                    await send_error(send, 409, message)
                    return
        if path in (SUBMIT, RETRY):
            await self.app(scope, receive, _recording_owner(send, owners.record, owner))
            return
        await self.app(scope, receive, send)

    async def _status(self, scope: Scope, task_id: str) -> str | None:
        """Ask the task route for a task's status (``completed``, ``failed``, ...), or None."""
        chunks: list[bytes] = []
        status_code = 0

        async def capture(message: MutableMapping[str, Any]) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        query = f"task_id={task_id}".encode()
        status_scope = {**scope, "method": "GET", "path": f"{TASK_ROUTE}/status", "query_string": query}
        status_scope["raw_path"] = status_scope["path"].encode()
        await self.app(status_scope, _empty_body, capture)
        if status_code != 200:
            return None
        try:
            return str(json.loads(b"".join(chunks))["status"])
        except (ValueError, KeyError, TypeError):
            return None


def _recording_owner(send: Send, record: Any, owner: str) -> Send:
    """Wrap ``send``: hold the answer to a submission, record its task id's owner, then let it go."""
    held: list[MutableMapping[str, Any]] = []

    async def send_after_recording(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            held.append(message)
            return
        if not held:
            await send(message)
            return
        held.append(message)
        if message["type"] != "http.response.body" or message.get("more_body", False):
            return
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        try:
            task_id = json.loads(body)["task_id"]
        except (ValueError, KeyError, TypeError):
            task_id = None
        if isinstance(task_id, str):
            await anyio.to_thread.run_sync(record, task_id, owner)
        for message_held in held:
            await send(message_held)
        held.clear()

    return send_after_recording
