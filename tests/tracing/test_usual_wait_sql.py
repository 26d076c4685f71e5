"""The usual wait a family's status check shows is computed twice: on PostgreSQL in SQL, as an array column of
the request's read (family_access._VIEW_AND_WAIT), on SQLite in Python (first_answer_days). The same rows
must give the same days, to the last bit, whatever the intervals (none, negative, ties, a microsecond either
side of a whole day, across daylight-saving changes), the window's edge, and the time zone PostgreSQL's
session gives its timestamps in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, insert, text
from sqlalchemy.orm import Session

from kinlink.store import schema
from kinlink.store.db import make_engine
from kinlink.store.models import Person, Source
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from kinlink.tracing.family_access import (
    _VIEW_AND_WAIT,
    WAIT_SAMPLE_MAX,
    WAIT_SAMPLE_MIN,
    _usual_wait,
    first_answer_days,
)

# Zones a server may give its sessions: daylight saving in March/April and October (both hemispheres), offsets
# of half and quarter hours, and one that is not a whole number of hours from UTC all year.
SESSION_ZONES = ["UTC", "Europe/Kyiv", "America/St_Johns", "Australia/Lord_Howe", "Asia/Kathmandu"]
# Zones the moments are written in (PostgreSQL keeps the instant; SQLite is given UTC, as kinlink writes it).
INPUT_ZONES = [
    UTC,
    ZoneInfo("Europe/Chisinau"),
    ZoneInfo("America/New_York"),
    timezone(timedelta(hours=-3.5)),
]
START = datetime(2026, 1, 1, tzinfo=UTC)  # filings over a year: every zone above changes its clocks in it
DAY_US = 86_400_000_000
# A few instants shared by answers of different requests: ties in decided_at, and in the days of a request.
SHARED = [START + timedelta(days=d, hours=h) for d, h in ((90, 1), (200, 0), (300, 23))]

_moment = st.builds(
    lambda us, zone: (START + timedelta(microseconds=us)).astimezone(zone),
    st.integers(0, 365 * DAY_US),
    st.sampled_from(INPUT_ZONES),
)
# From filing to an answer: anything (also before the filing: the wait is then 0), or whole days give or
# take a microsecond (where rounding and a day's boundary would show).
_after = st.one_of(
    st.integers(-2 * DAY_US, 400 * DAY_US),
    st.builds(lambda d, us: d * DAY_US + us, st.integers(-1, 400), st.sampled_from([-1, 0, 1])),
)
_answer = st.tuples(
    st.one_of(_after, st.sampled_from(SHARED)),
    st.sampled_from(["confirmed", "confirmed", "confirmed", "pending", "rejected"]),
)
_requests = st.lists(st.tuples(_moment, st.lists(_answer, max_size=3)), max_size=WAIT_SAMPLE_MIN + 8)


@st.composite
def _cases(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]], datetime, str]:
    requests, answers = [], []
    for n, (filed, given_answers) in enumerate(draw(_requests), start=2):
        requests.append(_request_row(n, filed))
        for k, (after, state) in enumerate(given_answers):
            decided = after if isinstance(after, datetime) else filed + timedelta(microseconds=after)
            answers.append(_answer_row(n, k, state, decided))
    decided_at = [a["decided_at"] for a in answers if a["state"] == "confirmed"]
    # The window's start: anywhere, or exactly an answer's time (an answer at `since` counts).
    since = draw(st.one_of(_moment, st.sampled_from(decided_at))) if decided_at else draw(_moment)
    return requests, answers, since, draw(st.sampled_from(SESSION_ZONES))


def _request_row(n: int, filed: datetime) -> dict[str, Any]:
    return {
        "id": n,
        "reference": f"W{n}",
        "secret_hash": "-",
        "state": "candidates",
        "full_name": "Пактышев Леонид",
        "enquirer_name": "Пактышева Анна",
        "created_at": filed,
        "updated_at": filed,
    }


def _answer_row(request_id: int, k: int, state: str, decided: datetime) -> dict[str, Any]:
    return {
        "pair": f"r{request_id}:p1:{k}",
        "request_id": request_id,
        "person_id": 1,
        "probability": 0.9,
        "weight": 3.0,
        "explanation": {},
        "model_name": "test",
        "model_version": 1,
        "state": state,
        "decided_at": decided,
    }


def _insert(conn: Connection, requests: list[dict[str, Any]], answers: list[dict[str, Any]]) -> None:
    conn.execute(insert(Source), [{"id": 1, "name": "wait", "kind": "registry"}])
    conn.execute(insert(Person), [{"id": 1, "source_id": 1, "source_record_id": "1", "full_name": "П Л"}])
    # Request 1, with no answer, is the one whose status is read.
    conn.execute(insert(TracingRequest), [_request_row(1, START), *requests])
    if answers:
        conn.execute(insert(MatchCandidate), answers)


def _in_utc(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v.astimezone(UTC) if isinstance(v, datetime) else v for k, v in row.items()} for row in rows]


@pytest.fixture(scope="module")
def sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{Path(tmp_path_factory.mktemp('wait')) / 'kinlink.db'}")
    schema.upgrade(engine)
    yield engine
    engine.dispose()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_cases())
def test_postgresql_sql_and_python_give_the_same_days(pg: Engine, sqlite: Engine, case: Any) -> None:
    requests, answers, since, zone = case
    with pg.connect() as conn, conn.begin() as tx:
        conn.execute(text("SELECT set_config('TimeZone', :zone, true)"), {"zone": zone})
        _insert(conn, requests, answers)
        in_sql = conn.execute(_VIEW_AND_WAIT, {"request_id": 1, "since": since}).one().wait_days or []
        # Python on PostgreSQL's rows (timestamps given in the session's zone) ...
        in_python = first_answer_days(Session(bind=conn), since)
        tx.rollback()
    with sqlite.connect() as conn, conn.begin() as tx:
        _insert(conn, _in_utc(requests), _in_utc(answers))
        # ... and on SQLite's (naive, in UTC), as a status check there computes them.
        on_sqlite = first_answer_days(Session(bind=conn), since.astimezone(UTC))
        tx.rollback()
    assert sorted(in_sql) == sorted(in_python) == sorted(on_sqlite)
    assert all(type(d) is float for d in in_sql)
    assert _usual_wait(in_sql) == _usual_wait(in_python) == _usual_wait(on_sqlite)


def test_the_days_are_elapsed_time_across_a_clock_change(pg: Engine, sqlite: Engine) -> None:
    """Filed the day before Kyiv's clocks went forward (29 March 2026, 03:00 -> 04:00), answered two calendar
    days later at the same wall-clock time: 47 hours, not 48, on both databases and in every session zone."""
    kyiv = ZoneInfo("Europe/Kyiv")
    filed = datetime(2026, 3, 28, 12, 0, tzinfo=kyiv)
    requests = [_request_row(n, filed) for n in range(2, 2 + WAIT_SAMPLE_MIN)]
    decided = datetime(2026, 3, 30, 12, 0, tzinfo=kyiv)
    answers = [_answer_row(n, 0, "confirmed", decided) for n in range(2, 2 + WAIT_SAMPLE_MIN)]
    since = datetime(2026, 1, 1, tzinfo=UTC)
    for zone in ("Europe/Kyiv", "UTC"):
        with pg.connect() as conn, conn.begin() as tx:
            conn.execute(text("SELECT set_config('TimeZone', :zone, true)"), {"zone": zone})
            _insert(conn, requests, answers)
            in_sql = conn.execute(_VIEW_AND_WAIT, {"request_id": 1, "since": since}).one().wait_days
            in_python = first_answer_days(Session(bind=conn), since)
            tx.rollback()
        assert in_sql == in_python == [47 / 24] * WAIT_SAMPLE_MIN
    with sqlite.connect() as conn, conn.begin() as tx:
        _insert(conn, _in_utc(requests), _in_utc(answers))
        assert first_answer_days(Session(bind=conn), since) == [47 / 24] * WAIT_SAMPLE_MIN
        tx.rollback()


def test_answers_tied_at_the_sample_s_edge_are_chosen_the_same_way_everywhere(
    pg: Engine, sqlite: Engine
) -> None:
    """More confirmed answers than the sample holds, all decided at one instant: the latest requests' are
    read (the highest ids), on both databases and in both computations, whatever order they were written
    in, through the index of migration 0022 or without it (a plan that sorts the rows instead)."""
    filed, decided = START, START + timedelta(days=10)
    n = WAIT_SAMPLE_MAX + 40
    # Requests filed a day or more apart, so that which are read shows in the days; written shuffled.
    ids = sorted(range(2, 2 + n), key=lambda i: (i * 7919) % n)
    requests = [_request_row(i, filed + timedelta(days=i % 9)) for i in ids]
    answers = [_answer_row(i, 0, "confirmed", decided) for i in ids]
    latest = range(2 + n - WAIT_SAMPLE_MAX, 2 + n)
    want = sorted((decided - (filed + timedelta(days=i % 9))).total_seconds() / 86400 for i in latest)
    for unindexed in (False, True):
        with pg.connect() as conn, conn.begin() as tx:
            _insert(conn, requests, answers)
            if unindexed:
                conn.execute(text("DROP INDEX ix_match_candidates_decided"))
            in_sql = conn.execute(_VIEW_AND_WAIT, {"request_id": 1, "since": START}).one().wait_days
            in_python = first_answer_days(Session(bind=conn), START)
            tx.rollback()
        with sqlite.connect() as conn, conn.begin() as tx:
            _insert(conn, _in_utc(requests), _in_utc(answers))
            if unindexed:
                conn.execute(text("DROP INDEX ix_match_candidates_decided"))
            on_sqlite = first_answer_days(Session(bind=conn), START)
            tx.rollback()
        assert sorted(in_sql) == want, unindexed
        assert sorted(in_python) == want, unindexed
        assert sorted(on_sqlite) == want, unindexed
