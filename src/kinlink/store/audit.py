"""The audit log: every write says who did what and when, in an append-only, hash-chained table.

The chain is keyed: each entry's hash is an HMAC-SHA-256, under the server key "audit"
(`kinlink.keys.server_key`: KINLINK_AUDIT_KEY or a 0600 key file, never in the database), of the entry and
the hash before it. A copy of the database alone therefore cannot delete or edit entries and recompute a
chain that verifies; and a head kept elsewhere (`kinlink audit anchor`, checked by `verify --anchor`)
proves nothing before it changed even to someone who holds the key.

The transition from the older, unkeyed chain (plain SHA-256 of the same body): migration 0008 appends one
keyed "rekey" entry after the last unkeyed one, naming how many there were and the head they ended on.
Verification accepts unkeyed entries only before the first keyed entry, and only when that first keyed
entry is such a rekey entry: its HMAC covers the unkeyed head, so the old part cannot be rewritten either,
and unkeyed entries appended later, or a chain rewritten whole in the unkeyed form, fail. A database
created by this kinlink is keyed from its first entry.

Several chains (issue 19). A transaction holds the head it appends to until it commits, and a PostgreSQL
commit waits for its WAL flush: with one head, every audited request (each search and status check is
one) waited for the one before it to commit, a few milliseconds each, and the server did at most a few
hundred audited requests a second however many cores it had (bench/web/pg_waits.py: two thirds of the
backends' time was spent waiting for the head row). So there are several heads (audit_head rows, seeded
by migration 0020), each the head of a chain of its own, exactly as the one chain was:

- An entry records its chain (audit_log.chain) and its HMAC covers the chain's number (entries of chain 1,
  the original one, hash as they always did, so a database's existing chain is chain 1 unchanged): an
  entry cannot be moved to another chain, and each chain links its entries from its first (prev_hash) as
  the one chain did. Deleting, editing, inserting or reordering any entry breaks its chain's links or
  hashes, as before; `verify` walks every chain and checks every head.
- A transaction appends to the first head no other transaction holds (`FOR UPDATE SKIP LOCKED`, in
  order): unhurried, everything goes on chain 1 as before; under load, concurrent requests each take a
  free head and commit in parallel. A row a transaction locked itself is not skipped, so one that holds
  a head never waits for another; only one that holds none waits, when every head is taken. On SQLite
  (one writer at a time whatever the heads) everything stays on chain 1.
- `AuditLog.lock()` is also the writers' mutex (imports, decisions, erasure read what they change after
  it): it takes chain 1, waiting for it, so those writers are serialised as ever. The transaction that
  holds chain 1 never waits for another head, so no two transactions can wait for each other's heads.
- The anchor (`kinlink audit anchor`) records every non-empty chain's head: COUNT:HASH of chain 1 as
  before, then ,N=COUNT:HASH for each other chain; an anchor printed before the chains existed is chain
  1's and still checks. As with one chain, removing a chain's last entries and setting its head back,
  or a whole chain with its head, is found only against an anchor. Entries keep their keyed time: the
  order of entries of different chains is that of their times, not of a hash link.

Why not one chaining writer that batches entries? The entry would have to be chained after its
transaction commits (a window in which an entry can be changed unseen) or handed to a process outside the
transaction (an audited write committed without its entry, or an entry without its write, on a crash).
Several chains keep each entry hashed and linked in the transaction of what it audits.

A read audited outside any transaction (a search in a reading unit, `kinlink.store.db.reading_unit`, on
PostgreSQL) has nothing to be atomic with but its entry: the entry is written as a transaction of its own, in
one statement that moves a chain's head from the head the entry was hashed after to the entry only if it is
still that head and no transaction holds it (`_append_alone`), and commits, its WAL flushed, before the read
is answered. Its chain is chosen as above (chain 1 unhurried, a head held elsewhere skipped), so every chain
stays one line of links.

The entry's hash is kinlink.store.audit_hash's, the walk that checks the chains kinlink.store.audit_verify's
(both named here too, as they always were).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import bindparam, func, insert, literal, select, update
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.orm import Session

from kinlink.actor import Actor as Actor
from kinlink.environment import env_bool
from kinlink.keys import server_key
from kinlink.store import bulk
from kinlink.store.audit_alike import alike_entries
from kinlink.store.audit_hash import CHAINS as CHAINS
from kinlink.store.audit_hash import MAIN_CHAIN as MAIN_CHAIN
from kinlink.store.audit_hash import REKEY_ACTION as REKEY_ACTION
from kinlink.store.audit_hash import REKEY_ENTITY as REKEY_ENTITY
from kinlink.store.audit_hash import canonical_time as canonical_time
from kinlink.store.audit_hash import entry_hash as entry_hash
from kinlink.store.audit_hash import legacy_entry_hash as legacy_entry_hash
from kinlink.store.audit_verify import entry_count as entry_count
from kinlink.store.audit_verify import format_anchor as format_anchor
from kinlink.store.audit_verify import heads as heads
from kinlink.store.audit_verify import parse_anchor as parse_anchor
from kinlink.store.audit_verify import verify as verify
from kinlink.store.db import ALONE, outside_transaction
from kinlink.store.driver import DriverWrite
from kinlink.store.models import AuditEntry as AuditEntry
from kinlink.store.models import AuditHead, utcnow

# Built once, run on the session's plain connection: every write and every read of personal data appends
# here, and building and ORM-executing these statements cost more than running them (a search's audit
# entry took 2.5 ms that way).
_HEAD_TABLE = AuditHead.__table__
_HEAD_COLUMNS = (_HEAD_TABLE.c.id, _HEAD_TABLE.c.hash, _HEAD_TABLE.c.entries)
_HEAD = select(*_HEAD_COLUMNS).where(_HEAD_TABLE.c.id == bindparam("chain"))
_HEAD_FOR_UPDATE = _HEAD.with_for_update()
# The first head no other transaction holds (or one this transaction holds already: PostgreSQL does not
# skip a row locked by the transaction itself), locked; none when every head is taken.
_FREE_HEAD = select(*_HEAD_COLUMNS).order_by(_HEAD_TABLE.c.id).limit(1).with_for_update(skip_locked=True)
_CHAIN_IDS = select(_HEAD_TABLE.c.id)
# SQLite: chain 1's head written (for the write lock) and read back in one statement (issue 19).
_TOUCH_HEAD = (
    update(_HEAD_TABLE)
    .where(_HEAD_TABLE.c.id == MAIN_CHAIN)
    .values(entries=_HEAD_TABLE.c.entries)
    .returning(*_HEAD_COLUMNS)
)
_SET_HEAD = (
    update(_HEAD_TABLE)
    .where(_HEAD_TABLE.c.id == bindparam("chain"))
    .values(hash=bindparam("new_hash"), entries=bindparam("new_entries"))
)
_LOG = AuditEntry.__table__
_APPEND = insert(_LOG)
_ENTRY = [c.name for c in _LOG.c if c.name != "id"]
# SQLite: the same three statements (chain 1's head taken, the entries, the head set) run by the driver, as
# every search's entry is written (kinlink.store.driver, issue 19).
_TOUCH_HEAD_BY_DRIVER = DriverWrite(_TOUCH_HEAD, _HEAD_COLUMNS)
_APPEND_BY_DRIVER = DriverWrite(insert(_LOG).values({c: bindparam(c, type_=_LOG.c[c].type) for c in _ENTRY}))
_SET_HEAD_BY_DRIVER = DriverWrite(_SET_HEAD)
# PostgreSQL: one entry and its chain's new head in one statement (a data-modifying WITH runs whether or not
# the UPDATE reads it), one round trip fewer for every audited request: a search, a disclosure (issue 19).
# The entry's chain is the head's id, hence the one "chain" parameter.
_APPEND_ONE_AND_SET_HEAD = _SET_HEAD.add_cte(
    insert(_LOG).values({c: bindparam(c) for c in _ENTRY}).cte("appended")
)
# PostgreSQL, an entry written alone outside any transaction (a reading unit's read: a search, issue 19): the
# chain's head moves from the head the entry was hashed after to the entry, and the entry is inserted, only if
# no transaction holds that head and it is still that head (a compare-and-set), in one statement that is its
# own transaction (committed, its WAL flushed, before it returns): where taking the head, BEGIN, the entry
# and COMMIT were four round trips. The head is locked (FOR UPDATE, skipping it when held) before it is
# moved, and the entry's id drawn after, as in a transaction that takes the head: each chain's entries
# follow one another in id order as before. The lock is taken only on a head that compares equal: under
# concurrency most heads a process saw are stale (another worker process moved them), and a row locked
# gives the statement a transaction id, whose commit waits for a WAL flush although nothing was written.
# The statement returns the chain's head as it was committed when it began: after a stale compare, the head
# to hash after next, with no read of its own.
_HEAD_IS = (
    _HEAD_TABLE.c.id == bindparam("chain"),
    _HEAD_TABLE.c.entries == bindparam("entries_before"),
    _HEAD_TABLE.c.hash.is_not_distinct_from(bindparam("prev_hash")),
)
_UNHELD = select(_HEAD_TABLE.c.id).where(*_HEAD_IS).with_for_update(skip_locked=True).scalar_subquery()
_MOVED = (
    update(_HEAD_TABLE)
    .where(_HEAD_TABLE.c.id == _UNHELD, *_HEAD_IS[1:])
    .values(hash=bindparam("new_hash"), entries=bindparam("new_entries"))
    .returning(_HEAD_TABLE.c.id)
    .cte("moved")
)
_APPENDED = (
    insert(_LOG)
    .from_select(_ENTRY, select(*(bindparam(c, type_=_LOG.c[c].type) for c in _ENTRY)).select_from(_MOVED))
    .returning(_LOG.c.id)
    .cte("appended")
)
_APPEND_IF_MOVED = (
    select(select(_APPENDED.c.id).scalar_subquery().label("appended"), *_HEAD_COLUMNS[1:])
    .where(_HEAD_TABLE.c.id == bindparam("chain"))
    .execution_options(**ALONE)
)
# Whether a read's audit entry written alone (a search's, a list's: `record_read` outside any transaction,
# which writes nothing else) waits for its WAL flush before the read is answered. PostgreSQL only; SQLite
# (WAL, synchronous=NORMAL) never syncs at a commit. With False the entry's statement sets
# synchronous_commit off for its own transaction (set_config(..., true): local to it, read by PostgreSQL when
# it commits), so it commits without waiting for the disk. The trade-off: a crash of the database server
# (not of kinlink) can lose the read entries of the last moments before it (up to 3 × wal_writer_delay,
# 0.6 s by default); the chains stay consistent, as PostgreSQL replays the WAL in order and an entry and its
# head move in one transaction: what is lost is the tail of a chain, entry and head together, and `verify`
# passes. Data writes and their entries, and every entry that is not a read's, keep synchronous_commit as the
# operator set it. Issue 19: with each search's commit waiting for its own WAL flush (~6 ms a sync here, a
# flush at a time), the flushes were the commonest wait of the database's active backends under the web
# bench (docs/web-cpu.md, "The PostgreSQL stalls"). An operator who wants every read's entry on disk before
# the read is answered sets KINLINK_READ_AUDIT_WAITS_FOR_DISK=1.
READ_ENTRIES_WAIT_FOR_WAL_FLUSH = env_bool("KINLINK_READ_AUDIT_WAITS_FOR_DISK", False)
_APPEND_READ_IF_MOVED = _APPEND_IF_MOVED.add_columns(
    func.set_config(literal("synchronous_commit"), literal("off"), literal(True)).label("async")
)
# The heads this process last saw or wrote, by engine and chain (what it tries first; a stale one fails the
# compare, which gives it back as it is), and a lock a chain so that the process's threads try other chains.
_SEEN: weakref.WeakKeyDictionary[Engine, dict[int, tuple[str | None, int]]] = weakref.WeakKeyDictionary()
_TRYING = {chain: threading.Lock() for chain in range(1, CHAINS + 1)}
_COPY_FROM = 100  # entries, from which they are COPYed on PostgreSQL (kinlink.store.bulk)


# A pending entry: its columns' values in this order (a tuple an entry, not a dict: an import adds one a row).
_PENDING = (
    "at",
    "actor",
    "credential",
    "action",
    "entity",
    "entity_id",
    "changes",
    "prev_hash",
    "hash",
    "chain",
)
_CHANGES = _PENDING.index("changes")
_HASH = _PENDING.index("hash")


def _new_entry(
    prev: str | None,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int | None,
    changes: Any,
    chain: int,
) -> tuple[Any, ...]:
    """An entry after `prev` on `chain`, now, in the order of _PENDING, its keyed hash among its values."""
    at = utcnow()
    eid = None if entity_id is None else str(entity_id)
    credential = getattr(actor, "credential", None)
    h = entry_hash(prev, at, actor, action, entity, eid, changes, credential, chain)
    return (at, str(actor), credential, action, entity, eid, changes, prev, h, chain)


def _for_copy(entry: tuple[Any, ...], text: str | None) -> tuple[Any, ...]:
    # COPY takes the JSON column as its text (the one add_many already encoded, else encoded here); None
    # stays SQL NULL, which reads back as None too.
    changes = entry[_CHANGES]
    if changes is None:
        text = None
    elif text is None:
        text = json.dumps(changes, default=str)
    return (*entry[:_CHANGES], text, *entry[_CHANGES + 1 :])


class AuditLog:
    """Appends entries for one unit of work.

    The first `add` takes a free chain head (see the module's docstring); `lock()` takes chain 1's,
    waiting for it, which also serialises concurrent writers that take it: call it before reading what
    the write depends on. Entries are buffered and written in bulk by `flush()`, after which the head is
    read again: flush before other code in the same transaction writes entries through an AuditLog of its
    own, and each chain stays one line.
    """

    def __init__(self, session: Session, actor: str) -> None:
        self.session = session
        self.actor = actor
        self._prev: str | None = None
        self._count = 0
        self._chain = MAIN_CHAIN
        self._locked = False
        self._pending: list[tuple[Any, ...]] = []  # in the order of _PENDING
        self._texts: list[str | None] = []  # each pending entry's changes as JSON text, when encoded already
        # ... and as SQLite stores them (the JSON column's json.dumps), when add_many encoded them so already
        self._stored: list[str | None] = []

    def lock(self) -> None:
        """Take chain 1's head, waiting for a transaction that holds it: the writers' mutex."""
        if self._locked:
            if self._chain == MAIN_CHAIN:
                return
            self.flush()  # the entries so far on the chain taken for them; the rest on chain 1
        conn = self.session.connection()
        if conn.dialect.name == "sqlite":
            self._take_sqlite(conn)
            return
        self._hold(conn.execute(_HEAD_FOR_UPDATE, {"chain": MAIN_CHAIN}).one())

    def _take(self) -> None:
        """Take a head for the entries to come: the first free one, else wait for one."""
        conn = self.session.connection()
        if conn.dialect.name == "sqlite":
            self._take_sqlite(conn)
            return
        head = conn.execute(_FREE_HEAD).first()
        if head is None:
            # Every head is held by another transaction (this one holds none, or it would have been
            # given back): wait for one, any, so that waiters spread over the chains.
            chain = random.choice(conn.execute(_CHAIN_IDS).scalars().all())
            head = conn.execute(_HEAD_FOR_UPDATE, {"chain": chain}).one()
        self._hold(head)

    def _take_sqlite(self, conn: Connection) -> None:
        # A write first: SQLite then holds its write lock for the rest of the transaction, and one
        # writer at a time needs no more than the one chain.
        (head,) = _TOUCH_HEAD_BY_DRIVER.run(conn, {})
        self._hold(head)

    def _hold(self, head: Row[Any] | Any) -> None:  # (a Row, or the driver's named tuple on SQLite)
        self._chain, self._prev, self._count = head.id, head.hash, head.entries
        self._locked = True

    def add(self, action: str, entity: str, entity_id: str | int | None, changes: Any = None) -> None:
        if not self._locked:
            self._take()
        entry = _new_entry(self._prev, self.actor, action, entity, entity_id, changes, self._chain)
        h = entry[_HASH]
        self._pending.append(entry)
        self._texts.append(None)
        self._stored.append(None)
        self._prev = h
        self._count += 1

    def add_many(self, action: str, entity: str, entries: Iterable[tuple[str | int | None, Any]]) -> None:
        """One entry per (entity id, changes), as `add` writes each, at one time (an import's rows).

        The same hashes as `add`, cheaper: the key, the time and the constant fields are encoded once, and
        each entry's body is the JSON list `_body` would write, joined from its encoded items (issue 19).
        """
        if not self._locked:
            self._take()
        at = utcnow()
        credential = getattr(self.actor, "credential", None)
        chain = self._chain
        keyed = hmac.new(server_key("audit"), digestmod=hashlib.sha256)
        dumps = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str).encode
        # json.dumps of a list is "[" + ", ".join(items) + "]": the fields after prev_hash up to entity_id,
        # and the credential (and chain) at the end, are the same for every entry.
        middle = ", " + ", ".join(dumps(f) for f in (canonical_time(at), self.actor, action, entity)) + ", "
        if chain != MAIN_CHAIN:
            tail = ", " + dumps(credential) + ", " + dumps(chain) + "]"
        else:
            tail = "]" if credential is None else ", " + dumps(credential) + "]"
        actor = str(self.actor)
        prev = self._prev
        # A text's JSON is what the encoder gives it (ensure_ascii off): its C function, called directly.
        text_json = encode_basestring
        append = self._pending.append
        texts, stored = self._texts, self._stored
        entries = list(entries)
        ids, changed = map(list, zip(*entries, strict=True)) if entries else ([], [])
        alike = alike_entries(keyed, prev, middle, tail, ids, changed)
        if alike is not None:  # an import's rows (`kinlink.store.audit_alike`): only zipped here, in C
            eids, hashes, hashed, kept = alike
            self._pending.extend(
                zip(
                    repeat(at),
                    repeat(actor),
                    repeat(credential),
                    repeat(action),
                    repeat(entity),
                    eids,
                    changed,
                    [prev, *hashes[:-1]],
                    hashes,
                    repeat(chain),
                )
            )
            texts.extend(hashed)
            stored.extend(kept)
            self._count += len(entries)
            self._prev = hashes[-1]
            return
        for entity_id, changes in entries:
            eid = None if entity_id is None else str(entity_id)
            text = dumps(changes)  # (changes of text under the same keys went the way above)
            stored.append(None)
            body = (
                "["
                + (text_json(prev) if prev is not None else "null")
                + middle
                + (text_json(eid) if eid is not None else "null")
                + ", "
                + text
                + tail
            )
            mac = keyed.copy()
            mac.update(body.encode())
            h = mac.hexdigest()
            append((at, actor, credential, action, entity, eid, changes, prev, h, chain))
            texts.append(text)  # also the JSON column's text on COPY: encoded once
            prev = h
            self._count += 1
        self._prev = prev

    def _for_sqlite(self, conn: Connection) -> list[tuple[Any, ...]]:
        """The pending entries with their changes as SQLite stores them: the text add_many encoded
        (json.dumps's, the JSON column's conversion when the engine names no serializer of its own), else
        that conversion."""
        process = _LOG.c.changes.type._cached_bind_processor(conn.dialect)
        assert process is not None
        if conn.dialect._json_serializer is not None:  # type: ignore[attr-defined]
            return [(*e[:_CHANGES], process(e[_CHANGES]), *e[_CHANGES + 1 :]) for e in self._pending]
        return [
            (*entry[:_CHANGES], process(entry[_CHANGES]) if text is None else text, *entry[_CHANGES + 1 :])
            for entry, text in zip(self._pending, self._stored, strict=True)
        ]

    def flush(self) -> None:
        if not self._pending:
            return
        conn = self.session.connection()
        head = {"new_hash": self._prev, "new_entries": self._count}
        if len(self._pending) >= _COPY_FROM and bulk.copies(conn):  # an import's entries, one per row
            bulk.write_values(conn, _LOG, _PENDING, map(_for_copy, self._pending, self._texts))
        elif len(self._pending) >= _COPY_FROM and conn.dialect.name == "sqlite":
            # The driver's executemany with the columns' own conversions, as SQLAlchemy's insert applies
            # them (the same stored values), without its per-entry parameter processing (issue 19).
            bulk.write_values(conn, _LOG, _PENDING, self._for_sqlite(conn), stored=("changes",))
        elif len(self._pending) == 1 and conn.dialect.name == "postgresql":
            conn.execute(
                _APPEND_ONE_AND_SET_HEAD, {**dict(zip(_PENDING, self._pending[0], strict=True)), **head}
            )
            head = {}  # set with the entry
        elif conn.dialect.name == "sqlite":
            _APPEND_BY_DRIVER.run_many(conn, [dict(zip(_PENDING, e, strict=True)) for e in self._pending])
            _SET_HEAD_BY_DRIVER.run(conn, {"chain": self._chain, **head})
            head = {}
        else:
            conn.execute(_APPEND, [dict(zip(_PENDING, e, strict=True)) for e in self._pending])
        if head:
            conn.execute(_SET_HEAD, {"chain": self._chain, **head})
        self._pending.clear()
        self._texts.clear()
        self._stored.clear()
        self._locked = False


def record(
    session: Session, actor: str, action: str, entity: str, entity_id: str | int | None, changes: Any = None
) -> None:
    """Write one audit entry now (for single writes; bulk work should keep one AuditLog)."""
    if not (session.new or session.dirty or session.deleted):  # else the entry waits for what it audits
        conn = session.connection()
        if outside_transaction(conn) and _append_alone(conn, actor, action, entity, entity_id, changes):
            return
    log = AuditLog(session, actor)
    log.add(action, entity, entity_id, changes)
    log.flush()


def _append_alone(
    conn: Connection, actor: str, action: str, entity: str, entity_id: str | int | None, changes: Any
) -> bool:
    """One entry as its own transaction (`_APPEND_IF_MOVED`), on the first chain from chain 1 that this
    process's other threads are not trying and no transaction holds; False when every chain failed (the
    caller then appends in a transaction, waiting for a head)."""
    wait = READ_ENTRIES_WAIT_FOR_WAL_FLUSH or action != "read"
    statement = _APPEND_IF_MOVED if wait else _APPEND_READ_IF_MOVED
    seen = _SEEN.get(conn.engine)
    if seen is None:
        seen = _SEEN.setdefault(conn.engine, {})
    for chain, trying in _TRYING.items():
        if not trying.acquire(blocking=False):
            continue
        try:
            head = seen.get(chain)
            for _ in range(2):  # the head as last seen, then as the failed compare found it if that was stale
                if head is None:
                    row = conn.execute(_HEAD, {"chain": chain}).one()
                    head = seen[chain] = (row.hash, row.entries)
                prev, count = head
                entry = _new_entry(prev, actor, action, entity, entity_id, changes, chain)
                h = entry[_HASH]
                moved = {"entries_before": count, "new_hash": h, "new_entries": count + 1}
                params = {**dict(zip(_PENDING, entry, strict=True)), **moved}
                row = conn.execute(statement, params).one()
                if row.appended is not None:
                    seen[chain] = (h, count + 1)
                    return True
                if (row.hash, row.entries) == head:
                    break  # the head as seen, but held by a transaction: the next chain
                head = seen[chain] = (row.hash, row.entries)
        finally:
            trying.release()
    return False


def record_read(
    session: Session,
    actor: str,
    entity: str,
    ids: Sequence[int],
    view: str,
    filters: Mapping[str, Any] | None = None,
) -> None:
    """A list of personal data read by staff: which view, with which filter, how many rows and which ids
    (a search for someone is as telling as the record found)."""
    changes = {"view": view, "filter": dict(filters or {}), "count": len(ids), "ids": list(ids)}
    record(session, actor, "read", entity, None, changes)
