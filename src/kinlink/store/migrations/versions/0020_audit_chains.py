"""audit chains

The audit log becomes several keyed chains (kinlink.store.audit): concurrent transactions each append to
a chain head no other one holds, instead of all waiting for the one head across each other's commits
(issue 19). Each entry records its chain (audit_log.chain); the entries already written are chain 1's, the
chain they always were, and hash as they did; seven more heads, empty, are seeded beside its head.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

CHAINS = 8  # kinlink.store.audit.CHAINS when this was written


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("chain", sa.Integer(), server_default="1", nullable=False))
    conn = op.get_bind()
    have = set(conn.execute(sa.text("SELECT id FROM audit_head")).scalars())
    for chain in range(1, CHAINS + 1):
        if chain not in have:
            conn.execute(
                sa.text("INSERT INTO audit_head (id, hash, entries) VALUES (:id, NULL, 0)"), {"id": chain}
            )


def downgrade() -> None:
    # One chain again only if the others are still empty: their entries would not verify as chain 1's.
    conn = op.get_bind()
    others = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE chain <> 1")).scalar_one()
    if others:
        raise RuntimeError(f"{others} audit entries are on chains other than 1: they cannot be kept in one")
    conn.execute(sa.text("DELETE FROM audit_head WHERE id <> 1"))
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("chain")
