"""A prediction-log database with corrections, written by the service's own schema, migrations and image store."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import datetime, timedelta

from PIL import Image
from sqlalchemy.orm import Session

from service.corrections.image_store import ImageStore
from service.db.engine import make_engine, migrate
from service.db.tables import Correction, PredictionLog
from tests.drawing import draw_number

REVIEWED = datetime(2026, 12, 1, 9, 0, 0)


def encoded(text: str, fmt: str = "PNG", **options: object) -> bytes:
    """A drawn number encoded in ``fmt`` (PNG, JPEG, BMP, ...)."""
    buffer = io.BytesIO()
    draw_number(text).save(buffer, format=fmt, **options)
    return buffer.getvalue()


class CorrectionsDatabase:
    """The service's real schema at ``url`` (migrated), with images kept in a real image store at ``store_url``."""

    def __init__(self, url: str, store_url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        migrate(self.engine)
        self.store = ImageStore(store_url)

    def add(
        self,
        text: str,
        image: bytes | None,
        status: str = "accepted",
        reviewed_at: datetime | None = REVIEWED,
        log_id: str | None = None,
        keep_image: bool = True,
        image_uri: str | None = None,
    ) -> tuple[str, str | None]:
        """Log a prediction of ``image`` and its correction to ``text``; return ``(log_id, image_uri)``.

        The image is kept in the store unless ``keep_image`` is false; ``image_uri`` overrides the URI recorded.
        """
        log_id = log_id or str(uuid.uuid4())
        sha256 = hashlib.sha256(image).hexdigest() if image is not None else None
        if image is not None and keep_image:
            self.store.put(sha256, image)
            image_uri = image_uri or self.store.uri(sha256)
        with Session(self.engine) as session, session.begin():
            session.add(
                PredictionLog(
                    id=log_id,
                    created_at=REVIEWED - timedelta(days=1),
                    username="ann",
                    endpoint="predict",
                    model_version="1",
                    outcome="ok",
                    text="0",
                    confidence=0.4,
                    latency_ms=3.0,
                    image_sha256=sha256,
                )
            )
            session.flush()
            session.add(
                Correction(
                    log_id=log_id,
                    text=text,
                    corrected_by="ann",
                    created_at=REVIEWED - timedelta(hours=1),
                    status=status,
                    reviewed_by="admin" if status != "pending" else None,
                    reviewed_at=reviewed_at if status != "pending" else None,
                    image_uri=image_uri,
                )
            )
        return log_id, image_uri

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()


def decoded_rgb(data: bytes) -> Image.Image:
    """Decode image bytes as RGB (to compare pixels)."""
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").copy()
