"""The worker's reading of one task: its images in chunks, through the service's own reading path.

Each chunk goes through ``service.prediction.process.read_batch`` (the checks, the one
preprocessing path, the ``Recognizer``, keeping images as ``DIGITIFY_KEEP_IMAGES`` says) and its
log rows through ``spool_rows``, into the same durable spool as synchronous predictions, before
the chunk's items are committed to the task's record. Every image's log row has an id derived
from the task id and the image's index, so a chunk read again after a worker died between the
spool commit and the record commit adds no row (the flush skips ids the log has), and a task
re-delivered after its worker died resumes at the first image not committed: each image is
logged exactly once, and read once unless its worker died in that window.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

from models.number_value import SeparatorRule
from models.recognizer import Recognizer
from service.corrections.image_store import ImageStore
from service.corrections.keep_quota import KeepQuota
from service.prediction.predictor import batch_item
from service.prediction.process import Upload, read_batch, spool_rows
from service.prediction.schemas import BatchResult
from service.predlog.logbook import Logbook
from service.predlog.rows import LogContext
from service.tasks.records import DONE, FAILED, TaskRecords

CHUNK_IMAGES = 16
ENDPOINT = "predict_async"
ROW_NAMESPACE = uuid.UUID("5d3c6c62-3f0e-4d55-9a39-2f8d7c1e7a10")
logger = logging.getLogger(__name__)


class TaskSkippedError(Exception):
    """The task is not to be read (further): cancelled, finished, expired, or taken over by another delivery."""


def row_id(task_id: str, index: int) -> str:
    """The prediction-log row id of image ``index`` of a task: the same at every delivery of the task."""
    return str(uuid.uuid5(ROW_NAMESPACE, f"{task_id}/{index}"))


@dataclass
class TaskReader:
    """What a worker reads tasks with: the model, image store and keep quota, the prediction log, the task records."""

    recognizer: Recognizer
    model_version: str
    logbook: Logbook
    records: TaskRecords
    max_upload_bytes: int
    store: ImageStore | None = None
    quota: KeepQuota | None = None
    separator_rule: SeparatorRule = "auto"  # how the log rows' values read a separator: the service's setting

    def run(self, task_id: str) -> BatchResult:
        """Read a task's images not yet done, log each, and return the task's whole result.

        Raises TaskSkippedError when the task is not (or no longer) to be read.
        """
        start = self.records.claim(task_id)
        record = self.records.find(task_id)
        if start is None or record is None:
            raise TaskSkippedError(f"task {task_id} is not queued")
        logger.info("task %s: reading images %d to %d", task_id, start, record.total - 1)
        while start < record.total:
            stop = min(start + CHUNK_IMAGES, record.total)
            items = self._read_chunk(task_id, record.owner, start, stop)
            if not self.records.commit(task_id, start, items):
                raise TaskSkippedError(f"task {task_id} was cancelled or taken over at image {start}")
            start = stop
        results = self.records.items(task_id)
        ok = sum(1 for item in results if item["ok"])
        return BatchResult.model_validate(
            {
                "batch_id": task_id,
                "model_version": self.model_version,
                "count": len(results),
                "ok": ok,
                "rejected": len(results) - ok,
                "results": results,
            }
        )

    def finish(self, task_id: str, error: str | None = None) -> None:
        """Mark the task done (its images and items leave Redis) or, with ``error``, failed."""
        self.records.finish(task_id, DONE if error is None else FAILED, error or "")

    def _read_chunk(self, task_id: str, owner: str, start: int, stop: int) -> list[dict[str, object]]:
        """Read and spool images ``start`` to ``stop - 1``; return their result items."""
        datas = self.records.images(task_id, start, stop)
        if any(data is None for data in datas):
            raise RuntimeError(f"the images of task {task_id} are no longer held (expired)")
        started = time.perf_counter()
        contexts = [
            LogContext(row_id(task_id, index), owner, ENDPOINT, started, task_id, self.separator_rule)
            for index in range(start, stop)
        ]
        keep = [self.quota.allows(owner) if self.quota is not None else True for _ in contexts]
        images = [bytes(data) for data in datas if data is not None]
        readings = read_batch(self.recognizer, self.store, list(images), self.max_upload_bytes, keep)
        uploads = [Upload(data, context) for data, context in zip(images, contexts, strict=True)]
        spool_rows(self.logbook.spool, uploads, readings, self.model_version)
        self.logbook.count_spooled(len(uploads))  # wakes the worker's flusher
        for reading in readings:
            if reading.kept and self.quota is not None:
                self.quota.record(owner, reading.nbytes)
        return [
            batch_item(index, reading, context.log_id).model_dump()
            for index, reading, context in zip(range(start, stop), readings, contexts, strict=True)
        ]
