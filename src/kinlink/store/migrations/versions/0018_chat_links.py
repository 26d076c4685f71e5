"""chat links: the messenger door

Which messenger chat follows which tracing request (the Telegram bot), and the channel of a notification
(email, or chat: delivered to every chat following the request). Nothing else of a chat is kept.

Revision ID: 0018
Revises: 0009
Create Date: 2026-12-06 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_links",
        sa.Column("messenger", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["tracing_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("messenger", "chat_id"),
    )
    op.create_index("ix_chat_links_request", "chat_links", ["request_id"])
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=10), nullable=False, server_default="email"))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("channel")
    op.drop_index("ix_chat_links_request", table_name="chat_links")
    op.drop_table("chat_links")
