"""Digitify's BentoML service: read numbers from images, behind JWT auth, every answer logged.

Routes (the prediction routes need a bearer token, see ``service.http.auth_middleware``):

- ``POST /predict``: multipart upload, field ``image``.
- ``POST /predict_base64``: JSON ``{"image": "data:image/png;base64,..."}`` (or bare base64).
- ``POST /predict_batch``: multipart, many ``images`` fields; one result per image.
- ``POST /predict_async/submit``: multipart, many ``images`` fields, read in the background by a
  Celery worker (``service.tasks``); ``status``, ``get``, ``cancel`` and ``retry`` are routes of the
  mounted app (``service.api.tasks``).
- ``POST /preview``: multipart upload, field ``image``; the normalized image the model would read,
  as a PNG data URL (not a prediction: nothing is logged).
- ``/auth/*``, ``/admin/*``, ``/corrections``, ``/docs`` and the web UI: the mounted FastAPI app
  (``service.api.app``, one router per resource).

A request goes through the ASGI middleware below (security headers, admission, loopback guard,
auth, request guard: ``service.http``), then BentoML's router to one of the APIs
here, whose input spec (``service.api.inputs``) takes what the request guard parsed, and which
hands it to ``service.api.predictions``. That asks the worker's one predictor
(``service.prediction.predictor``: uploads wait in an inference pool, an idle inference process
reads whatever waits as one batch and spools its log rows, ``service.predlog``) and answers the
result, or 4xx ``{"error": ..., "log_id": ...}`` for bad input (503 when the model failed on it).
"""

from __future__ import annotations

import gc
import os

import bentoml
from starlette.responses import JSONResponse

from service.api import predictions, tasks
from service.api.app import app
from service.api.inputs import Base64Image, ImagesUpload, ImageUpload
from service.core import config
from service.core.runtime import Runtime, install
from service.db.engine import database_identity
from service.http.admission import BENTOML_TIMEOUT_S, AdmissionControl
from service.http.auth_middleware import AuthMiddleware
from service.http.loopback_guard import LoopbackGuard
from service.http.request_guard import RequestGuard
from service.http.security_headers import SecurityHeaders
from service.prediction.metrics import PoolMetrics
from service.prediction.model_store import stored_model_file
from service.prediction.process import InferenceConfig
from service.prediction.schemas import BatchResult, PredictionResult, PreviewResult, TaskStatus
from service.predlog.metrics import LogMetrics
from service.predlog.spool import Spool


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
# uvicorn (in every worker BentoML starts after this import) believes forwarded headers only from these.
os.environ["FORWARDED_ALLOW_IPS"] = config.trusted_proxies()


@bentoml.asgi_app(app, path="/")
@bentoml.service(
    name="digitify",
    traffic={"timeout": BENTOML_TIMEOUT_S},  # a backstop; no concurrency limit of BentoML's: see service.http.admission
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
        self.runtime = Runtime(settings, inference)
        self.predictor = self.runtime.predictor
        self.runtime.logbook.observer = LogMetrics().publish
        self.predictor.pool.observer = PoolMetrics().observe
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
        self.runtime.close()

    @bentoml.api(route="/predict", input_spec=ImageUpload, output_spec=PredictionResult)
    async def predict(self, image: bytes, ctx: bentoml.Context) -> PredictionResult | JSONResponse:
        """Read the number in an uploaded image (multipart form field ``image``: PNG, JPEG, ...)."""
        return await predictions.predict(self.predictor, image, ctx, self.settings.decimal_separator)

    @bentoml.api(route="/predict_base64", input_spec=Base64Image, output_spec=PredictionResult)
    async def predict_base64(self, image: str, ctx: bentoml.Context) -> PredictionResult | JSONResponse:
        """Read the number in a base64 image or ``data:image/...;base64,`` URL (what a canvas gives)."""
        return await predictions.predict_base64(self.predictor, image, ctx, self.settings.decimal_separator)

    @bentoml.api(route="/predict_batch", input_spec=ImagesUpload, output_spec=BatchResult)
    async def predict_batch(self, images: list[bytes], ctx: bentoml.Context) -> BatchResult | JSONResponse:
        """Read many uploaded images (repeated multipart field ``images``); one result per image."""
        limit = self.settings.max_batch_images
        too_many = (
            f"{len(images)} images in one batch; at most {limit} (use /predict_async for more)"
            if len(images) > limit
            else None
        )
        return await predictions.predict_many(
            self.predictor, images, "predict_batch", too_many, ctx, self.settings.decimal_separator
        )

    @bentoml.api(route="/predict_async/submit", input_spec=ImagesUpload, output_spec=TaskStatus)
    async def predict_async(self, images: list[bytes], ctx: bentoml.Context) -> TaskStatus | JSONResponse:
        """Queue a large batch (repeated field ``images``) for a worker; answers its ``task_id`` at once."""
        return await tasks.submit(self.runtime, images, ctx)

    @bentoml.api(route="/preview", input_spec=ImageUpload, output_spec=PreviewResult)
    async def preview(self, image: bytes, ctx: bentoml.Context) -> PreviewResult | JSONResponse:
        """Show what the model reads for an uploaded image (field ``image``): the normalized 32-pixel-high PNG."""
        return await predictions.preview(self.predictor, image, ctx)


# BentoML applies these in the order added, the first outermost.
Digitify.add_asgi_middleware(SecurityHeaders)
Digitify.add_asgi_middleware(AdmissionControl)
Digitify.add_asgi_middleware(LoopbackGuard)
Digitify.add_asgi_middleware(AuthMiddleware)
Digitify.add_asgi_middleware(RequestGuard)
