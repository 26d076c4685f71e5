"""how each event is known: its confirmation level, its author, a partner's id for it

Every event carries its confirmation level (kinlink.person.confirmation): events recorded before this
revision get the level their source's kind implies (a report read from the news or Telegram: open sources;
a partner's PFIF note: a member of the public; a registry's list or a record entered by the bureau: notified
by the detaining power). A note's author and a partner's own id of the note (PFIF note_record_id, which
makes re-importing a partner's notes idempotent) are kept beside it.

Revision ID: 0016
Revises: 0009
Create Date: 2026-12-06 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BY_SOURCE_KIND = {"report": "open_source", "partner": "public", "registry": "detaining_power"}
DEFAULT = "detaining_power"


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("confirmation", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("author", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("ref", sa.String(length=200), nullable=True))
    events = sa.table("events", sa.column("source_id", sa.Integer), sa.column("confirmation", sa.String))
    sources = sa.table("sources", sa.column("id", sa.Integer), sa.column("kind", sa.String))
    for kind, level in BY_SOURCE_KIND.items():
        op.execute(
            events.update()
            .where(events.c.source_id.in_(sa.select(sources.c.id).where(sources.c.kind == kind)))
            .values(confirmation=level)
        )
    op.execute(events.update().where(events.c.confirmation.is_(None)).values(confirmation=DEFAULT))
    with op.batch_alter_table("events") as batch:
        batch.alter_column("confirmation", existing_type=sa.String(length=20), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("ref")
        batch.drop_column("author")
        batch.drop_column("confirmation")
