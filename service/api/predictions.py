"""What the prediction routes answer: ``/predict``, ``_base64``, ``_batch``, ``/predict_async`` and ``/preview``.

The routes are the BentoML service's APIs (``service.service.Digitify``); each hands its input to
a function here, which asks the worker's predictor (``service.prediction.predictor``: read, then
log) and turns the outcome into the answer: the result, or a refusal as its status with
``{"error", "log_id"}``. The request guard (``service.http.request_guard``) has already checked
content type, size and form fields, and parsed the body once: the inputs are its image bytes
(``service.api.inputs``).
"""

from __future__ import annotations

import io
import time

import bentoml
from PIL import Image
from starlette.responses import JSONResponse

from models.number_value import SeparatorRule
from service.http.asgi import STARTING_HEADERS, error_response
from service.http.auth_middleware import account_of
from service.prediction.pool import PoolClosedError
from service.prediction.predictor import MODEL_UNAVAILABLE, Predictor, Refusal
from service.prediction.process import InferenceProcessError
from service.prediction.schemas import BatchResult, PredictionResult, PreviewResult
from service.prediction.uploads import InputError, decode_base64_image, png_data_url
from service.prediction.values import separator_rule, with_values

RETRY_HEADERS = STARTING_HEADERS  # a model that failed on a request is started again within seconds


async def predict(
    predictor: Predictor, image: bytes, ctx: bentoml.Context, default_rule: SeparatorRule
) -> PredictionResult | JSONResponse:
    """Read and log the number in one uploaded image (the bytes of the form field ``image``).

    ``default_rule``: how a separator is read for the value unless the request says (``decimal_separator``).
    """
    started = time.perf_counter()
    try:
        rule = separator_rule(ctx.request.query_params, default_rule)
    except InputError as exc:
        return refused(await predictor.refuse(exc, "predict", username(ctx), started), ctx)
    return answer(with_values(await predictor.predict_one(image, "predict", username(ctx), started, rule), rule), ctx)


async def predict_base64(
    predictor: Predictor, image: str, ctx: bentoml.Context, default_rule: SeparatorRule
) -> PredictionResult | JSONResponse:
    """Read and log the number in a base64 image or ``data:image/...;base64,`` URL (what a canvas gives)."""
    started = time.perf_counter()
    try:
        rule = separator_rule(ctx.request.query_params, default_rule)
        data = decode_base64_image(image)
    except InputError as exc:
        return refused(await predictor.refuse(exc, "predict_base64", username(ctx), started), ctx)
    outcome = await predictor.predict_one(data, "predict_base64", username(ctx), started, rule)
    return answer(with_values(outcome, rule), ctx)


async def predict_many(
    predictor: Predictor,
    images: list[bytes],
    endpoint: str,
    too_many: str | None,
    ctx: bentoml.Context,
    default_rule: SeparatorRule,
) -> BatchResult | JSONResponse:
    """Read and log a batch (one result per image); ``too_many``: why the whole batch is refused (413), if it is."""
    try:
        if too_many is not None:
            raise InputError(too_many, 413)
        rule = separator_rule(ctx.request.query_params, default_rule)
    except InputError as exc:
        return refused(await predictor.refuse(exc, endpoint, username(ctx), time.perf_counter()), ctx)
    return answer(with_values(await predictor.predict_many(images, endpoint, username(ctx), rule), rule), ctx)


async def preview(predictor: Predictor, image: bytes, ctx: bentoml.Context) -> PreviewResult | JSONResponse:
    """The normalized 32-pixel-high PNG the model would read for an upload (nothing is logged).

    The decoding runs in an inference process, like a prediction's: never in the web worker.
    """
    try:
        reading = await predictor.preview(image)
    except (InferenceProcessError, PoolClosedError) as exc:
        ctx.response.status_code = 503
        return error_response(503, f"{MODEL_UNAVAILABLE} ({exc})", STARTING_HEADERS)
    if reading.error is not None or reading.preview_png is None:
        status = reading.status if reading.error is not None else 500
        ctx.response.status_code = status  # BentoML takes the status from ``ctx``
        return error_response(status, reading.error or "the image could not be prepared")
    preview_image = Image.open(io.BytesIO(reading.preview_png))
    return PreviewResult(
        image=png_data_url(reading.preview_png), width=preview_image.width, height=preview_image.height
    )


def username(ctx: bentoml.Context) -> str | None:
    """The user the auth middleware authenticated for this request."""
    account = account_of(ctx.request.scope)
    return account.username if account is not None else None


def answer(
    outcome: PredictionResult | BatchResult | Refusal, ctx: bentoml.Context
) -> PredictionResult | BatchResult | JSONResponse:
    """A result as is, a refusal as its 4xx (or 503)."""
    return refused(outcome, ctx) if isinstance(outcome, Refusal) else outcome


def refused(refusal: Refusal, ctx: bentoml.Context) -> JSONResponse:
    """Answer a logged refusal with its status, message and log id (a 503 says when to try again)."""
    status = refusal.error.status
    ctx.response.status_code = status
    return error_response(status, str(refusal.error), RETRY_HEADERS if status == 503 else None, log_id=refusal.log_id)
