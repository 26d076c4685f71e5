"""Issue 19: the audit log is several keyed chains, so that concurrent audited requests on PostgreSQL do not
wait for each other's commits on one head row; every chain verifies, tampering in any is found, anchors
cover them all, and a database with a chain written before there were chains migrates and verifies."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import JSON, DateTime, Engine, String, column, delete, func, select, table, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from kinlink.store import audit, schema
from kinlink.store.db import make_engine, unit_of_work
from kinlink.store.models import AuditEntry, AuditHead, utcnow
from tests.conftest import PG_ADMIN_URL, _pg_admin
from tests.support import Cli


def _no_waiting(s: Session) -> None:
    """Make this transaction fail instead of waiting for a lock: a wait is then an error, not a hang."""
    s.execute(text("SET LOCAL lock_timeout = '2s'"))


def _in_thread(work: Callable[[], None]) -> tuple[threading.Thread, list[BaseException | None]]:
    """`work` started in a thread of its own; its outcome (None, or what it raised) lands in the list."""
    done: list[BaseException | None] = []

    def run() -> None:
        try:
            work()
            done.append(None)
        except BaseException as e:  # reported to the test's thread
            done.append(e)

    t = threading.Thread(target=run)
    t.start()
    return t, done


def _chain_of_last(s: Session) -> int:
    return s.scalar(select(AuditEntry.chain).order_by(AuditEntry.id.desc()).limit(1))  # type: ignore[return-value]


def _fill(engine: Engine, chains: int, rounds: int) -> None:
    """`rounds` times, `chains` transactions each with a read audited, all open at once: one a chain."""
    for r in range(rounds):
        with ExitStack() as stack:
            sessions = [stack.enter_context(Session(engine)) for _ in range(chains)]
            for i, s in enumerate(sessions):
                _no_waiting(s)
                audit.record_read(s, f"user{i}", "person", [r, i], "search", {"round": r})
            for s in sessions:
                s.commit()


def test_concurrent_audited_reads_do_not_wait_for_each_other(pg: Engine) -> None:
    with Session(pg) as a, Session(pg) as b:
        audit.record_read(a, "a", "person", [1], "search")  # a holds its head until it commits
        _no_waiting(b)
        audit.record_read(b, "b", "person", [2], "search")  # and b goes on: another head
        assert {_chain_of_last(a), _chain_of_last(b)} == {1, 2}
        b.commit()
        audit.record_read(a, "a", "person", [3], "search")  # a second entry: a's own chain again
        a.commit()
    with Session(pg) as s:
        assert audit.verify(s) == []
        assert [(e.actor, e.chain) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))] == [
            ("a", 1),
            ("b", 2),
            ("a", 1),
        ]
        assert audit.entry_count(s) == 3
        assert {c: n for c, (n, _) in audit.heads(s).items() if n} == {1: 2, 2: 1}


def test_unhurried_entries_stay_on_the_first_chain(engine: Engine) -> None:
    for i in range(3):
        with unit_of_work(engine) as s:
            audit.record_read(s, "a", "person", [i], "search")
            audit.record(s, "a", "update", "person", i, {"x": i})
    with Session(engine) as s:
        assert set(s.scalars(select(AuditEntry.chain))) == {1}
        assert audit.verify(s) == []
        anchor = audit.format_anchor(audit.heads(s))
        assert "," not in anchor and anchor.startswith("6:")  # the anchor as before there were chains


def test_lock_still_serialises_the_writers_that_take_it(pg: Engine) -> None:
    with Session(pg) as writer, Session(pg) as other, Session(pg) as reader:
        log = audit.AuditLog(writer, "writer")
        log.lock()
        _no_waiting(other)
        with pytest.raises(OperationalError, match="lock timeout"):
            audit.AuditLog(other, "other").lock()
        other.rollback()
        _no_waiting(reader)
        audit.record_read(reader, "reader", "person", [1], "search")  # a read is not held up
        reader.commit()
        log.add("update", "person", 1, {"x": 1})
        log.flush()
        writer.commit()
    with Session(pg) as s:
        assert audit.verify(s) == []


def test_a_transaction_on_another_chain_can_wait_for_the_writers_lock(pg: Engine) -> None:
    """b holds chain 2 and waits for chain 1's lock, which a holds; a appending more (on its own chain 1)
    never waits for b: no deadlock."""
    with Session(pg) as a, Session(pg) as b:
        log_a = audit.AuditLog(a, "a")
        log_a.lock()
        audit.record_read(b, "b", "person", [1], "search")
        assert _chain_of_last(b) == 2

        def b_locks() -> None:
            log_b = audit.AuditLog(b, "b")
            log_b.lock()
            log_b.add("update", "person", 2, None)
            log_b.flush()
            b.commit()

        t, done = _in_thread(b_locks)
        t.join(0.5)
        assert t.is_alive()  # b waits for a's chain 1
        _no_waiting(a)
        log_a.add("update", "person", 1, None)
        log_a.flush()
        audit.record_read(a, "a", "person", [1], "search")
        a.commit()
        t.join(10)
        assert done == [None]
    with Session(pg) as s:
        assert audit.verify(s) == []
        chains = [(e.actor, e.action, e.chain) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert chains == [
            ("b", "read", 2),
            ("a", "update", 1),
            ("a", "read", 1),
            ("b", "update", 1),
        ]


def test_lock_after_entries_on_another_chain_writes_them_there_first(pg: Engine) -> None:
    with Session(pg) as holder, Session(pg) as b:
        audit.AuditLog(holder, "holder").lock()
        log = audit.AuditLog(b, "b")
        log.add("read", "person", 1, None)  # chain 1 is held: chain 2

        def b_locks() -> None:
            log.lock()  # writes the entry on chain 2, then waits for chain 1
            log.add("update", "person", 1, None)
            log.flush()
            b.commit()

        t, done = _in_thread(b_locks)
        t.join(0.5)
        assert t.is_alive()
        holder.commit()
        t.join(10)
        assert done == [None]
    with Session(pg) as s:
        assert audit.verify(s) == []
        assert [(e.action, e.chain) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))] == [
            ("read", 2),
            ("update", 1),
        ]


def test_with_every_head_taken_a_transaction_waits(pg: Engine) -> None:
    with ExitStack() as stack:
        holders = [stack.enter_context(Session(pg)) for _ in range(audit.CHAINS)]
        for i, s in enumerate(holders):
            audit.record_read(s, f"u{i}", "person", [i], "search")
        with Session(pg) as late:
            _no_waiting(late)
            with pytest.raises(OperationalError, match="lock timeout"):
                audit.record_read(late, "late", "person", [0], "search")
        for s in holders:
            s.commit()
    with unit_of_work(pg) as s:
        audit.record_read(s, "late", "person", [0], "search")
    with Session(pg) as s:
        assert audit.verify(s) == []
        assert audit.entry_count(s) == audit.CHAINS + 1


def _entries(s: Session, chain: int) -> list[AuditEntry]:
    return list(s.scalars(select(AuditEntry).where(AuditEntry.chain == chain).order_by(AuditEntry.id)))


@pytest.fixture
def chains(pg: Engine) -> Engine:
    """Three chains of four entries each."""
    _fill(pg, chains=3, rounds=4)
    with Session(pg) as s:
        assert audit.verify(s) == []
        assert {c: n for c, (n, _) in audit.heads(s).items() if n} == {1: 4, 2: 4, 3: 4}
    return pg


def _problems(engine: Engine, anchor: str | None = None) -> list[str]:
    with Session(engine) as s:
        return audit.verify(s, anchor)


def test_an_edited_entry_of_another_chain_is_found(chains: Engine) -> None:
    with Session(chains) as s, s.begin():
        target = _entries(s, 2)[1].id
        s.execute(update(AuditEntry).where(AuditEntry.id == target).values(actor="someone else"))
    assert _problems(chains) == [
        f"entry {target} (chain 2): content does not match its hash (edited, or not this key?)"
    ]


def test_a_deleted_entry_of_another_chain_is_found(chains: Engine) -> None:
    with Session(chains) as s, s.begin():
        after = _entries(s, 3)[2].id
        s.execute(delete(AuditEntry).where(AuditEntry.id == _entries(s, 3)[1].id))
    problems = _problems(chains)
    assert f"entry {after} (chain 3): previous hash does not match entry before it (deleted?)" in problems
    assert any(p.startswith("chain 3's head says 4 entries") for p in problems)


def test_reordered_entries_of_a_chain_are_found(chains: Engine) -> None:
    with Session(chains) as s, s.begin():
        first, second = (e.id for e in _entries(s, 2)[:2])
        s.execute(update(AuditEntry).where(AuditEntry.id == first).values(id=-1))
        s.execute(update(AuditEntry).where(AuditEntry.id == second).values(id=first))
        s.execute(update(AuditEntry).where(AuditEntry.id == -1).values(id=second))
    assert any("(chain 2): previous hash does not match" in p for p in _problems(chains))


def test_an_entry_moved_to_another_chain_is_found(chains: Engine) -> None:
    """Moved whole, with the tails of both chains and their heads made to agree: its hash names its
    chain."""
    with Session(chains) as s, s.begin():
        last3 = _entries(s, 3)[-1]
        moved, prev, mac = last3.id, last3.prev_hash, last3.hash
        s.execute(update(AuditEntry).where(AuditEntry.id == moved).values(chain=4, prev_hash=None))
        s.execute(update(AuditHead).where(AuditHead.id == 3).values(entries=3, hash=prev))
        s.execute(update(AuditHead).where(AuditHead.id == 4).values(entries=1, hash=mac))
    assert _problems(chains) == [
        f"entry {moved} (chain 4): content does not match its hash (edited, or not this key?)"
    ]


def test_chains_relabelled_are_found(chains: Engine) -> None:
    """Chain 2's entries and head relabelled chain 5: each entry's hash names its chain."""
    with Session(chains) as s, s.begin():
        head = s.execute(select(AuditHead.hash, AuditHead.entries).where(AuditHead.id == 2)).one()
        s.execute(update(AuditEntry).where(AuditEntry.chain == 2).values(chain=5))
        s.execute(update(AuditHead).where(AuditHead.id == 5).values(hash=head.hash, entries=head.entries))
        s.execute(update(AuditHead).where(AuditHead.id == 2).values(hash=None, entries=0))
    problems = _problems(chains)
    assert len(problems) == 4 and all("(chain 5): content does not match" in p for p in problems)


def test_a_removed_head_is_found(chains: Engine) -> None:
    with Session(chains) as s, s.begin():
        s.execute(delete(AuditHead).where(AuditHead.id == 2))
    assert _problems(chains) == ["chain 2 has 4 entries but no head (its head removed?)"]


def test_the_anchor_covers_every_chain(chains: Engine) -> None:
    cli = Cli(chains.url.render_as_string(hide_password=False))
    anchor = cli("audit", "anchor").output.strip()
    parsed = audit.parse_anchor(anchor)
    assert {c: n for c, (n, _) in parsed.items()} == {1: 4, 2: 4, 3: 4}
    assert anchor.startswith("4:") and ",2=4:" in anchor and ",3=4:" in anchor
    _fill(chains, chains=2, rounds=1)  # the chains grow past the anchor: still fine
    assert "holds the anchored head" in cli("audit", "verify", "--anchor", anchor).output
    # Someone with the key drops chain 3's last entry and fixes its head: the chain verifies, not the
    # anchor.
    with Session(chains, expire_on_commit=False) as s, s.begin():
        last = _entries(s, 3)[-1]
        s.execute(delete(AuditEntry).where(AuditEntry.id == last.id))
        s.execute(update(AuditHead).where(AuditHead.id == 3).values(entries=3, hash=last.prev_hash))
    assert cli("audit", "verify").exit_code == 0
    result = cli("audit", "verify", "--anchor", anchor, ok=False)
    assert result.exit_code == 1
    assert "chain 3 has 3 entries, fewer than the anchor's 4 (entries removed)" in result.output
    # An anchor of chain 1 alone (as printed before there were chains) still checks chain 1.
    assert "holds the anchored head" in cli("audit", "verify", "--anchor", anchor.split(",")[0]).output


def test_anchors_that_are_not_anchors_are_refused() -> None:
    h = "a" * 64
    assert audit.parse_anchor(f"3:{h}") == {1: (3, h)}
    assert audit.parse_anchor(f"3:{h},2=5:{h.upper()}") == {1: (3, h), 2: (5, h)}
    assert audit.parse_anchor("0:") == {1: (0, "")}
    for bad in ("nonsense", f"1={h}", f"2=3:{h}", f"3:{h},3:{h}", f"3:{h},x=1:{h}", f"3:{h},2=1:{h},2=1:{h}"):
        with pytest.raises(ValueError):
            audit.parse_anchor(bad)


# The migration: a database whose chain was written before there were chains.


@pytest.fixture(params=["sqlite", "postgresql"])
def old_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A new database migrated to 0018 only, the revision before the chains."""
    if request.param not in os.environ.get("KINLINK_TEST_BACKENDS", "sqlite,postgresql").split(","):
        pytest.skip(f"{request.param} not tested")
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    name = f"kinlink_test_chains_{os.getpid()}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"')
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


OLD_LOG = table(  # audit_log as it was at 0018
    "audit_log",
    *(
        column(c, String)
        for c in ("actor", "action", "entity", "entity_id", "credential", "prev_hash", "hash")
    ),
    column("at", DateTime(timezone=True)),
    column("changes", JSON),
)


def test_a_chain_written_before_the_chains_migrates_and_verifies(old_engine: Engine) -> None:
    schema.upgrade(old_engine, "0018")
    prev, n = None, 0
    with old_engine.begin() as conn:  # entries as kinlink wrote them at 0018: one chain, no chain column
        for i in range(5):
            at = utcnow()
            credential = "token:3" if i % 2 else None
            changes = {"view": "search", "ids": [i]}
            h = audit.entry_hash(prev, at, "old", "read", "person", None, changes, credential)
            conn.execute(
                OLD_LOG.insert().values(
                    at=at, actor="old", action="read", entity="person", entity_id=None, changes=changes,
                    credential=credential, prev_hash=prev, hash=h,
                )
            )  # fmt: skip
            prev, n = h, n + 1
        conn.execute(text("UPDATE audit_head SET hash = :h, entries = :n WHERE id = 1"), {"h": prev, "n": n})
    old_anchor = f"{n}:{prev}"
    schema.upgrade(old_engine)
    with Session(old_engine) as s:
        assert audit.verify(s) == []
        assert audit.verify(s, old_anchor) == []  # an anchor kept before the upgrade
        assert set(s.scalars(select(AuditEntry.chain))) == {1}
        assert sorted(audit.heads(s)) == list(range(1, audit.CHAINS + 1))
    if old_engine.dialect.name == "postgresql":
        _fill(old_engine, chains=3, rounds=2)
        expected = {1: n + 2, 2: 2, 3: 2}
    else:
        for i in range(2):
            with unit_of_work(old_engine) as s:
                audit.record_read(s, "new", "person", [i], "search")
        expected = {1: n + 2}
    with Session(old_engine) as s:
        assert audit.verify(s) == []
        assert audit.verify(s, old_anchor) == []
        assert {c: k for c, (k, _) in audit.heads(s).items() if k} == expected
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == sum(expected.values())
