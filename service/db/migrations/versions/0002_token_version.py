"""Users get a token version: changing a password bumps it, and older tokens stop working.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``users.token_version`` (0 for existing accounts, whose tokens carry no version)."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop ``users.token_version``."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_version")
