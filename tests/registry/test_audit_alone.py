"""Issue 19: a read audited outside any transaction (a search in a reading unit, on PostgreSQL) writes its
entry in one statement of its own, compare-and-set on its chain's head: on chain 1 when unhurried, never on
a head a transaction holds, each chain still one line that verifies, whatever other processes and threads
append meanwhile."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import Engine, event, func, select, text

from kinlink.store import audit
from kinlink.store.db import make_engine, outside_transaction, reading_unit, unit_of_work
from kinlink.store.models import AuditEntry, Source
from tests.registry.test_audit_chains import _in_thread


def _chains(engine: Engine) -> dict[int, int]:
    with unit_of_work(engine) as s:
        rows = s.execute(select(AuditEntry.chain, func.count()).group_by(AuditEntry.chain))
        return {chain: n for chain, n in rows}


def _read(engine: Engine, actor: str, ids: list[int]) -> None:
    with reading_unit(engine) as s:
        assert s.execute(text("SELECT 1")).scalar_one() == 1
        audit.record_read(s, actor, "person", ids, "search", {"q": actor})
        assert outside_transaction(s.connection())  # the entry was a transaction of its own


def test_an_entry_alone_goes_on_the_first_chain_and_verifies(pg: Engine) -> None:
    for i in range(5):
        _read(pg, f"user{i}", [i])
    with unit_of_work(pg) as s:
        assert audit.verify(s) == []
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        assert (entry.actor, entry.action, entry.entity, entry.chain) == ("user4", "read", "person", 1)
        assert entry.changes == {"view": "search", "filter": {"q": "user4"}, "count": 1, "ids": [4]}
    assert _chains(pg) == {1: 5}


def test_a_head_another_process_moved_is_read_again(pg: Engine) -> None:
    """Another engine (another process) appends to chain 1 between this one's entries: the head this one
    saw last is stale, the compare fails, the head is read again and the entry still goes on chain 1."""
    other = make_engine(pg.url.render_as_string(hide_password=False))
    try:
        for i in range(4):
            _read(pg, "here", [i])
            _read(other, "there", [i])
            with unit_of_work(other) as s:  # and a transaction's entry, as a write's
                audit.record(s, "writer", "update", "person", i)
    finally:
        other.dispose()
    with unit_of_work(pg) as s:
        assert audit.verify(s) == []
    assert _chains(pg) == {1: 12}


def test_a_stale_compare_locks_nothing_and_gives_the_head_back(pg: Engine) -> None:
    """Under concurrency most heads a process saw are stale (another worker process moved them): the failed
    compare neither locks the head row (a lock makes its statement a transaction with an id, whose commit
    waits for a WAL flush) nor needs a read of its own (it gives the head back), so a stale head costs one
    statement more, not three (issue 19)."""
    other = make_engine(pg.url.render_as_string(hide_password=False))
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "audit_head" in statement:
            statements.append(statement)

    try:
        _read(pg, "here", [0])  # this engine has seen chain 1's head ...
        _read(other, "there", [0])  # ... which another then moves
        event.listen(pg, "before_cursor_execute", count)
        try:
            _read(pg, "here", [1])
        finally:
            event.remove(pg, "before_cursor_execute", count)
        assert len(statements) == 2  # the stale compare, then the one after the head it gave back
        # A stale compare alone, in autocommit as a reading unit sends it: the head row is left as it was.
        with pg.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            xmax = conn.execute(text("SELECT xmax FROM audit_head WHERE id = 1")).scalar_one()
            head = conn.execute(text("SELECT hash, entries FROM audit_head WHERE id = 1")).one()
            stale = conn.execute(
                audit._APPEND_IF_MOVED,
                {
                    **dict(
                        zip(
                            audit._PENDING,
                            audit._new_entry("x", "a", "read", "person", 1, None, 1),
                            strict=True,
                        )
                    ),
                    "entries_before": head.entries - 1,
                    "new_hash": "y",
                    "new_entries": head.entries,
                },
            ).one()
            assert (stale.appended, stale.hash, stale.entries) == (None, head.hash, head.entries)
            assert conn.execute(text("SELECT xmax FROM audit_head WHERE id = 1")).scalar_one() == xmax
    finally:
        other.dispose()
    with unit_of_work(pg) as s:
        assert audit.verify(s) == []
    assert _chains(pg) == {1: 3}


def test_an_entry_alone_skips_a_head_a_transaction_holds(pg: Engine) -> None:
    """A writer holds chain 1 (the writers' mutex) in an open transaction: reads meanwhile go on another
    chain without waiting for it; the writer's entries then follow on chain 1."""
    with unit_of_work(pg) as s:
        audit.record(s, "before", "update", "person", 0)
    held = threading.Event()
    release = threading.Event()

    def writer() -> None:
        with unit_of_work(pg) as s:
            log = audit.AuditLog(s, "writer")
            log.lock()
            held.set()
            assert release.wait(60)
            log.add("update", "person", 1)
            log.flush()

    t, done = _in_thread(writer)
    assert held.wait(60)
    try:
        for i in range(3):
            _read(pg, "reader", [i])
    finally:
        release.set()
        t.join(60)
    assert done == [None]
    assert _chains(pg) == {1: 2, 2: 3}
    with unit_of_work(pg) as s:
        assert audit.verify(s) == []


def test_concurrent_entries_alone_keep_every_chain_whole(pg: Engine) -> None:
    """Threads of this process and of another engine append at once: every entry is written, on some
    chain, and every chain verifies."""
    other = make_engine(pg.url.render_as_string(hide_password=False))
    try:

        def reads(engine: Engine, who: str) -> None:
            for i in range(15):
                _read(engine, who, [i])

        started = [_in_thread(lambda e=e, w=w: reads(e, w)) for e in (pg, other) for w in ("a", "b", "c")]
        for t, _ in started:
            t.join(120)
        assert [done for _, done in started] == [[None]] * 6
    finally:
        other.dispose()
    assert sum(_chains(pg).values()) == 90
    with unit_of_work(pg) as s:
        assert audit.verify(s) == []


def test_an_entry_after_a_write_in_a_reading_unit_joins_its_transaction(engine: Engine) -> None:
    """Once a reading unit has written, its entries are written in its transaction: rolled back with it."""
    with unit_of_work(engine) as s:
        before = audit.entry_count(s)
    try:
        with reading_unit(engine) as s:
            s.add(Source(name="undone", kind="registry"))
            s.flush()
            audit.record_read(s, "reader", "person", [1], "search")
            raise RuntimeError("undo")
    except RuntimeError:
        pass
    with unit_of_work(engine) as s:
        assert audit.entry_count(s) == before and audit.verify(s) == []
        assert s.scalar(select(func.count()).select_from(Source).where(Source.name == "undone")) == 0


def _sent(engine: Engine) -> list[str]:
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    return statements


def test_a_read_entry_alone_does_not_wait_for_its_wal_flush_and_nothing_else_is_changed(
    pg: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read's entry written alone commits with synchronous_commit off for its own transaction only
    (`READ_ENTRIES_WAIT_FOR_WAL_FLUSH`): the connection goes back to the pool with the operator's setting,
    so a data write on it next still waits for its flush; an entry alone that is not a read's (a backup's)
    waits as every write does, and so does a read's when the setting says so. The chain verifies."""
    sent = _sent(pg)

    def flushes_waited() -> list[bool]:
        return ["set_config" not in s for s in sent if "audit_head" in s and "INSERT INTO audit_log" in s]

    with reading_unit(pg) as s:
        audit.record_read(s, "reader", "person", [1], "search", {"q": "x"})
        assert outside_transaction(s.connection())
        assert s.execute(text("SHOW synchronous_commit")).scalar_one() == "on"  # local to the entry's
    with reading_unit(pg) as s:
        audit.record(s, "admin", "backup", "database", None, {"file": "b"})
    assert flushes_waited() == [False, True]
    with unit_of_work(pg) as s:  # every pooled connection still has the setting: a write waits for its flush
        assert s.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
        s.add(Source(name="after reads", kind="registry"))
    monkeypatch.setattr(audit, "READ_ENTRIES_WAIT_FOR_WAL_FLUSH", True)
    _read(pg, "reader", [2])
    assert flushes_waited() == [False, True, True]
    with unit_of_work(pg) as s:
        assert audit.verify(s) == []
    assert _chains(pg) == {1: 3}


def test_the_operator_makes_read_entries_wait_for_the_disk() -> None:
    """`KINLINK_READ_AUDIT_WAITS_FOR_DISK=1` sets `READ_ENTRIES_WAIT_FOR_WAL_FLUSH`, read as the module
    loads (so in a process of its own)."""
    import subprocess
    import sys

    def setting(value: str | None) -> str:
        env = {k: v for k, v in os.environ.items() if k != "KINLINK_READ_AUDIT_WAITS_FOR_DISK"}
        if value is not None:
            env["KINLINK_READ_AUDIT_WAITS_FOR_DISK"] = value
        code = "from kinlink.store import audit; print(audit.READ_ENTRIES_WAIT_FOR_WAL_FLUSH)"
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert setting(None) == "False"
    assert setting("1") == "True"
