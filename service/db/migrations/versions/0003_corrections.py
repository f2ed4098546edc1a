"""Corrections: what people say a prediction should have read, reviewed by admins.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = ("corrected_by", "created_at", "status")


def upgrade() -> None:
    """Create the corrections table, one row per corrected prediction."""
    op.create_table(
        "corrections",
        sa.Column("log_id", sa.String(36), sa.ForeignKey("prediction_logs.id"), primary_key=True),
        sa.Column("text", sa.String(128), nullable=False),
        sa.Column("corrected_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("image_uri", sa.Text(), nullable=True),
    )
    for column in INDEXES:
        op.create_index(f"ix_corrections_{column}", "corrections", [column])


def downgrade() -> None:
    """Drop the corrections table."""
    for column in INDEXES:
        op.drop_index(f"ix_corrections_{column}", table_name="corrections")
    op.drop_table("corrections")
