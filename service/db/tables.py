"""The database schema as SQLAlchemy 2 ORM models: users, the prediction log and the corrections of it.

Times are stored as naive UTC datetimes. Alembic migrations in ``service/db/migrations`` create
and evolve these tables; the models here are what the code queries.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLE_USER = "user"
ROLE_ADMIN = "admin"
ROLES = (ROLE_USER, ROLE_ADMIN)
OUTCOME_OK = "ok"
OUTCOME_REJECTED = "rejected"
OUTCOMES = (OUTCOME_OK, OUTCOME_REJECTED)
CORRECTION_PENDING = "pending"
CORRECTION_ACCEPTED = "accepted"
CORRECTION_REJECTED = "rejected"
CORRECTION_STATUSES = (CORRECTION_PENDING, CORRECTION_ACCEPTED, CORRECTION_REJECTED)


def utcnow() -> datetime:
    """Return the current time as a naive UTC datetime (the form stored in the database)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base of Digitify's tables."""


class User(Base):
    """An account that may call the service; ``role`` is ``user`` or ``admin``.

    ``username`` is stored lower-case (names differing only in case are one account);
    ``token_version`` grows with every password change, and tokens carrying an older one are refused.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default=ROLE_USER)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    token_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")


class PredictionLog(Base):
    """One prediction or one rejected input, as the service answered it."""

    __tablename__ = "prediction_logs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    endpoint: Mapped[str] = mapped_column(String(32), nullable=False)
    batch_id: Mapped[str | None] = mapped_column(String(36), index=True)
    model_version: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(String(128), index=True)
    value: Mapped[str | None] = mapped_column(Text)  # models.number_value: a normalized decimal string
    confidence: Mapped[float | None] = mapped_column(Float, index=True)
    char_confidences: Mapped[list[float] | None] = mapped_column(JSON)
    latency_ms: Mapped[float] = mapped_column(Float, nullable=False)
    image_width: Mapped[int | None] = mapped_column(Integer)
    image_height: Mapped[int | None] = mapped_column(Integer)
    image_bytes: Mapped[int | None] = mapped_column(Integer)
    image_sha256: Mapped[str | None] = mapped_column(String(64), index=True)


class Correction(Base):
    """What a person says a prediction should have read, and what an admin decided about it.

    One row per corrected prediction (a new correction of the same prediction replaces the text and
    goes back to ``pending``). ``image_uri`` is where the image's bytes were kept (an fsspec URL or a
    local path), or None when the deployment does not keep images; the export reads it as it is.
    """

    __tablename__ = "corrections"

    log_id: Mapped[str] = mapped_column(String(36), ForeignKey("prediction_logs.id"), primary_key=True)
    text: Mapped[str] = mapped_column(String(128), nullable=False)
    corrected_by: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    image_uri: Mapped[str | None] = mapped_column(Text)
