"""match key scheme

The fingerprint of the key derivation the match_keys table was written with, so that keys written by an
older kinlink are rebuilt (by `kinlink init` or `kinlink match`) instead of silently missing new queries.
Left empty here: the first run of this version fills it, rebuilding the keys if there are any.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "match_key_scheme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_key_scheme")),
    )
    op.bulk_insert(table, [{"id": 1, "fingerprint": None}])


def downgrade() -> None:
    op.drop_table("match_key_scheme")
