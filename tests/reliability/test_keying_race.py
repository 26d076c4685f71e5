"""Records an import has committed are keyed by the import itself (`match_imported`) and, when a family's
request is matched meanwhile, by that request's matching too (`ensure_keys`: it keys what it finds unkeyed).
Whichever of the two keys them second finds the other's keys, and must take them rather than fail: on
PostgreSQL its insert waited for the first transaction, then met a duplicate key, and either a family's
request went unmatched or the import exited with an error (the soak's fault at a load average of 11)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from kinlink.store.db import session_factory, unit_of_work
from kinlink.store.match_keys import index_keys, missing_keys
from kinlink.store.match_records import person_records
from kinlink.store.tracing_models import MatchCandidate, MatchKey
from kinlink.tracing.continuous import match_imported, match_request
from tests.support import MATCHING, add_record, file_request

SOUGHT = {"full_name": "Пактышев Леонид Андреевич", "birth_date": "1993-04-02"}


def _unkeyed_record_and_request(engine: Engine) -> tuple[list[int], int]:
    """A record written as an import commits it (not keyed yet) and an open request seeking that person."""
    with unit_of_work(engine) as s:  # a database in use: its key table already holds keys
        add_record(s, "test", {"full_name": "Коваль Олег Петрович", "birth_date": "1961"}, match=True)
    with unit_of_work(engine) as s:
        pid = add_record(s, "test", {**SOUGHT, "status": "captured"}).id
        req, _secret = file_request(
            s, "test", {**SOUGHT, "enquirer_name": "Пактышева Ольга", "agree": True}, match=False
        )
        assert missing_keys(s) == [pid]
        return [pid], req.id


def _waits_for_a_lock(engine: Engine) -> bool:
    """Whether a session of this database is waiting for a lock another transaction holds."""
    if engine.dialect.name != "postgresql":
        return True  # SQLite: one writer at a time, the second waits (busy timeout) and cannot collide
    with engine.connect() as c:
        return bool(
            c.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            )
        )


def _second_while_first_uncommitted(
    engine: Engine, first: Callable[[Session], Any], second: Callable[[], Any]
) -> Any:
    """`first` writes in a transaction left open; `second` runs in another thread meanwhile, and once it waits
    for the first's locks, the first commits. Returns what `second` returned (raises what it raised)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = second()
        except BaseException as e:  # re-raised in the test's thread
            outcome["error"] = e

    held = session_factory(engine)()
    try:
        first(held)
        held.flush()
        worker = threading.Thread(target=run)
        worker.start()
        deadline = time.monotonic() + 60
        while not _waits_for_a_lock(engine) and worker.is_alive():
            assert time.monotonic() < deadline, "the second writer never waited for the first"
            time.sleep(0.05)
        held.commit()
    finally:
        held.close()
    worker.join(120)
    assert not worker.is_alive()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _keys_of(engine: Engine, pid: int) -> int:
    with Session(engine) as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(MatchKey)
                .where(MatchKey.entity == "p", MatchKey.entity_id == pid)
            )
            or 0
        )


def test_a_request_matched_while_an_import_keys_its_records_is_matched(engine: Engine) -> None:
    pids, rid = _unkeyed_record_and_request(engine)

    def import_keys(s: Session) -> None:  # what match_imported writes, its transaction still open
        index_keys(s, list(person_records(s, pids)), entity="p")

    def match() -> int:
        with unit_of_work(engine) as s:
            return match_request(s, "test", rid, model=MATCHING.model).created

    assert _second_while_first_uncommitted(engine, import_keys, match) == 1
    with Session(engine) as s:
        assert (
            s.scalars(select(MatchCandidate.person_id).where(MatchCandidate.request_id == rid)).all() == pids
        )
    assert _keys_of(engine, pids[0]) > 0


def test_an_import_keying_records_a_request_keyed_meanwhile_finishes(engine: Engine) -> None:
    pids, rid = _unkeyed_record_and_request(engine)
    keyed = {}

    def request_matched(
        s: Session,
    ) -> None:  # a request's matching keys the unkeyed record, not committed yet
        match_request(s, "test", rid, model=MATCHING.model)
        keyed["n"] = s.scalar(
            select(func.count())
            .select_from(MatchKey)
            .where(MatchKey.entity == "p", MatchKey.entity_id == pids[0])
        )

    def import_keys() -> int:
        return match_imported(engine, "test", pids, MATCHING)

    assert _second_while_first_uncommitted(engine, request_matched, import_keys) == 1  # the request matched
    assert _keys_of(engine, pids[0]) == keyed["n"] > 0  # the keys once, as either would write them
