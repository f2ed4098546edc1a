"""One worker's prediction path, shared by every prediction route: read in shared batches, then log.

The interface the routes use (``service.api.predictions``) is ``predict_one``, ``predict_many``,
``preview``, ``refuse`` and ``close`` (and the request guard asks ``refusals_exhausted``); what
reads the images behind them (the worker's own inference processes: BentoML's ``bentoml.depends``
model service was measured against them, docs/performance.md) can change without the routes knowing.
Whether an image may be kept is asked of the ``KeepQuota`` before it is read.

Uploads (the images' bytes) go to the worker's one ``InferencePool``
(``service.prediction.pool``): whichever inference process is idle gets whatever waits, as one batch
(``service.prediction.process``: checks, decoding, normalization, keeping the image when
``DIGITIFY_KEEP_IMAGES`` says so, the model, and the spool commit of the batch's log rows), so
the web worker's event loop never waits on that work. Each answer's log row is durable in the
spool before the answer leaves; only refusals without a reading are spooled by the worker's
``Logbook`` (its writer thread). Bad input is
not an exception here: it comes back as a :class:`Refusal` holding the 4xx to answer and the id
of its log row; so does a batch the inference process failed on (503: it is started again, the
client may retry).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, replace

from models.number_value import SeparatorRule
from service.accounts.rate_limit import RateLimiter
from service.corrections.keep_quota import KeepQuota
from service.prediction.pool import InferencePool, PoolClosedError
from service.prediction.process import InferenceConfig, InferenceProcess, InferenceProcessError, Reading, Upload
from service.prediction.schemas import BatchItem, BatchResult, PredictionResult
from service.prediction.uploads import InputError
from service.predlog.logbook import Logbook
from service.predlog.rows import LogContext, log_row

MAX_MODEL_BATCH = 64
REFUSALS_BURST = 100  # refused predictions a user may have logged at once,
REFUSALS_PER_SECOND = 1.0  # then one a second: a flood of bad input cannot fill the spool
TOO_MANY_REFUSED = "too many of your recent requests were refused as unreadable: fix the input, then try again"
MODEL_UNAVAILABLE = "the model could not read this request right now; try again"


@dataclass(frozen=True)
class Refusal:
    """A request answered without a reading: the error (4xx for bad input, 503 when the model failed) and its log id."""

    error: InputError
    log_id: str


class Predictor:
    """Reads numbers for the routes of one worker process and logs every answer."""

    def __init__(
        self, config: InferenceConfig, logbook: Logbook, processes: int = 1, quota: KeepQuota | None = None
    ) -> None:
        self.model_version = config.model_version
        self.logbook = logbook
        self.quota = quota
        self.refusals = RateLimiter(REFUSALS_BURST, REFUSALS_PER_SECOND)
        started = [InferenceProcess(config, wait=False) for _ in range(processes)]
        for process in started:  # they load the model side by side
            process.wait_ready()
        self.pool = InferencePool(started, MAX_MODEL_BATCH)

    def close(self) -> None:
        """Stop the inference processes (requests still waiting for them answer 503)."""
        self.pool.close()

    async def predict_one(
        self, source: bytes, endpoint: str, username: str | None, started: float, rule: SeparatorRule
    ) -> PredictionResult | Refusal:
        """Read and log one image (its bytes); ``rule``: how its log row's value reads a separator."""
        context = LogContext(str(uuid.uuid4()), username, endpoint, started, separator_rule=rule)
        try:
            [reading] = await self.read([Upload(source, context)])
        except (InferenceProcessError, PoolClosedError) as exc:
            return await self.refuse(
                InputError(f"{MODEL_UNAVAILABLE} ({exc})", 503), endpoint, username, started, context
            )
        error = reading.input_error
        if error is not None:
            return Refusal(error, context.log_id)
        return PredictionResult(
            text=reading.text or "",
            confidence=reading.confidence or 0.0,
            char_confidences=list(reading.char_confidences),
            model_version=self.model_version,
            log_id=context.log_id,
        )

    async def predict_many(
        self, images: list[bytes], endpoint: str, username: str | None, rule: SeparatorRule
    ) -> BatchResult | Refusal:
        """Read and log a batch of images' bytes; bad images get an error item, the rest are read."""
        started = time.perf_counter()
        batch_id = str(uuid.uuid4())
        contexts = [LogContext(str(uuid.uuid4()), username, endpoint, started, batch_id, rule) for _ in images]
        try:
            readings = await self.read(
                [Upload(image, context) for image, context in zip(images, contexts, strict=True)]
            )
        except (InferenceProcessError, PoolClosedError) as exc:
            return await self.refuse(InputError(f"{MODEL_UNAVAILABLE} ({exc})", 503), endpoint, username, started)
        items = [
            batch_item(index, reading, context.log_id)
            for index, (context, reading) in enumerate(zip(contexts, readings, strict=True))
        ]
        ok = sum(item.ok for item in items)
        return BatchResult(
            batch_id=batch_id,
            model_version=self.model_version,
            count=len(items),
            ok=ok,
            rejected=len(items) - ok,
            results=items,
        )

    async def read(self, uploads: list[Upload]) -> list[Reading]:
        """Read uploads in an inference process, which spools their log rows before it answers."""
        if self.quota is not None:
            uploads = [replace(upload, keep=upload.keep and self.quota.allows(_user(upload))) for upload in uploads]
        readings = await self.pool.infer(uploads)
        self.logbook.count_spooled(sum(upload.log is not None for upload in uploads))
        for upload, reading in zip(uploads, readings, strict=True):
            if reading.error is not None and upload.log is not None:
                self.count_refusal(_user(upload))
            if reading.kept and self.quota is not None:
                self.quota.record(_user(upload), reading.nbytes)
        return readings

    async def preview(self, source: bytes) -> Reading:
        """What the model would read for an upload, rendered by an inference process (no model, nothing kept or logged).

        Raises InferenceProcessError or PoolClosedError when no inference process could do it.
        """
        [reading] = await self.read([Upload(source, preview=True, keep=False)])
        return reading

    def count_refusal(self, username: str | None) -> None:
        """Count a logged refusal of ``username``'s (see :meth:`refusals_exhausted`)."""
        self.refusals.take(username or "")

    def refusals_exhausted(self, username: str | None) -> float:
        """Seconds until ``username`` may be heard again after too many refused requests (0: now).

        The request guard answers 429 without reading or logging anything while this is not 0.
        """
        return self.refusals.wait_seconds(username or "")

    async def refuse(
        self, error: InputError, endpoint: str, username: str | None, started: float, context: LogContext | None = None
    ) -> Refusal:
        """Log a request refused without a reading (a bad body, too many images, the model failed on it).

        ``context``: the log context of the upload refused, whose row id the refusal keeps. Should
        the inference process have spooled the row and died before answering, the log keeps that
        row and drops the refusal's (the flush skips a row id it already has): one row per request.
        """
        log_id = context.log_id if context is not None else str(uuid.uuid4())
        self.count_refusal(username)
        row = log_row(LogContext(log_id, username, endpoint, started), self.model_version, error=str(error))
        await self.logbook.record_async([row])
        return Refusal(error, log_id)


def batch_item(index: int, reading: Reading, log_id: str) -> BatchItem:
    """One image's item of a batch result: its reading, or why it was refused, and its log id."""
    if reading.error is not None:
        return BatchItem(index=index, ok=False, error=reading.error, status=reading.status, log_id=log_id)
    return BatchItem(
        index=index,
        ok=True,
        text=reading.text,
        confidence=reading.confidence,
        char_confidences=list(reading.char_confidences),
        log_id=log_id,
    )


def _user(upload: Upload) -> str | None:
    """Who sent an upload (None for an anonymous one)."""
    return upload.log.username if upload.log is not None else None
