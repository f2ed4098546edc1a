"""The Celery worker of async prediction: ``./scripts/worker.sh`` (``celery -A service.tasks.worker worker``).

It reads the service's settings from the same environment variables (``service.core.config``), loads
the served model from the BentoML model store (``DIGITIFY_MODEL``) once at start, and logs through
the same durable path as the service: rows go to the spool of ``DIGITIFY_SPOOL_PATH`` (claimed for
``DATABASE_URL``, as the service claims it) and its own flusher moves them to the database and
announces them to the live dashboard (``service.live.events``) (a spool shared with a service on the
same machine is flushed by both, harmlessly: the insert skips row ids the log has). Each task is
read by ``service.tasks.reader``; a task the reader skips (cancelled, finished, taken over) leaves
its result untouched in the backend.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import bentoml
import redis
import torch
from celery import Task, signals, states
from celery.exceptions import Ignore

from models.recognizer import Recognizer
from service.core import config
from service.corrections.image_store import ImageStore
from service.corrections.keep_quota import KeepQuota
from service.db.engine import database_identity, make_engine, migrate
from service.live.events import PREDICTIONS, EventPublisher
from service.prediction.model_store import stored_model_file
from service.predlog.logbook import Logbook
from service.predlog.spool import Spool
from service.tasks.celery_app import TASK_NAME, make_celery
from service.tasks.reader import TaskReader, TaskSkippedError
from service.tasks.records import TaskRecords

logger = logging.getLogger(__name__)


def preflight() -> config.Settings:
    """Fail fast, before the worker takes a task, on unusable settings or a model missing from the store."""
    checked = config.load_settings()
    try:
        bentoml.models.get(config.model_tag())
    except bentoml.exceptions.NotFound as exc:
        raise RuntimeError(
            f"model {config.model_tag()} is not in the BentoML model store (BENTOML_HOME); "
            "run `python -m service.import_model` first"
        ) from exc
    return checked


settings = preflight()
app = make_celery(settings)
_reader: TaskReader | None = None
_reader_lock = threading.Lock()


def build_reader() -> TaskReader:
    """Load the model, open the spool and the database, start the flusher: what this worker reads tasks with."""
    torch.set_num_threads(settings.torch_threads)
    model_file, model_version = stored_model_file(bentoml.models.get(config.model_tag()))
    recognizer = Recognizer.from_file(model_file, model_version=model_version)
    engine = make_engine(settings.database_url, settings.db_connect_timeout)
    spool = Spool(settings.spool_path, owner=database_identity(settings.database_url, settings.spool_path.parent))
    migrated = threading.Event()

    def ensure_schema() -> None:
        """Apply the log's migrations once per worker (the flusher calls this before each flush)."""
        if not migrated.is_set():
            migrate(engine)
            migrated.set()

    logbook = Logbook(spool, engine, ensure_schema, settings.spool_max_rows)
    events = EventPublisher(settings.redis_url)
    logbook.on_flushed = lambda rows: events.publish(PREDICTIONS, rows=rows)  # the live dashboard hears of them
    logbook.start()
    store = ImageStore(settings.image_store) if settings.keep_images else None
    quota = KeepQuota(settings.kept_mb_per_user_day * 1024 * 1024, store.root if store and store.local else None)
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)
    records = TaskRecords(client, settings.task_result_ttl)
    return TaskReader(
        recognizer, model_version, logbook, records, settings.max_upload_bytes, store, quota, settings.decimal_separator
    )


def reader() -> TaskReader:
    """Return the worker's one reader, built at first need."""
    global _reader
    with _reader_lock:
        if _reader is None:
            _reader = build_reader()
        return _reader


@signals.worker_ready.connect
def _start(**_: Any) -> None:
    """Load the model as the worker starts, so that the first task does not wait for it."""
    reader()
    logger.info("digitify worker ready (model %s)", reader().model_version)


@signals.worker_shutdown.connect
def _stop(**_: Any) -> None:
    """Flush what the spool holds, then stop the flusher."""
    if _reader is not None:
        _reader.logbook.stop()


@app.task(name=TASK_NAME, bind=True, resultrepr_maxsize=120)  # the worker's log line, not the whole result
def read_task(self: Task, task_id: str) -> dict[str, Any]:
    """Read one task's images (from where an earlier delivery stopped), log them, store and return its result."""
    current = reader()
    try:
        result = current.run(task_id)
    except TaskSkippedError as exc:
        logger.info("%s", exc)
        raise Ignore() from exc
    except Exception as exc:
        logger.exception("task %s failed", task_id)
        try:
            current.finish(task_id, error=f"{type(exc).__name__}: {exc}")
        except Exception:  # Redis itself is gone: the message stays unacknowledged and comes back
            logger.exception("could not mark task %s failed", task_id)
        raise
    payload = result.model_dump()
    self.backend.store_result(task_id, payload, states.SUCCESS)  # before the record says done
    current.finish(task_id)
    return payload
