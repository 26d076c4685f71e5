"""audit rekey

The audit chain becomes keyed (HMAC-SHA-256 under the server key "audit", see kinlink.store.audit). A
database holding entries written unkeyed gets one keyed "rekey" entry after them, naming how many there
were and the head they ended on; verification accepts unkeyed entries only before it. Entries also
record the credential used (audit_log.credential, e.g. "token:3"), hashed with the entry when present.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("credential", sa.String(length=100), nullable=True))
    from kinlink.store.audit import REKEY_ACTION, REKEY_ENTITY, entry_hash
    from kinlink.store.models import utcnow

    conn = op.get_bind()
    head = conn.execute(sa.text("SELECT hash, entries FROM audit_head WHERE id = 1")).first()
    if head is None or not head.entries:
        return  # an empty chain is keyed from its first entry
    at = utcnow()
    changes = {"scheme": "hmac-sha256", "unkeyed_entries": head.entries, "unkeyed_head": head.hash}
    actor = "kinlink:migration-0008"
    h = entry_hash(head.hash, at, actor, REKEY_ACTION, REKEY_ENTITY, None, changes)
    entries = sa.table(
        "audit_log",
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("entity", sa.String),
        sa.column("entity_id", sa.String),
        sa.column("changes", sa.JSON),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )
    conn.execute(
        entries.insert().values(
            at=at,
            actor=actor,
            action=REKEY_ACTION,
            entity=REKEY_ENTITY,
            entity_id=None,
            changes=changes,
            prev_hash=head.hash,
            hash=h,
        )
    )
    conn.execute(sa.text("UPDATE audit_head SET hash = :h, entries = entries + 1 WHERE id = 1"), {"h": h})


def downgrade() -> None:
    # The rekey entry stays: removing it would break the chain; an older kinlink cannot verify keyed
    # entries in any case.
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("credential")
