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
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import repeat
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from kinlink.actor import Actor as Actor
from kinlink.keys import server_key
from kinlink.store import bulk
from kinlink.store.audit_alike import alike_entries
from kinlink.store.models import AuditEntry, AuditHead, utcnow

REKEY_ACTION = "rekey"
REKEY_ENTITY = "audit"
MAIN_CHAIN = 1  # the original chain: the writers' mutex, and the only one on SQLite (single writer anyway)
CHAINS = 8  # the heads migration 0020 seeds


def canonical_time(at: datetime) -> str:
    # SQLite gives datetimes back without a zone: they are stored as UTC, so read them as UTC.
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _body(
    prev_hash: str | None,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    changes: Any,
    credential: str | None = None,
    chain: int = MAIN_CHAIN,
) -> bytes:
    fields = [prev_hash, canonical_time(at), actor, action, entity, entity_id, changes]
    if chain != MAIN_CHAIN:  # chain 1's entries hash as they did before there were chains
        fields += [credential, chain]
    elif credential is not None:  # appended only when present, so entries written before it keep their hash
        fields.append(credential)
    return json.dumps(
        fields,
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    ).encode()


def entry_hash(
    prev_hash: str | None,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    changes: Any,
    credential: str | None = None,
    chain: int = MAIN_CHAIN,
) -> str:
    """The keyed hash of an entry (HMAC-SHA-256 under the audit key)."""
    body = _body(prev_hash, at, actor, action, entity, entity_id, changes, credential, chain)
    return hmac.new(server_key("audit"), body, hashlib.sha256).hexdigest()


def legacy_entry_hash(
    prev_hash: str | None,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    changes: Any,
) -> str:
    """The unkeyed hash older kinlinks wrote; accepted only before the rekey entry."""
    return hashlib.sha256(_body(prev_hash, at, actor, action, entity, entity_id, changes)).hexdigest()


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
# PostgreSQL: one entry and its chain's new head in one statement (a data-modifying WITH runs whether or not
# the UPDATE reads it), one round trip fewer for every audited request: a search, a disclosure (issue 19).
# The entry's chain is the head's id, hence the one "chain" parameter.
_APPEND_ONE_AND_SET_HEAD = _SET_HEAD.add_cte(
    insert(_LOG).values({c: bindparam(c) for c in _ENTRY}).cte("appended")
)
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
        self._hold(conn.execute(_TOUCH_HEAD).one())

    def _hold(self, head: Row[Any]) -> None:
        self._chain, self._prev, self._count = head.id, head.hash, head.entries
        self._locked = True

    def add(self, action: str, entity: str, entity_id: str | int | None, changes: Any = None) -> None:
        if not self._locked:
            self._take()
        at = utcnow()
        eid = None if entity_id is None else str(entity_id)
        credential = getattr(self.actor, "credential", None)
        h = entry_hash(self._prev, at, self.actor, action, entity, eid, changes, credential, self._chain)
        self._pending.append(
            (at, str(self.actor), credential, action, entity, eid, changes, self._prev, h, self._chain)
        )
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
    log = AuditLog(session, actor)
    log.add(action, entity, entity_id, changes)
    log.flush()


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


def entry_count(session: Session) -> int:
    """Entries in all chains."""
    return sum(n for n, _ in heads(session).values())


def heads(session: Session) -> dict[int, tuple[int, str | None]]:
    """Each chain's head (entry count, last hash), by chain: to be kept outside the database as an anchor."""
    rows = session.execute(select(AuditHead.id, AuditHead.entries, AuditHead.hash).order_by(AuditHead.id))
    return {r.id: (r.entries, r.hash) for r in rows}


def format_anchor(chains: Mapping[int, tuple[int, str | None]]) -> str:
    """COUNT:HASH of chain 1, then ,N=COUNT:HASH of every other chain that has entries."""
    main = chains.get(MAIN_CHAIN, (0, None))
    parts = [f"{main[0]}:{main[1] or ''}"]
    parts += [f"{c}={n}:{h or ''}" for c, (n, h) in sorted(chains.items()) if c != MAIN_CHAIN and n]
    return ",".join(parts)


def parse_anchor(anchor: str) -> dict[int, tuple[int, str]]:
    """The chains' heads an anchor holds (chain 1's alone in one printed before there were chains)."""
    usage = "an anchor is COUNT:HASH[,CHAIN=COUNT:HASH...] as printed by `kinlink audit anchor`"
    out: dict[int, tuple[int, str]] = {}
    for i, part in enumerate(anchor.strip().split(",")):
        chain, eq, head = part.strip().rpartition("=")
        if (i == 0) == bool(eq) or (eq and not chain.isdigit()):
            raise ValueError(usage)  # chain 1's head first, unnamed; every other named
        c = int(chain) if eq else MAIN_CHAIN
        count, sep, last_hash = head.partition(":")
        empty = count == "0" and not last_hash  # a chain 1 without entries
        if c in out or not sep or not count.isdigit() or not (len(last_hash) == 64 or empty):
            raise ValueError(usage)
        out[c] = (int(count), last_hash.lower())
    return out


class _Chain:
    """What `verify` knows of one chain as it walks it."""

    __slots__ = ("anchored", "keyed", "legacy", "n", "prev")

    def __init__(self) -> None:
        self.prev: str | None = None
        self.n = 0
        self.legacy = 0
        self.keyed = False
        self.anchored = False


def verify(session: Session, anchor: str | None = None) -> list[str]:
    """Walk every chain; return the problems found (empty when intact). With an anchor (from
    `format_anchor`), each chain must also still hold the head it names as its COUNT-th entry."""
    want = parse_anchor(anchor) if anchor is not None else None
    problems: list[str] = []
    chains: dict[int, _Chain] = {}
    for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(5000):
        chain = e.chain
        at = chains.get(chain)
        if at is None:
            at = chains[chain] = _Chain()
        where = "" if chain == MAIN_CHAIN else f" (chain {chain})"
        at.n += 1
        if e.prev_hash != at.prev:
            problems.append(f"entry {e.id}{where}: previous hash does not match entry before it (deleted?)")
        fields = (e.prev_hash, e.at, e.actor, e.action, e.entity, e.entity_id, e.changes)
        if hmac.compare_digest(entry_hash(*fields, e.credential, chain), e.hash):
            if not at.keyed and at.legacy and (e.action, e.entity) != (REKEY_ACTION, REKEY_ENTITY):
                problems.append(f"entry {e.id}: unkeyed entries before it are not closed by a rekey entry")
            at.keyed = True
        elif chain == MAIN_CHAIN and not at.keyed and legacy_entry_hash(*fields) == e.hash:
            at.legacy += 1  # only chain 1 is old enough to hold unkeyed entries
        else:
            problems.append(
                f"entry {e.id}{where}: content does not match its hash (edited, or not this key?)"
            )
        anchored = want.get(chain) if want is not None else None
        if anchored is not None and at.n == anchored[0]:
            at.anchored = True
            if e.hash != anchored[1]:
                problems.append(
                    f"entry {e.id}{where}: the anchored head {anchored[0]}:{anchored[1]} is no longer in"
                    " the chain"
                )
        at.prev = e.hash
    found = heads(session)
    for chain in sorted(found.keys() | chains.keys() | (want or {}).keys()):
        at = chains.get(chain) or _Chain()
        where = "the chain" if chain == MAIN_CHAIN else f"chain {chain}"
        if at.legacy and not at.keyed:
            problems.append(f"the chain's {at.legacy} entries are unkeyed and no rekey entry closes them")
        anchored = want.get(chain) if want is not None else None
        if anchored is not None and not at.anchored and anchored[0] > 0:
            problems.append(
                f"{where} has {at.n} entries, fewer than the anchor's {anchored[0]} (entries removed)"
            )
        if chain not in found:
            problems.append(f"{where} has {at.n} entries but no head (its head removed?)")
            continue
        entries, last = found[chain]
        if last != at.prev or entries != at.n:
            head_of = "chain head" if chain == MAIN_CHAIN else f"chain {chain}'s head"
            problems.append(f"{head_of} says {entries} entries ending {last}, found {at.n} ending {at.prev}")
    return problems
