"""documents keep a Telegram message's provenance: whom it was forwarded from, and its links

A channel's post is often a forward of another channel's (a ministry, a regional administration): where
it came from first is part of where a sighting was read (issue 17). Both columns are empty for news pages
and text files, and for documents stored before.

Revision ID: 0015
Revises: 0009
Create Date: 2026-12-06 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("forwarded_from", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("links", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("links")
        batch.drop_column("forwarded_from")
