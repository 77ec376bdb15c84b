"""rejected_records: reason_code and field

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 18:07:58.669735

Two nullable columns: rows written before this revision keep NULL in both.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column(
        "rejected_records",
        sa.Column(
            "reason_code",
            sa.String(length=64),
            nullable=True,
            comment="what kind of problem: missing, not_a_number, out_of_range, duplicate_key, ...",
        ),
    )
    op.add_column(
        "rejected_records",
        sa.Column(
            "field",
            sa.String(length=64),
            nullable=True,
            comment="the source field the reason is about",
        ),
    )


def downgrade() -> None:
    op.drop_column("rejected_records", "field")
    op.drop_column("rejected_records", "reason_code")
