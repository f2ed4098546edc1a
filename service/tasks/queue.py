"""The web side of async prediction: submit a task, find it, cancel or retry it, fetch its result.

The routes (``service.api.tasks``) call these from a thread (Redis is spoken synchronously). A
submission records the task (owner and images, ``service.tasks.records``) and then sends Celery
a message naming only the task id; a retry sends the same id again. Nothing connects before the
first call, so the service starts without Redis: while Redis cannot be reached every call raises
:class:`TasksUnavailableError`, whose message names ``REDIS_URL``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from kombu.exceptions import OperationalError

from service.core.config import Settings
from service.tasks.celery_app import QUEUE, TASK_NAME, make_celery, masked_url
from service.tasks.records import QUEUED, TaskRecord, TaskRecords

UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OperationalError, OSError)
T = TypeVar("T")


class TasksUnavailableError(RuntimeError):
    """Redis, which holds the tasks, cannot be reached."""


class TaskQueue:
    """Submits, finds, cancels and retries the async tasks of one service, in Redis through Celery."""

    def __init__(self, settings: Settings) -> None:
        self.redis_url = settings.redis_url
        self.client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)
        self.records = TaskRecords(self.client, settings.task_result_ttl)
        self.celery = make_celery(settings)

    def submit(self, owner: str, images: Sequence[bytes]) -> TaskRecord:
        """Record a task of ``owner``'s with its images and queue it for a worker."""
        task_id = str(uuid.uuid4())
        record = self._call(self.records.create, task_id, owner, images)
        if record.status == QUEUED:
            try:
                self._call(self._send, task_id)
            except TasksUnavailableError:
                self._forget(task_id)
                raise
        return record

    def find(self, task_id: str) -> TaskRecord | None:
        """The task's record, or None if there is none (never submitted, or expired)."""
        return self._call(self.records.find, task_id)

    def active(self) -> dict[str, int]:
        """How many tasks are ``queued`` and ``running`` (the live dashboard's figures)."""
        return self._call(self.records.active)

    def cancel(self, task_id: str) -> tuple[bool, str]:
        """Cancel a queued or running task (a worker stops at its next chunk); return whether it was, and its status."""
        return self._call(self.records.cancel, task_id)

    def retry(self, task_id: str) -> tuple[bool, str]:
        """Queue a failed or cancelled task again under the same id; return whether it was, and its status."""
        moved, status = self._call(self.records.requeue, task_id)
        if moved:
            self._call(self._send, task_id)
        return moved, status

    def result(self, task_id: str) -> dict[str, Any] | None:
        """The result of a done task, from Celery's result backend (None once it expired)."""

        def fetch() -> dict[str, Any] | None:
            outcome = self.celery.AsyncResult(task_id)
            value = outcome.result if outcome.state == "SUCCESS" else None
            return value if isinstance(value, dict) else None

        return self._call(fetch)

    def close(self) -> None:
        """Release the connections."""
        self.client.close()

    def _send(self, task_id: str) -> None:
        """Send the worker's message for a task (its id, nothing else)."""
        self.celery.send_task(TASK_NAME, args=[task_id], task_id=task_id, queue=QUEUE)

    def _forget(self, task_id: str) -> None:
        """Drop a task whose message could not be sent (if Redis still answers)."""
        with contextlib.suppress(*UNREACHABLE):
            self.records.delete(task_id)

    def _call(self, function: Callable[..., T], *args: Any) -> T:
        """Call ``function``; a Redis that cannot be reached becomes TasksUnavailableError naming ``REDIS_URL``."""
        try:
            return function(*args)
        except UNREACHABLE as exc:
            where = masked_url(self.redis_url)
            raise TasksUnavailableError(
                f"async prediction is unavailable: Redis cannot be reached at REDIS_URL ({where}); "
                "/predict and /predict_batch still work"
            ) from exc
