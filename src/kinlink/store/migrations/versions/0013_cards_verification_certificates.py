"""cards, verified enquirers, certificates

The fields of the capture and internment cards that records lacked (GC III Annex IV B, GC IV Annex III):
the person's language, occupation, the detaining power, the prisoner's or internee's number, the state of
health. How each enquirer was verified (until then a family is told nothing beyond "being handled"; requests
filed before this revision are unverified until a caseworker records how). Certificates issued to families.

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0008"
branch_labels = None
depends_on = None

PERSON_COLUMNS = (
    ("language", 10),
    ("occupation", 200),
    ("detaining_power", 200),
    ("detainee_number", 100),
    ("health_state", 30),
)


def upgrade() -> None:
    with op.batch_alter_table("persons") as batch:
        for name, length in PERSON_COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=True))
    op.create_table(
        "enquirer_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=30), nullable=False),
        sa.Column("relationship", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_by", sa.String(length=200), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["tracing_requests.id"],
            name=op.f("fk_enquirer_verifications_request_id_tracing_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enquirer_verifications")),
    )
    op.create_index("ix_enquirer_verifications_request", "enquirer_verifications", ["request_id"])
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("status_date", sa.String(length=10), nullable=True),
        sa.Column("level", sa.String(length=40), nullable=True),
        sa.Column("languages", sa.String(length=40), nullable=False),
        sa.Column("bureau", sa.String(length=300), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_certificates_person_id_persons"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["tracing_requests.id"],
            name=op.f("fk_certificates_request_id_tracing_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_certificates_event_id_events"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("serial", name=op.f("uq_certificates_serial")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_certificates_code_hash")),
    )
    op.create_index("ix_certificates_person", "certificates", ["person_id"])
    op.create_index("ix_certificates_request", "certificates", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_certificates_request", table_name="certificates")
    op.drop_index("ix_certificates_person", table_name="certificates")
    op.drop_table("certificates")
    op.drop_index("ix_enquirer_verifications_request", table_name="enquirer_verifications")
    op.drop_table("enquirer_verifications")
    with op.batch_alter_table("persons") as batch:
        for name, _length in reversed(PERSON_COLUMNS):
            batch.drop_column(name)
