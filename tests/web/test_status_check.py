"""A family's status check, the page families reload, reads what it shows in few statements (issue 19):
who is asking (one read, outside any transaction on PostgreSQL), the request with its standing
verification (one read), how long answers usually take (one read, from the index of migration 0022; on
PostgreSQL a column of the request's read, one round trip fewer).
Statements and plans are checked, never timing."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, text

from kinlink.store.audit import entry_count, record, verify
from kinlink.store.db import make_engine, read_only_connection, reading_unit, unit_of_work
from kinlink.store.models import Source
from kinlink.tracing.family_access import family_view, usual_wait_days
from kinlink.tracing.verification import record_verification, withdraw_verification
from tests.support import file_request, sent_statements, statements_run
from tests.web.test_family_flow import REQUEST
from tests.web.test_family_flow import file_request as file_through_the_page


def test_a_status_check_reads_the_session_the_request_and_the_usual_wait(client_for, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    family = client_for()
    reference, secret = file_through_the_page(family, REQUEST)
    assert family.track(reference, secret).status_code == 303
    assert family.get("/family").status_code == 200  # the pool's connections made, the page's state cached

    def check() -> None:
        page = family.get("/family")
        assert page.status_code == 200 and reference in page.text

    # The notification outbox's sender delivers the filing's notice on its own thread, through the same
    # engine, whenever it runs: its statements are not the status check's.
    seen = sent_statements(engine, check, lambda statement: "notifications" not in statement)
    read = ("web_sessions", "enquirer_verifications", "match_candidates")
    tables = [[t for t in read if t in statement] for statement, _ in seen]
    if engine.dialect.name == "postgresql":  # the usual wait is a column of the request's read
        assert tables == [["web_sessions"], ["enquirer_verifications", "match_candidates"]]
    else:
        assert tables == [["web_sessions"], ["enquirer_verifications"], ["match_candidates"]]


def test_the_view_tells_only_the_verification_that_stands(engine: Engine) -> None:
    """The request and its latest verification are read together: none, one, one withdrawn, a later one."""
    with unit_of_work(engine) as s:
        rid = file_request(s, "test", dict(REQUEST), match=False)[0].id
    stages = []
    with unit_of_work(engine) as s:
        stages.append(family_view(s, rid, "web").verified)  # type: ignore[union-attr]
        record_verification(s, "caseworker", rid, "call_back", "мати")
    with unit_of_work(engine) as s:
        stages.append(family_view(s, rid, "web").verified)  # type: ignore[union-attr]
        withdraw_verification(s, "caseworker", rid, "recorded for the wrong enquirer")
    with unit_of_work(engine) as s:
        stages.append(family_view(s, rid, "web").verified)  # type: ignore[union-attr]
        record_verification(s, "caseworker", rid, "video_call", "мати")
    with unit_of_work(engine) as s:
        view = family_view(s, rid, "web")
        assert view is not None and view.outcome.stage == "in_progress" and view.verified
        assert family_view(s, rid + 1000, "web") is None
    assert stages == [False, True, False]


@pytest.mark.parametrize("read", ["alone", "with the request"])
def test_the_usual_wait_is_read_from_the_confirmed_answers_index(pg: Engine, read: str) -> None:
    engine = pg  # PostgreSQL's planner is asked
    with unit_of_work(engine) as s:
        rid = file_request(s, "test", dict(REQUEST), match=False)[0].id
    with unit_of_work(engine) as s:
        if read == "alone":
            seen = statements_run(engine, lambda: usual_wait_days(s), lambda statement: True)
        else:
            seen = statements_run(
                engine, lambda: family_view(s, rid, "web"), lambda t: "match_candidates" in t
            )
    assert len(seen) == 1
    statement, parameters = seen[0]
    with engine.connect() as conn:
        # Too few rows here for the planner to prefer any index on its own: with scans of the whole table
        # and bitmap scans off, the index must give the latest confirmed answers in order, with no sort.
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(text("SET LOCAL enable_bitmapscan = off"))
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
    # (With the request, the at most 500 rows read are then grouped by request: a sort of those alone.)
    assert "ix_match_candidates_decided" in plan and "Sort Key: match_candidates" not in plan, plan


def test_who_is_asking_is_read_outside_a_transaction_on_postgresql(engine: Engine) -> None:
    postgres = engine.dialect.name == "postgresql"
    with read_only_connection(engine) as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
        dbapi = conn.connection.dbapi_connection
        assert not postgres or dbapi.autocommit  # type: ignore[union-attr]
    # The pooled connection given back is transactional again: a unit of work still rolls back whole.
    with pytest.raises(RuntimeError), unit_of_work(engine) as s:
        s.add(Source(name="rolled back", kind="registry"))
        s.flush()
        raise RuntimeError("undo")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sources WHERE name = 'rolled back'")).scalar_one() == 0


def _in_transaction(session) -> bool:  # type: ignore[no-untyped-def]
    dbapi = session.connection().connection.dbapi_connection
    return dbapi.pgconn.transaction_status != 0  # not PQTRANS_IDLE


def test_a_reading_unit_begins_a_transaction_only_at_its_first_write(pg: Engine) -> None:
    """The status page's unit: its reads run outside a transaction (no BEGIN, no COMMIT round trip); from
    its first write or lock on, one transaction, committed whole at its end."""
    with reading_unit(pg) as s:
        assert s.execute(text("SELECT count(*) FROM sources")).scalar_one() == 0
        assert s.execute(text("SELECT 'for update'")).scalar_one() == "for update"  # a literal begins one
        assert _in_transaction(s)
    with reading_unit(pg) as s:
        s.execute(text("SELECT 1")).scalar_one()
        assert not _in_transaction(s)
        s.add(Source(name="written", kind="registry"))
        s.flush()
        assert _in_transaction(s)
        record(s, "test", "create", "source", 1)
    with reading_unit(pg) as s:
        s.execute(text("SELECT id FROM sources FOR UPDATE")).all()  # a lock holds until the unit ends
        assert _in_transaction(s)
    with unit_of_work(pg) as s:
        assert s.execute(text("SELECT count(*) FROM sources WHERE name = 'written'")).scalar_one() == 1
        assert entry_count(s) == 1 and verify(s) == []


@pytest.mark.parametrize("fail_after", ["the row", "its audit entry"])
def test_a_reading_unit_that_fails_after_writing_keeps_nothing_of_it(engine: Engine, fail_after: str) -> None:
    with unit_of_work(engine) as s:
        before = entry_count(s)
    with pytest.raises(RuntimeError), reading_unit(engine) as s:
        s.execute(text("SELECT 1")).scalar_one()
        s.add(Source(name="rolled back", kind="registry"))
        s.flush()
        if fail_after == "its audit entry":
            record(s, "test", "create", "source", 1)
        raise RuntimeError("undo")
    with unit_of_work(engine) as s:
        assert s.execute(text("SELECT count(*) FROM sources WHERE name = 'rolled back'")).scalar_one() == 0
        assert entry_count(s) == before and verify(s) == []


def test_a_pooled_connection_the_server_ended_is_replaced_before_use(pg: Engine) -> None:
    db_url = pg.url.render_as_string(hide_password=False)  # a server that ends connections
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with make_engine(db_url, pooled=False).connect() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
            admin.commit()
            # pg_terminate_backend only signals the backend: the connection is closed once it has ended.
            gone = text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid")
            for _ in range(200):
                if admin.execute(gone, {"pid": pid}).scalar_one():
                    break
                admin.commit()
                time.sleep(0.05)
            else:
                raise AssertionError("the terminated backend did not end within 10 s")
        # The pooled connection was given back a moment ago (no ping due): its closed socket is seen.
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()
