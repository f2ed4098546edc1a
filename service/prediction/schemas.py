"""The JSON shapes of the prediction API (pydantic models BentoML validates and documents)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from models.charset import CHARSET


class ReadingValue(BaseModel):
    """What a reading's text means as a number (``service.prediction.values``)."""

    value: str | None = Field(
        default=None,
        description="the number as a normalized decimal string ('-12.5', '1250', '6.02e23'); null when the text "
        "is not a well-formed number (value_error says why)",
    )
    value_error: str | None = Field(default=None, description="why the text has no value")
    decimal_separator: str | None = Field(
        default=None, description="how a '.' or ',' in the text was read: 'point' or 'comma' is the decimal separator"
    )


class PredictionResult(ReadingValue):
    """One read number."""

    text: str = Field(
        description=f"the number read from the image, over {CHARSET!r} (after a '^' the rest is a raised exponent)"
    )
    confidence: float = Field(description="calibrated probability (0-1) that the text is right")
    char_confidences: list[float] = Field(description="per-character confidences (0-1)")
    model_version: str = Field(description="the model that answered")
    log_id: str = Field(description="id of this prediction's row in the prediction log")


class PreviewResult(BaseModel):
    """The image the model reads for an upload: the one preprocessing path's output."""

    image: str = Field(description="data:image/png;base64 URL of an 8-bit grey PNG, ink white on black")
    width: int = Field(description="width of the normalized image in pixels")
    height: int = Field(description="height of the normalized image in pixels (always 32)")


class BatchItem(ReadingValue):
    """One image of a batch: its prediction, or why it was rejected."""

    index: int
    ok: bool
    text: str | None = None
    confidence: float | None = None
    char_confidences: list[float] | None = None
    error: str | None = None
    status: int = 200
    log_id: str


class BatchResult(BaseModel):
    """The answer to a batch: one item per image, in upload order."""

    batch_id: str
    model_version: str
    count: int
    ok: int
    rejected: int
    results: list[BatchItem]


class RawPrediction(BaseModel):
    """What the model returns per image, before the service adds the version and the log id."""

    text: str
    confidence: float
    char_confidences: list[float]


class TaskStatus(BaseModel):
    """Where an async task stands: queued, running (``done`` of ``total`` images read), done, failed or canceled."""

    task_id: str
    status: str = Field(description="queued, running, done, failed or canceled")
    done: int = Field(description="images read so far")
    total: int = Field(description="images in the task")
    created_at: str
    updated_at: str
    error: str | None = Field(default=None, description="why a failed task failed")
