"""unidentified remains

Records of unidentified human remains (the estimated age and stature, marks and tattoos with where on the
body, clothing and effects, where and when found, the recovering body) and their candidates: the missing
persons and tracing requests each may be, with the explanation of each comparison.

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-06 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0009"
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "remains",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("age_min", sa.Integer(), nullable=True),
        sa.Column("age_max", sa.Integer(), nullable=True),
        sa.Column("height_min", sa.Integer(), nullable=True),
        sa.Column("height_max", sa.Integer(), nullable=True),
        sa.Column("marks", sa.Text(), nullable=True),
        sa.Column("clothing", sa.Text(), nullable=True),
        sa.Column("effects", sa.Text(), nullable=True),
        sa.Column("found_place", sa.String(length=300), nullable=True),
        sa.Column("found_date", sa.String(length=10), nullable=False),
        sa.Column("recovered_by", sa.String(length=300), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column(
            "identified_person_id",
            sa.Integer(),
            sa.ForeignKey("persons.id", ondelete="SET NULL", name="fk_remains_identified_person_id_persons"),
            nullable=True,
        ),
        sa.Column("identified_source", sa.Text(), nullable=True),
        sa.Column("identified_by", sa.String(length=200), nullable=True),
        sa.Column("identified_at", sa.DateTime(timezone=True), nullable=True),
        *_stamps(),
        sa.UniqueConstraint("record_id", name="uq_remains_record_id"),
    )
    op.create_index("ix_remains_state", "remains", ["state"])
    op.create_table(
        "remains_candidates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pair", sa.String(length=40), nullable=False),
        sa.Column(
            "remains_id",
            sa.Integer(),
            sa.ForeignKey("remains.id", ondelete="CASCADE", name="fk_remains_candidates_remains_id_remains"),
            nullable=False,
        ),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("persons.id", ondelete="CASCADE", name="fk_remains_candidates_person_id_persons"),
            nullable=True,
        ),
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey(
                "tracing_requests.id",
                ondelete="CASCADE",
                name="fk_remains_candidates_request_id_tracing_requests",
            ),
            nullable=True,
        ),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        *_stamps(),
        sa.UniqueConstraint("pair", name="uq_remains_candidates_pair"),
    )
    op.create_index("ix_remains_candidates_remains", "remains_candidates", ["remains_id"])
    op.create_index("ix_remains_candidates_person", "remains_candidates", ["person_id"])
    op.create_index("ix_remains_candidates_request", "remains_candidates", ["request_id"])


def downgrade() -> None:
    op.drop_table("remains_candidates")
    op.drop_table("remains")
