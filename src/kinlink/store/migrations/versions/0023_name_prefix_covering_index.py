"""name prefix covering index: a search's lookup by the beginning of a name from the index alone

A staff search also looks its text up as the beginning of a name (`registry.search._found_stmt`: the
distinct records whose folded name lies in a range). Through an index of the folded name alone, every name
in the range is a read of its row for the record's id: a short text ("Ков") at 200,000 records matched
1,253 names, 1,270 pages and 3.2 ms warm, 45 ms from disk, on PostgreSQL. With the record's id in the index,
the same lookup reads 19 pages (issue 19). The index keeps its name and replaces the narrower one: it serves
every read the old one did. PostgreSQL only (the id as an included column): on SQLite the index is as it was
and the lookup's order unchanged (which records a broad beginning lists first). Analysed here, so that the
planner knows it at once.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 08:05:00
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_person_names_folded", table_name="person_names")
    op.create_index("ix_person_names_folded", "person_names", ["folded"], postgresql_include=["person_id"])
    op.execute("ANALYZE person_names")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_person_names_folded", table_name="person_names")
    op.create_index("ix_person_names_folded", "person_names", ["folded"])
