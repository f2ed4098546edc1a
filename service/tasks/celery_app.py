"""The Celery app both sides share: Redis as broker and result backend, tasks acknowledged late.

A task's message is acknowledged only when the task returns, and a worker that dies with it
unacknowledged leaves it in Redis: after ``DIGITIFY_TASK_VISIBILITY_SECONDS`` a running worker
puts it back in the queue and some worker reads it again (``service.tasks.reader`` resumes where
the dead one stopped). Results expire after ``DIGITIFY_TASK_RESULT_TTL``. Messages are JSON:
they carry a task id only, never an image or a credential.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from celery import Celery

from service.core.config import Settings

TASK_NAME = "digitify.read_task"
QUEUE = "digitify-tasks"
RESTORE_INTERVAL_S = 10  # at most this long between a worker's looks for messages past their visibility timeout


def make_celery(settings: Settings) -> Celery:
    """Build the Celery app for these settings (nothing connects until it is used)."""
    app = Celery("digitify", broker=settings.redis_url, backend=settings.redis_url)
    visibility = settings.task_visibility_seconds
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=QUEUE,
        task_track_started=False,  # the task's own record says queued / running / done
        result_expires=settings.task_result_ttl,
        broker_connection_timeout=2,
        broker_connection_retry_on_startup=True,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        broker_transport_options={
            "visibility_timeout": visibility,
            "unacked_restore_interval": min(RESTORE_INTERVAL_S, visibility),
            "unacked_restore_throttle": 1,
        },
        result_backend_transport_options={"retry_policy": {"timeout": 2.0}},
        redis_socket_connect_timeout=2,
        redis_socket_timeout=5,
    )
    return app


def masked_url(url: str) -> str:
    """A Redis URL fit for a message: its password, if any, replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))
