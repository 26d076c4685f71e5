"""erased records' keys: delete the matching keys that records erased before erasure removed them left

Until now an erasure deleted a record's names, history and sightings but not its rows in match_keys: its
blocking keys and its name counts (derived from its names) stayed, counted in every name's frequency, and
on SQLite a later record given the same id would have inherited them. Erasure now deletes them
(`registry.erasure.erase_person`); this deletes those left by earlier erasures, then analyses the table.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 13:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM match_keys WHERE entity = 'p' "
        "AND NOT EXISTS (SELECT 1 FROM persons WHERE persons.id = match_keys.entity_id)"
    )
    op.execute("ANALYZE match_keys")


def downgrade() -> None:
    pass  # what was erased stays erased
