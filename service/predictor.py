"""One worker's prediction path, shared by every prediction route: read in shared batches, then log.

Uploads (bytes, or the path of BentoML's temporary file) go to the worker's one ``ModelBatcher``,
which has a thread per inference process: whichever is free sends whatever waits to its process
(``service.inference_process``: checks, decoding, normalization, keeping the image when
``DIGITIFY_KEEP_IMAGES`` says so, the model), so the web worker's event loop never waits on that
CPU work. Each answer's log row is durable in the spool before the answer leaves. Bad input is
not an exception here: it comes back as a :class:`Refusal` holding the 4xx to answer and the id
of its log row; so does a batch the inference process failed on (503: it is started again, the
client may retry).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.batcher import BatcherClosedError, ModelBatcher
from service.inference import InputError, PreparedImage
from service.inference_process import InferenceConfig, InferenceProcess, InferenceProcessError, Reading
from service.logbook import log_row
from service.runtime import Runtime
from service.schemas import BatchItem, BatchResult, PredictionResult

MAX_MODEL_BATCH = 64
MODEL_UNAVAILABLE = "the model could not read this request right now; try again"


@dataclass(frozen=True)
class Refusal:
    """A request answered without a reading: the error (4xx for bad input, 503 when the model failed) and its log id."""

    error: InputError
    log_id: str

    def body(self) -> dict[str, str]:
        """The JSON body of the answer."""
        return {"error": str(self.error), "log_id": self.log_id}


class Predictor:
    """Reads numbers for the routes of one worker process and logs every answer."""

    def __init__(self, config: InferenceConfig, runtime: Runtime, processes: int = 1) -> None:
        self.model_version = config.model_version
        self.runtime = runtime
        self.processes = [InferenceProcess(config, wait=False) for _ in range(processes)]
        for process in self.processes:  # they load the model side by side
            process.wait_ready()
        self.batcher: ModelBatcher[bytes | Path, Reading] = ModelBatcher(
            [process.read for process in self.processes], MAX_MODEL_BATCH
        )

    def close(self) -> None:
        """Answer the batches already queued, then stop the model threads and the inference processes."""
        self.batcher.close()
        for process in self.processes:
            process.close()

    async def predict_one(
        self, source: bytes | Path, endpoint: str, username: str | None, started: float
    ) -> PredictionResult | Refusal:
        """Read and log one image (bytes, or an upload's temporary file)."""
        try:
            [reading] = await self.batcher.infer([source])
        except (InferenceProcessError, BatcherClosedError) as exc:
            return await self.refuse(InputError(f"{MODEL_UNAVAILABLE} ({exc})", 503), endpoint, username, started)
        log_id = str(uuid.uuid4())
        await self.record([self.row(log_id, username, endpoint, started, reading)])
        error = reading.input_error
        if error is not None:
            return Refusal(error, log_id)
        return PredictionResult(
            text=reading.text or "",
            confidence=reading.confidence or 0.0,
            char_confidences=list(reading.char_confidences),
            model_version=self.model_version,
            log_id=log_id,
        )

    async def predict_many(self, images: list[Path], endpoint: str, username: str | None) -> BatchResult | Refusal:
        """Read and log a batch; bad images get an error item, the rest are read."""
        started = time.perf_counter()
        try:
            readings = await self.batcher.infer(list(images))
        except (InferenceProcessError, BatcherClosedError) as exc:
            return await self.refuse(InputError(f"{MODEL_UNAVAILABLE} ({exc})", 503), endpoint, username, started)
        batch_id = str(uuid.uuid4())
        items, rows = [], []
        for index, reading in enumerate(readings):
            log_id = str(uuid.uuid4())
            if reading.error is not None:
                item = BatchItem(index=index, ok=False, error=reading.error, status=reading.status, log_id=log_id)
                items.append(item)
            else:
                items.append(
                    BatchItem(
                        index=index,
                        ok=True,
                        text=reading.text,
                        confidence=reading.confidence,
                        char_confidences=list(reading.char_confidences),
                        log_id=log_id,
                    )
                )
            rows.append(self.row(log_id, username, endpoint, started, reading, batch_id))
        await self.record(rows)
        ok = sum(item.ok for item in items)
        return BatchResult(
            batch_id=batch_id,
            model_version=self.model_version,
            count=len(items),
            ok=ok,
            rejected=len(items) - ok,
            results=items,
        )

    async def refuse(self, error: InputError, endpoint: str, username: str | None, started: float) -> Refusal:
        """Log a request refused before any image was read (a bad body, too many images)."""
        log_id = str(uuid.uuid4())
        await self.record([self.row(log_id, username, endpoint, started, error)])
        return Refusal(error, log_id)

    async def record(self, rows: list[dict[str, Any]]) -> None:
        """Write log rows to the durable spool before answering."""
        await self.runtime.logbook.record_async(rows)

    def row(
        self,
        log_id: str,
        username: str | None,
        endpoint: str,
        started: float,
        outcome: Reading | InputError,
        batch_id: str | None = None,
    ) -> dict[str, Any]:
        """Build the prediction-log row of one image's reading, or of a request refused before any image."""
        image = outcome.image() if isinstance(outcome, Reading) else PreparedImage(0, "")
        error = str(outcome) if isinstance(outcome, InputError) else outcome.error
        answer = outcome if isinstance(outcome, Reading) and outcome.error is None else None
        return log_row(
            log_id=log_id,
            username=username,
            endpoint=endpoint,
            model_version=self.model_version,
            latency_ms=(time.perf_counter() - started) * 1000,
            error=error,
            text=answer.text if answer else None,
            confidence=answer.confidence if answer else None,
            char_confidences=list(answer.char_confidences) if answer else None,
            batch_id=batch_id,
            image_width=image.width,
            image_height=image.height,
            image_bytes=image.nbytes if image.sha256 else None,
            image_sha256=image.sha256 or None,
        )
