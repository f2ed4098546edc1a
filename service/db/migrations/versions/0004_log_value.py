"""Prediction-log rows get ``value``: the number a reading means, so that the admin log filters by value range.

Rows logged before it get the value of their text (the readings then held only digits and a point).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.number_value import parse_value

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BACKFILL_ROWS = 1000  # rows read and updated per round, so a long log never sits in memory at once


def upgrade() -> None:
    """Add ``prediction_logs.value`` and fill it for the rows already logged."""
    with op.batch_alter_table("prediction_logs") as batch:
        batch.add_column(sa.Column("value", sa.Text(), nullable=True))
    logs = sa.table("prediction_logs", sa.column("id", sa.String), sa.column("text", sa.String), sa.column("value"))
    fill = sa.update(logs).where(logs.c.id == sa.bindparam("row_id")).values(value=sa.bindparam("row_value"))
    connection = op.get_bind()
    last_id = ""
    while True:
        rows = connection.execute(
            sa.select(logs.c.id, logs.c.text)
            .where(logs.c.id > last_id, logs.c.text.is_not(None))
            .order_by(logs.c.id)
            .limit(BACKFILL_ROWS)
        ).all()
        if not rows:
            return
        values = [(row_id, parse_value(text, "point").value) for row_id, text in rows]
        filled = [{"row_id": row_id, "row_value": value} for row_id, value in values if value is not None]
        if filled:
            connection.execute(fill, filled)  # one executemany per round, not a statement per row
        last_id = rows[-1][0]


def downgrade() -> None:
    """Drop ``prediction_logs.value``."""
    with op.batch_alter_table("prediction_logs") as batch:
        batch.drop_column("value")
