"""Digitify's BentoML service: read numbers from images, behind JWT auth, every answer logged.

Routes (the prediction routes need a bearer token, see ``service.auth_middleware``):

- ``POST /predict``: multipart upload, field ``image`` (answered by ``service.predict_route``, see there).
- ``POST /predict_base64``: JSON ``{"image": "data:image/png;base64,..."}`` (or bare base64).
- ``POST /predict_batch``: multipart, many ``images`` fields; one result per image.
- ``POST /predict_async/submit``, ``GET /predict_async/status``, ``GET /predict_async/get``:
  the same as a BentoML task, for large batches.
- ``POST /preview``: multipart upload, field ``image``; the normalized image the model would read,
  as a PNG data URL (not a prediction: nothing is logged).
- ``/auth/*``, ``/admin/*``, ``/docs`` and the web UI: the mounted FastAPI app (``service.routes``).

Every prediction route goes through the worker's one ``service.predictor.Predictor``: uploads wait
in one ``service.inference_pool.InferencePool`` (whatever concurrent requests wait share one batch:
continuous batching, no batching window), which hands each batch to an idle inference process
(``service.inference_process``: decoding, normalization, the model and the spool commit of the
log rows, off the event loop's interpreter); the log row is durable before the answer. Bad
inputs answer 4xx with ``{"error": ..., "log_id": ...}``; a batch an inference process failed on
answers 503.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

import anyio
import bentoml
from starlette.responses import JSONResponse

from service import config, routes
from service.auth_middleware import AuthMiddleware, account_of
from service.database import database_identity
from service.inference import InputError, decode_base64_image, png_data_url, prepare, preview_png
from service.inference_process import InferenceConfig
from service.log_metrics import LogMetrics
from service.loopback_guard import LoopbackGuard
from service.model_store import stored_model_file
from service.predict_route import PredictRoute
from service.predictor import Predictor, Refusal
from service.request_guard import RequestGuard
from service.runtime import Runtime, install
from service.schemas import BatchResult, PredictionResult, PreviewResult
from service.security_headers import SecurityHeaders
from service.spool import Spool
from service.task_guard import TaskGuard


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
    tracing=config.tracing(),
)
class Digitify:
    """Handwritten number recognition with a CRNN, logged to SQLite or PostgreSQL."""

    model = bentoml.models.BentoModel(config.model_tag())

    def __init__(self) -> None:
        settings = config.load_settings()
        model_file, model_version = stored_model_file(self.model)
        inference = InferenceConfig(
            model_file=model_file,
            model_version=model_version,
            torch_threads=settings.torch_threads,
            max_upload_bytes=settings.max_upload_bytes,
            image_store=settings.image_store if settings.keep_images else None,
            spool_path=settings.spool_path,
        )
        self.settings = settings
        self.runtime = Runtime(settings, model_version)
        self.predictor = Predictor(inference, self.runtime, settings.inference_processes)
        self.runtime.predictor = self.predictor
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
        self.predictor.close()
        self.runtime.close()

    @bentoml.api(route="/predict_base64", output_spec=PredictionResult)
    async def predict_base64(self, image: str, ctx: bentoml.Context) -> PredictionResult | JSONResponse:
        """Read the number in a base64 image or ``data:image/...;base64,`` URL (what a canvas gives)."""
        started = time.perf_counter()
        try:
            data = decode_base64_image(image)
        except InputError as exc:
            return _refused(await self.predictor.refuse(exc, "predict_base64", _username(ctx), started), ctx)
        return _answer(await self.predictor.predict_one(data, "predict_base64", _username(ctx), started), ctx)

    @bentoml.api(route="/predict_batch", output_spec=BatchResult)
    async def predict_batch(self, images: list[Path], ctx: bentoml.Context) -> BatchResult | JSONResponse:
        """Read many uploaded images (repeated multipart field ``images``); one result per image."""
        limit = self.settings.max_batch_images
        if len(images) > limit:
            message = f"{len(images)} images in one batch; at most {limit} (use /predict_async for more)"
            return await self._reject_batch(InputError(message, 413), "predict_batch", ctx)
        return _answer(await self.predictor.predict_many(images, "predict_batch", _username(ctx)), ctx)

    @bentoml.task(route="/predict_async", output_spec=BatchResult)
    async def predict_async(self, images: list[Path], ctx: bentoml.Context) -> BatchResult | JSONResponse:
        """Read a large batch in the background: submit, then poll status and fetch the result."""
        limit = self.settings.max_task_images
        if len(images) > limit:
            error = InputError(f"{len(images)} images in one task; at most {limit}", 413)
            return await self._reject_batch(error, "predict_async", ctx)
        return _answer(await self.predictor.predict_many(images, "predict_async", _username(ctx)), ctx)

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
        return _error(answer, ctx) if isinstance(answer, InputError) else answer

    async def _reject_batch(self, error: InputError, endpoint: str, ctx: bentoml.Context) -> JSONResponse:
        """Log and answer a batch refused as a whole."""
        return _refused(await self.predictor.refuse(error, endpoint, _username(ctx), time.perf_counter()), ctx)


def _username(ctx: bentoml.Context) -> str | None:
    """The user the auth middleware authenticated for this request."""
    account = account_of(ctx.request.scope)
    return account.username if account is not None else None


def _answer(
    outcome: PredictionResult | BatchResult | Refusal, ctx: bentoml.Context
) -> PredictionResult | BatchResult | JSONResponse:
    """A result as is, a refusal as its 4xx (or 503)."""
    return _refused(outcome, ctx) if isinstance(outcome, Refusal) else outcome


def _refused(refusal: Refusal, ctx: bentoml.Context) -> JSONResponse:
    """Answer a logged refusal with its 4xx and log id."""
    ctx.response.status_code = refusal.error.status
    return JSONResponse(refusal.body(), status_code=refusal.error.status)


def _error(error: InputError, ctx: bentoml.Context) -> JSONResponse:
    """Answer 4xx for input ``/preview`` could not read (nothing is logged; BentoML takes the status from ``ctx``)."""
    ctx.response.status_code = error.status
    return JSONResponse({"error": str(error)}, status_code=error.status)


# BentoML applies these in the order added, the first outermost.
Digitify.add_asgi_middleware(SecurityHeaders)
Digitify.add_asgi_middleware(LoopbackGuard)
Digitify.add_asgi_middleware(AuthMiddleware)
Digitify.add_asgi_middleware(TaskGuard)
Digitify.add_asgi_middleware(RequestGuard)
Digitify.add_asgi_middleware(PredictRoute)
