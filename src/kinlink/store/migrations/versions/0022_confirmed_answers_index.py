"""confirmed answers index: the status page's "how long an answer usually takes" from an index alone

Every family status check (the page families reload) reads the latest confirmed matches of the last year
(at most 500, `tracing.family_access.usual_wait_days`). Through ix_match_candidates_state that is every
confirmed match ever, sorted by decision time for the 500 latest: a read that grows with the bureau's
work. This index holds the confirmed matches in decision order with their request, so the read is the
latest 500 entries whatever the registry's age (issue 19). Analysed here, so the planner knows it at once.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 15:05:00
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_match_candidates_decided", "match_candidates", ["state", "decided_at", "request_id"])
    op.execute("ANALYZE match_candidates")


def downgrade() -> None:
    op.drop_index("ix_match_candidates_decided", table_name="match_candidates")
