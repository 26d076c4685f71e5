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
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from kinlink.actor import Actor as Actor
from kinlink.keys import server_key
from kinlink.store import bulk
from kinlink.store.models import AuditEntry, AuditHead, utcnow

REKEY_ACTION = "rekey"
REKEY_ENTITY = "audit"


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
) -> bytes:
    fields = [prev_hash, canonical_time(at), actor, action, entity, entity_id, changes]
    if credential is not None:  # appended only when present, so entries written before it keep their hash
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
) -> str:
    """The keyed hash of an entry (HMAC-SHA-256 under the audit key)."""
    body = _body(prev_hash, at, actor, action, entity, entity_id, changes, credential)
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
_HEAD = select(_HEAD_TABLE.c.hash, _HEAD_TABLE.c.entries).where(_HEAD_TABLE.c.id == 1)
_HEAD_FOR_UPDATE = _HEAD.with_for_update()
_TOUCH_HEAD = update(_HEAD_TABLE).where(_HEAD_TABLE.c.id == 1).values(entries=_HEAD_TABLE.c.entries)
_SET_HEAD = (
    update(_HEAD_TABLE)
    .where(_HEAD_TABLE.c.id == 1)
    .values(hash=bindparam("new_hash"), entries=bindparam("new_entries"))
)
_LOG = AuditEntry.__table__
_APPEND = insert(_LOG)
_COPY_FROM = 100  # entries, from which they are COPYed on PostgreSQL (kinlink.store.bulk)


def _for_copy(entry: dict[str, Any], text: str | None) -> dict[str, Any]:
    # COPY takes the JSON column as its text (the one add_many already encoded, else encoded here); None
    # stays SQL NULL, which reads back as None too.
    changes = entry["changes"]
    if changes is None:
        text = None
    elif text is None:
        text = json.dumps(changes, default=str)
    return {**entry, "changes": text}


class AuditLog:
    """Appends entries for one unit of work.

    `lock()` takes the chain head first, which also serialises concurrent writers; call it before
    reading what the write depends on. Entries are buffered and written in bulk by `flush()`, after
    which the head is read again: flush before other code in the same transaction writes entries
    through an AuditLog of its own, and the chain stays one line.
    """

    def __init__(self, session: Session, actor: str) -> None:
        self.session = session
        self.actor = actor
        self._prev: str | None = None
        self._count = 0
        self._locked = False
        self._pending: list[dict[str, Any]] = []
        self._texts: list[str | None] = []  # each pending entry's changes as JSON text, when encoded already

    def lock(self) -> None:
        if self._locked:
            return
        conn = self.session.connection()
        if conn.dialect.name == "sqlite":
            # A write first: SQLite then holds its write lock for the rest of the transaction.
            conn.execute(_TOUCH_HEAD)
            head = conn.execute(_HEAD).one()
        else:
            head = conn.execute(_HEAD_FOR_UPDATE).one()
        self._prev, self._count = head.hash, head.entries
        self._locked = True

    def add(self, action: str, entity: str, entity_id: str | int | None, changes: Any = None) -> None:
        self.lock()
        at = utcnow()
        eid = None if entity_id is None else str(entity_id)
        credential = getattr(self.actor, "credential", None)
        h = entry_hash(self._prev, at, self.actor, action, entity, eid, changes, credential)
        self._pending.append(
            dict(
                at=at,
                actor=str(self.actor),
                credential=credential,
                action=action,
                entity=entity,
                entity_id=eid,
                changes=changes,
                prev_hash=self._prev,
                hash=h,
            )
        )
        self._texts.append(None)
        self._prev = h
        self._count += 1

    def add_many(self, action: str, entity: str, entries: Iterable[tuple[str | int | None, Any]]) -> None:
        """One entry per (entity id, changes), as `add` writes each, at one time (an import's rows).

        The same hashes as `add`, cheaper: the key, the time and the constant fields are encoded once, and
        each entry's body is the JSON list `_body` would write, joined from its encoded items (issue 19).
        """
        self.lock()
        at = utcnow()
        credential = getattr(self.actor, "credential", None)
        keyed = hmac.new(server_key("audit"), digestmod=hashlib.sha256)
        dumps = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str).encode
        # json.dumps of a list is "[" + ", ".join(items) + "]": the fields after prev_hash up to entity_id,
        # and the credential at the end, are the same for every entry.
        middle = ", " + ", ".join(dumps(f) for f in (canonical_time(at), self.actor, action, entity)) + ", "
        tail = "]" if credential is None else ", " + dumps(credential) + "]"
        actor = str(self.actor)
        prev = self._prev
        for entity_id, changes in entries:
            eid = None if entity_id is None else str(entity_id)
            text = dumps(changes)
            body = "[" + dumps(prev) + middle + dumps(eid) + ", " + text + tail
            mac = keyed.copy()
            mac.update(body.encode())
            h = mac.hexdigest()
            self._pending.append(
                dict(
                    at=at,
                    actor=actor,
                    credential=credential,
                    action=action,
                    entity=entity,
                    entity_id=eid,
                    changes=changes,
                    prev_hash=prev,
                    hash=h,
                )
            )
            self._texts.append(text)  # also the JSON column's text on COPY: encoded once
            prev = h
            self._count += 1
        self._prev = prev

    def flush(self) -> None:
        if not self._pending:
            return
        conn = self.session.connection()
        if len(self._pending) >= _COPY_FROM and bulk.copies(conn):  # an import's entries, one per row
            bulk.write_rows(conn, _LOG, list(map(_for_copy, self._pending, self._texts)))
        elif len(self._pending) >= _COPY_FROM and conn.dialect.name == "sqlite":
            # The driver's executemany with the columns' own conversions, as SQLAlchemy's insert applies
            # them (the same stored values), without its per-entry parameter processing (issue 19).
            bulk.write_rows(conn, _LOG, self._pending)
        else:
            conn.execute(_APPEND, self._pending)
        conn.execute(_SET_HEAD, {"new_hash": self._prev, "new_entries": self._count})
        self._pending.clear()
        self._texts.clear()
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
    return session.execute(select(AuditHead.entries).where(AuditHead.id == 1)).scalar_one()


def head(session: Session) -> tuple[int, str | None]:
    """The chain's head (entry count, last hash), to be kept outside the database as an anchor."""
    row = session.execute(select(AuditHead.entries, AuditHead.hash).where(AuditHead.id == 1)).one()
    return row.entries, row.hash


def format_anchor(entries: int, last_hash: str | None) -> str:
    return f"{entries}:{last_hash or ''}"


def parse_anchor(anchor: str) -> tuple[int, str]:
    count, sep, last_hash = anchor.strip().partition(":")
    if not sep or not count.isdigit() or len(last_hash) != 64:
        raise ValueError("an anchor is COUNT:HASH as printed by `kinlink audit anchor`")
    return int(count), last_hash.lower()


def verify(session: Session, anchor: str | None = None) -> list[str]:
    """Walk the chain; return the problems found (empty when intact). With an anchor (COUNT:HASH from
    `format_anchor`), the chain must also still hold that head as its COUNT-th entry."""
    want = parse_anchor(anchor) if anchor is not None else None
    problems: list[str] = []
    prev: str | None = None
    n = 0
    legacy = 0
    keyed = False
    anchored = False
    for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(5000):
        n += 1
        if e.prev_hash != prev:
            problems.append(f"entry {e.id}: previous hash does not match entry before it (deleted?)")
        fields = (e.prev_hash, e.at, e.actor, e.action, e.entity, e.entity_id, e.changes)
        if hmac.compare_digest(entry_hash(*fields, e.credential), e.hash):
            if not keyed and legacy and (e.action, e.entity) != (REKEY_ACTION, REKEY_ENTITY):
                problems.append(f"entry {e.id}: unkeyed entries before it are not closed by a rekey entry")
            keyed = True
        elif not keyed and legacy_entry_hash(*fields) == e.hash:
            legacy += 1
        else:
            problems.append(f"entry {e.id}: content does not match its hash (edited, or not this key?)")
        if want is not None and n == want[0]:
            anchored = True
            if e.hash != want[1]:
                problems.append(
                    f"entry {e.id}: the anchored head {want[0]}:{want[1]} is no longer in the chain"
                )
        prev = e.hash
    if legacy and not keyed:
        problems.append(f"the chain's {legacy} entries are unkeyed and no rekey entry closes them")
    if want is not None and not anchored and want[0] > 0:
        problems.append(f"the chain has {n} entries, fewer than the anchor's {want[0]} (entries removed)")
    h = session.execute(select(AuditHead.hash, AuditHead.entries).where(AuditHead.id == 1)).one()
    if h.hash != prev or h.entries != n:
        problems.append(f"chain head says {h.entries} entries ending {h.hash}, found {n} ending {prev}")
    return problems
