"""consent statements and note messages

A person's consent is recorded with when it was given and who said so, how (`consent_statements`, one row
per statement, the flags it set). A note that kinlink writes on an event (a report's sighting: "reported
captured (video, telegram)") is kept as data (`events.note_message`: its kind and values) that each door
renders in its reader's language; notes written before are turned into that form where they are
kinlink's own, and stay as they were otherwise.

Revision ID: 0009
Revises: 0013
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0013"
branch_labels = None
depends_on = None

# The English note kinlink wrote on a sighting's event before notes were data.
_REPORTED = re.compile(r"^reported (\w+)(?: \(([\w, ]+)\))?$")


def upgrade() -> None:
    op.create_table(
        "consent_statements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("given_on", sa.String(length=10), nullable=False),
        sa.Column("given_by", sa.String(length=300), nullable=False),
        sa.Column("given_how", sa.String(length=20), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_consent_statements_person", "consent_statements", ["person_id"])
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("note_message", sa.JSON(), nullable=True))

    conn = op.get_bind()
    events = sa.table("events", sa.column("id", sa.Integer), sa.column("note_message", sa.JSON))
    rows = conn.execute(sa.text("SELECT id, note FROM events WHERE note LIKE 'reported %'")).all()
    for event_id, note in rows:
        m = _REPORTED.match(note or "")
        if m is None:
            continue
        via = [v.strip() for v in (m.group(2) or "").split(",") if v.strip()]
        message = {"kind": "reported", "status": m.group(1), "via": via}
        conn.execute(events.update().where(events.c.id == event_id).values(note_message=message))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("note_message")
    op.drop_index("ix_consent_statements_person", table_name="consent_statements")
    op.drop_table("consent_statements")
