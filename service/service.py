"""Digitify's BentoML service: read numbers from images, behind JWT auth, every answer logged.

Routes (the prediction routes need a bearer token, see ``service.auth_middleware``):

- ``POST /predict``: multipart upload, field ``image``.
- ``POST /predict_base64``: JSON ``{"image": "data:image/png;base64,..."}`` (or bare base64).
- ``POST /predict_batch``: multipart, many ``images`` fields; one result per image.
- ``POST /predict_async/submit``, ``GET /predict_async/status``, ``GET /predict_async/get``:
  the same as a BentoML task, for large batches.
- ``POST /preview``: multipart upload, field ``image``; the normalized image the model would read,
  as a PNG data URL (not a prediction: nothing is logged).
- ``/auth/*``, ``/admin/*``, ``/docs`` and the web UI: the mounted FastAPI app (``service.routes``).

All routes preprocess in a worker thread (and keep the image when ``DIGITIFY_KEEP_IMAGES`` says so),
then hand the normalized images to one ``service.batcher.ModelBatcher`` per worker: whatever
concurrent requests wait share one model call (continuous batching, no batching window). Bad inputs answer 4xx with
``{"error": ..., "log_id": ...}``.
"""

from __future__ import annotations

import gc
import os
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
import bentoml
import numpy as np
import torch
from starlette.responses import JSONResponse

from service import config, routes
from service.auth_middleware import AuthMiddleware, account_of
from service.batcher import ModelBatcher
from service.database import database_identity
from service.inference import (
    InputError,
    PreparedImage,
    decode_base64_image,
    png_data_url,
    prepare,
    preview_png,
)
from service.log_metrics import LogMetrics
from service.logbook import log_row
from service.loopback_guard import LoopbackGuard
from service.model_store import load_recognizer
from service.request_guard import RequestGuard
from service.runtime import Runtime, install
from service.schemas import (
    BatchItem,
    BatchResult,
    PredictionResult,
    PreviewResult,
    RawPrediction,
)
from service.security_headers import SecurityHeaders
from service.spool import Spool
from service.task_guard import TaskGuard

MAX_MODEL_BATCH = 64


def preflight() -> None:
    """Fail fast, before BentoML starts workers, on unusable settings, another database's spool or a missing model."""
    settings = config.load_settings()
    Spool(settings.spool_path, owner=database_identity(settings.database_url, settings.spool_path.parent)).close()
    tag = config.model_tag()
    try:
        bentoml.models.get(tag)
    except bentoml.exceptions.NotFound as exc:
        raise RuntimeError(
            f"model {tag} is not in the BentoML model store; run `python -m service.import_model` first"
        ) from exc


preflight()


@bentoml.asgi_app(routes.app, path="/")
@bentoml.service(
    name="digitify",
    traffic={"timeout": 300, "max_concurrency": 256},
    logging={"access": {"enabled": False}},  # every prediction has its row in the prediction log
)
class Digitify:
    """Handwritten number recognition with a CRNN, logged to SQLite or PostgreSQL."""

    model = bentoml.models.BentoModel(config.model_tag())

    def __init__(self) -> None:
        settings = config.load_settings()
        # The model thread gets half the cores by default: the other half preprocesses and answers HTTP.
        torch.set_num_threads(settings.torch_threads or max(1, (os.cpu_count() or 1) // 2))
        self.recognizer = load_recognizer(self.model)
        self.batcher = ModelBatcher(self._run_model, max_batch=MAX_MODEL_BATCH)
        self.settings = settings
        self.runtime = Runtime(settings, self.recognizer.model_version)
        self.runtime.logbook.observer = LogMetrics().publish
        install(self.runtime)
        self.runtime.start()
        gc.collect()
        gc.freeze()  # what start-up built lives as long as the worker: full collections need not scan it

    def __is_ready__(self) -> bool:
        """Ready unless the prediction log cannot take rows: spool at its cap, or flusher dead or stuck."""
        status = self.runtime.logbook.status()
        return not (status.full or status.stuck)

    @bentoml.on_shutdown
    def close(self) -> None:
        """Answer the model calls already queued, flush what can be flushed and release the database."""
        self.batcher.close()
        self.runtime.close()

    @bentoml.api(route="/predict", output_spec=PredictionResult)
    async def predict(self, image: Path, ctx: bentoml.Context) -> PredictionResult | JSONResponse:
        """Read the number in an uploaded image (multipart form field ``image``)."""
        started = time.perf_counter()
        return await self._predict_one(image, "predict", ctx, started)

    @bentoml.api(route="/predict_base64", output_spec=PredictionResult)
    async def predict_base64(self, image: str, ctx: bentoml.Context) -> PredictionResult | JSONResponse:
        """Read the number in a base64 image or ``data:image/...;base64,`` URL (what a canvas gives)."""
        started = time.perf_counter()
        try:
            data = decode_base64_image(image)
        except InputError as exc:
            log_id = str(uuid.uuid4())
            await self._record([self._row(log_id, ctx, "predict_base64", started, PreparedImage(0, ""), exc)])
            return _error(exc, log_id, ctx)
        return await self._predict_one(data, "predict_base64", ctx, started)

    @bentoml.api(route="/predict_batch", output_spec=BatchResult)
    async def predict_batch(self, images: list[Path], ctx: bentoml.Context) -> BatchResult | JSONResponse:
        """Read many uploaded images (repeated multipart field ``images``); one result per image."""
        limit = self.settings.max_batch_images
        if len(images) > limit:
            message = f"{len(images)} images in one batch; at most {limit} (use /predict_async for more)"
            return await self._reject_batch(InputError(message, 413), "predict_batch", ctx)
        return await self._predict_many(images, "predict_batch", ctx)

    @bentoml.task(route="/predict_async", output_spec=BatchResult)
    async def predict_async(self, images: list[Path], ctx: bentoml.Context) -> BatchResult | JSONResponse:
        """Read a large batch in the background: submit, then poll status and fetch the result."""
        limit = self.settings.max_task_images
        if len(images) > limit:
            error = InputError(f"{len(images)} images in one task; at most {limit}", 413)
            return await self._reject_batch(error, "predict_async", ctx)
        return await self._predict_many(images, "predict_async", ctx)

    @bentoml.api(route="/preview", output_spec=PreviewResult)
    async def preview(self, image: Path, ctx: bentoml.Context) -> PreviewResult | JSONResponse:
        """Show what the model reads for an uploaded image (field ``image``): the normalized 32-pixel-high PNG."""

        def read_and_render() -> PreviewResult | InputError:
            prepared = prepare(image.read_bytes(), self.settings.max_upload_bytes)
            if prepared.array is None:
                return prepared.error or InputError("the image could not be prepared")
            height, width = prepared.array.shape
            return PreviewResult(image=png_data_url(preview_png(prepared.array)), width=width, height=height)

        answer = await anyio.to_thread.run_sync(read_and_render)
        return _error(answer, None, ctx) if isinstance(answer, InputError) else answer

    async def _reject_batch(self, error: InputError, endpoint: str, ctx: bentoml.Context) -> JSONResponse:
        """Log and answer a batch refused as a whole."""
        log_id = str(uuid.uuid4())
        await self._record([self._row(log_id, ctx, endpoint, time.perf_counter(), PreparedImage(0, ""), error)])
        return _error(error, log_id, ctx)

    async def _predict_one(
        self, source: bytes | Path, endpoint: str, ctx: bentoml.Context, started: float
    ) -> PredictionResult | JSONResponse:
        """Preprocess, predict and log one image (bytes, or the upload's temporary file)."""

        def read_and_prepare() -> PreparedImage:
            data = source.read_bytes() if isinstance(source, Path) else source
            prepared = prepare(data, self.settings.max_upload_bytes)
            if prepared.error is None:
                self.runtime.keep_image(prepared.sha256, data)
            return prepared

        prepared = await anyio.to_thread.run_sync(read_and_prepare)
        log_id = str(uuid.uuid4())
        if prepared.error is not None:
            await self._record([self._row(log_id, ctx, endpoint, started, prepared, prepared.error)])
            return _error(prepared.error, log_id, ctx)
        [raw] = await self.batcher.infer([prepared.array])
        await self._record([self._row(log_id, ctx, endpoint, started, prepared, raw)])
        return PredictionResult(
            text=raw.text,
            confidence=raw.confidence,
            char_confidences=raw.char_confidences,
            model_version=self.recognizer.model_version,
            log_id=log_id,
        )

    async def _predict_many(self, images: list[Path], endpoint: str, ctx: bentoml.Context) -> BatchResult:
        """Preprocess, predict and log a batch; bad images get an error item, the rest are read."""
        started = time.perf_counter()
        max_bytes = self.settings.max_upload_bytes

        def prepare_all() -> list[PreparedImage]:
            prepared = []
            for path in images:
                data = path.read_bytes()
                prepared.append(prepare(data, max_bytes))
                if prepared[-1].error is None:
                    self.runtime.keep_image(prepared[-1].sha256, data)
            return prepared

        prepared = await anyio.to_thread.run_sync(prepare_all)
        good = [p for p in prepared if p.error is None]
        raw = iter(await self.batcher.infer([image.array for image in good]))
        batch_id = str(uuid.uuid4())
        items, rows = [], []
        for index, image in enumerate(prepared):
            log_id = str(uuid.uuid4())
            if image.error is not None:
                outcome: RawPrediction | InputError = image.error
                items.append(
                    BatchItem(index=index, ok=False, error=str(image.error), status=image.error.status, log_id=log_id)
                )
            else:
                outcome = next(raw)
                items.append(
                    BatchItem(
                        index=index,
                        ok=True,
                        text=outcome.text,
                        confidence=outcome.confidence,
                        char_confidences=outcome.char_confidences,
                        log_id=log_id,
                    )
                )
            rows.append(self._row(log_id, ctx, endpoint, started, image, outcome, batch_id))
        await self._record(rows)
        return BatchResult(
            batch_id=batch_id,
            model_version=self.recognizer.model_version,
            count=len(items),
            ok=len(good),
            rejected=len(items) - len(good),
            results=items,
        )

    def _run_model(self, arrays: list[np.ndarray]) -> list[RawPrediction]:
        """Run the Recognizer on normalized arrays (in the batcher's model thread)."""
        return [
            RawPrediction(text=p.text, confidence=p.confidence, char_confidences=p.char_confidences)
            for p in self.recognizer.predict_normalized(arrays)
        ]

    async def _record(self, rows: list[dict[str, Any]]) -> None:
        """Write log rows to the durable spool before answering."""
        await anyio.to_thread.run_sync(self.runtime.logbook.record, rows)

    def _row(
        self,
        log_id: str,
        ctx: bentoml.Context,
        endpoint: str,
        started: float,
        image: PreparedImage,
        outcome: RawPrediction | InputError,
        batch_id: str | None = None,
    ) -> dict[str, Any]:
        """Build the prediction-log row of one image's answer."""
        account = account_of(ctx.request.scope)
        answer = outcome if isinstance(outcome, RawPrediction) else None
        return log_row(
            log_id=log_id,
            username=account.username if account is not None else None,
            endpoint=endpoint,
            model_version=self.recognizer.model_version,
            latency_ms=(time.perf_counter() - started) * 1000,
            error=str(outcome) if answer is None else None,
            text=answer.text if answer else None,
            confidence=answer.confidence if answer else None,
            char_confidences=answer.char_confidences if answer else None,
            batch_id=batch_id,
            image_width=image.width,
            image_height=image.height,
            image_bytes=image.nbytes if image.sha256 else None,
            image_sha256=image.sha256 or None,
        )


def _error(error: InputError, log_id: str | None, ctx: bentoml.Context) -> JSONResponse:
    """Answer 4xx for input the service could not read (BentoML takes the status from ``ctx``).

    The body carries the log row's id when the refusal was logged (``/preview`` logs nothing).
    """
    ctx.response.status_code = error.status
    body = {"error": str(error)} if log_id is None else {"error": str(error), "log_id": log_id}
    return JSONResponse(body, status_code=error.status)


# BentoML applies these in the order added, the first outermost.
Digitify.add_asgi_middleware(SecurityHeaders)
Digitify.add_asgi_middleware(LoopbackGuard)
Digitify.add_asgi_middleware(AuthMiddleware)
Digitify.add_asgi_middleware(TaskGuard)
Digitify.add_asgi_middleware(RequestGuard)
