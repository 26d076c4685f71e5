"""found lookup function: a staff search's lookups and listed rows on PostgreSQL, planned once a connection

A staff search's last read (`registry.search._found_stmt`: the records by id or service number, by the
beginning of a name, and the matcher's hits, each with its listed row) was planned afresh at every run on
PostgreSQL: the plan cache compares the generic plan's estimate (a name range's default 0.5 % of the names,
then a tenth of that for a LIMIT it cannot see) with the estimates of the plans made for each run's values,
which know the range holds a name or two, and never chose it (0 of 290 runs). Its plans were the same all
the same: 0.2 ms of the backend's CPU a search went to planning (0.34 against 0.13 ms, measured at 200,000
records; issue 19). This function runs the same statement with the generic plan, kept for the connection's
life (a function's setting applies to its own statements alone). A text of fewer than four letters is not
looked up here: its range may hold a tenth of the names, for which a plan made for its values walks the
records in id order instead (`kinlink.registry.search`). The filters (status, kind of source) are NULL when
not asked. PostgreSQL only.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 08:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# The statement of `_found_stmt` with its filters as NULL-able arguments: found.what is 0 for a record by
# id or service number, 1 by the beginning of a name (the lowest ids first), 2 a matcher's hit; the listed
# columns are NULL where the record or its source does not pass the filters.
FUNCTION = """
CREATE FUNCTION kinlink_found(
    q varchar, lo varchar, hi varchar, lim integer, ids integer[], want_status varchar, want_kind varchar
) RETURNS TABLE (
    what integer, pid integer, id integer, source_name varchar, source_record_id varchar,
    full_name varchar, sex varchar, birth_date varchar, unit varchar, status varchar, status_date varchar
)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $body$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT found.what, found.pid, p.id, s.name, p.source_record_id, p.full_name, p.sex, p.birth_date,
           p.unit, p.status, p.status_date
    FROM (
        (SELECT e.id AS pid, 0 AS what FROM persons e
         WHERE e.source_record_id = q OR e.service_number = q LIMIT lim)
        UNION ALL
        (SELECT DISTINCT n.person_id AS pid, 1 AS what FROM person_names n
         WHERE n.folded >= lo AND n.folded < hi ORDER BY n.person_id LIMIT lim)
        UNION ALL
        (SELECT h.id AS pid, 2 AS what FROM persons h WHERE h.id = ANY (ids))
    ) AS found
    LEFT OUTER JOIN persons p
        ON p.id = found.pid AND (want_status IS NULL OR p.status = want_status)
    LEFT OUTER JOIN sources s
        ON s.id = p.source_id AND (want_kind IS NULL OR s.kind = want_kind);
END
$body$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION kinlink_found(varchar, varchar, varchar, integer, integer[], varchar, varchar)"
        )
