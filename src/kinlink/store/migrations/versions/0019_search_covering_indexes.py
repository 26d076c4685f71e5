"""search covering indexes: what a search reads of each shortlisted record, from an index alone

A staff search reads, for each of up to 2,000 shortlisted records, its sex, birth date, age, version and
creation time (the pre-rank and the prepared-record cache's key), then the other names and capture events
of the best 60. Read through the primary key, each is a lookup into a wide row (persons has some forty
columns); these indexes hold just the columns read, in id order, so a search reads a few dense index
pages instead (issue 19). Analysed here, so that the planner knows them at once.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 12:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

INDEXES = (
    (
        "ix_persons_prerank",
        "persons",
        ["id", "sex", "birth_date", "age", "age_as_of", "version", "created_at"],
    ),
    ("ix_person_names_other", "person_names", ["person_id", "position", "full_name"]),
    ("ix_events_captures", "events", ["person_id", "kind", "id", "date", "place"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    for table in dict.fromkeys(t for _n, t, _c in INDEXES):
        op.execute(f"ANALYZE {table}")  # our own table names


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
