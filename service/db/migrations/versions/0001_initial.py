"""Initial schema: users and the prediction log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LOG_INDEXES = ("created_at", "username", "batch_id", "model_version", "outcome", "text", "confidence", "image_sha256")


def upgrade() -> None:
    """Create the users and prediction_logs tables."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "prediction_logs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("endpoint", sa.String(32), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=True),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("text", sa.String(128), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("char_confidences", sa.JSON(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("image_width", sa.Integer(), nullable=True),
        sa.Column("image_height", sa.Integer(), nullable=True),
        sa.Column("image_bytes", sa.Integer(), nullable=True),
        sa.Column("image_sha256", sa.String(64), nullable=True),
    )
    for column in LOG_INDEXES:
        op.create_index(f"ix_prediction_logs_{column}", "prediction_logs", [column])


def downgrade() -> None:
    """Drop both tables."""
    for column in LOG_INDEXES:
        op.drop_index(f"ix_prediction_logs_{column}", table_name="prediction_logs")
    op.drop_table("prediction_logs")
    op.drop_table("users")
