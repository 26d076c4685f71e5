"""The key table (`match_keys`): every record's and request's blocking keys, and the name counts.

Continuous matching and staff searches look candidates up here by key (an indexed read per key, never a
scan). The keys are those `kinlink.matching.keys` derives; a fingerprint of the derivation tells keys
written by another kinlink version, which are then rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import groupby
from typing import Any

from sqlalchemy import Engine, Integer, bindparam, delete, event, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kinlink.matching import names_bridge as nb
from kinlink.matching.keys import index_keyed, record_keys
from kinlink.matching.record import MatchRecord
from kinlink.matching.score_values import TermFrequencies
from kinlink.store import bulk
from kinlink.store.db import analyze, grown_enough, unit_of_work
from kinlink.store.driver import read_rows
from kinlink.store.match_records import (
    IDS_PER_QUERY,
    among,
    for_dialect,
    person_records,
    reader,
    request_record,
)
from kinlink.store.models import Person
from kinlink.store.tracing_models import MatchKey, MatchKeyScheme, TracingRequest

# The records' keys change marker: match_key_scheme's row 2 holds a token that every transaction that wrote
# or deleted records' keys (the name counts) replaces as it commits. A search keeps the name counts while
# it reads the same token (`kinlink.tracing.matcher`): unlike the largest key id, it also changes when a
# rename's new keys reuse the ids of those it deleted (SQLite) or a transaction commits keys of lower ids
# than one committed before it (PostgreSQL). Written just before the commit, so that the row's lock is
# held only through the commit itself: writers that key records at the same time never wait for each
# other's whole transactions on it, nor deadlock on it.
CHANGES_ROW = 2
_KEYS_CHANGED = "kinlink.records_keys_changed"


def note_keys_changed(session: Session) -> None:
    """The session's transaction changes records' keys: its commit replaces the change marker."""
    session.info[_KEYS_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _mark_keys_changed(session: Session) -> None:
    # A savepoint's release is not the commit (its keys may still be rolled back with the transaction).
    if session.in_nested_transaction() or not session.info.pop(_KEYS_CHANGED, False):
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    token = secrets.token_hex(16)
    stmt = dialect.insert(MatchKeyScheme).values(id=CHANGES_ROW, fingerprint=token)
    session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_={"fingerprint": token}))


# Term-frequency keys, by name part: how many records carry a family name, a given name, a patronymic.
TF_PREFIX = {"family": "tf:f:", "given": "tf:g:", "patronymic": "tf:p:"}
KEY_WIDTH = 200  # the key column's: longer keys are cut to it


def _all_keys(record: MatchRecord, with_tf: bool) -> set[str]:
    names = record.all_names
    if with_tf and len(names) == 1 and names[0] and names[0].strip():
        # A person of one name (nearly all): the keys and name counts an index build derives, from one
        # parse of the name past parse_name's cache (`index_keyed`; the same keys as `record_keys` and the
        # same name counts as `nb.tf_keys`, tests/matching/test_index_build.py): half the derivation's
        # CPU of a first keying, where nearly every name is new (issue 19).
        found, _parsed, tf = index_keyed(record)
        keys = set(found)
        for prefix, key in zip(TF_PREFIX.values(), tf, strict=True):
            if key:
                keys.add(prefix + key)
        return {k[:KEY_WIDTH] for k in keys}
    keys = record_keys(record)
    if with_tf and record.name:
        for table, key in zip(TF_PREFIX, nb.tf_keys(record.name), strict=True):
            if key:
                keys.add(TF_PREFIX[table] + key)
    return {k[:KEY_WIDTH] for k in keys}


def index_keys(
    session: Session,
    records: list[MatchRecord],
    entity: str = "p",
    *,
    replace: Iterable[int] | None = None,
    in_bulk: bool = False,
) -> None:
    """(Re)write the keys of these records or requests; persons' keys include the term-frequency ones.

    in_bulk: the keys written with COPY on PostgreSQL (`kinlink.store.bulk`; a key another transaction
    wrote meanwhile then fails as the driver's error, not as an IntegrityError): a batch engine's chunk of
    requests writes tens of thousands (issue 23: the ORM's executemany was a fifth of its write).
    replace: the ids among them that may have keys already (None: any of them); a rebuild that has just
    deleted a range's keys passes none. On PostgreSQL the keys go in one statement, the ids as one array
    within their range: a range is planned as an index read even on a key table never analysed, where a
    long list alone was planned as a scan of the whole table (issue 19: 0.3 to 1.7 s a chunk).
    """
    if not records:
        return
    ids = [int(r.id) for r in records] if replace is None else sorted(set(replace))  # type: ignore[arg-type]
    write_key_columns(session, entity, ids, key_columns(records, entity), in_bulk=in_bulk)


def key_columns(records: Iterable[MatchRecord], entity: str = "p") -> tuple[list[int], list[str]]:
    """The key table's rows of these records or requests as two columns (owner ids, keys), in the order
    they are written: a record's keys sorted, records in the order given. Two flat lists travel between
    processes (`kinlink.tracing.batch_keys`) at a fraction of the cost of a tuple a row."""
    owners: list[int] = []
    keys: list[str] = []
    with_tf = entity == "p"
    for r in records:
        found = sorted(_all_keys(r, with_tf))
        owners.extend([int(r.id)] * len(found))  # type: ignore[arg-type]
        keys.extend(found)
    return owners, keys


def write_key_columns(
    session: Session,
    entity: str,
    ids: list[int],
    columns: tuple[list[int], list[str]],
    *,
    in_bulk: bool = False,
) -> None:
    """`index_keys` of keys already derived (`key_columns`): the keys of `ids` replaced by these rows."""
    if entity == "p":
        note_keys_changed(session)
    drop_keys(session, entity, ids)
    owners, keys = columns
    _stamp_if_first(session)
    if not owners:
        return
    if in_bulk:
        conn = session.connection()
        if conn.dialect.name == "sqlite":
            _sqlite_rows(conn, entity, owners, keys)
            return
        bulk.write_columns(
            conn, MatchKey.__table__, ("entity", "entity_id", "key"), [[entity] * len(owners), owners, keys]
        )
        return
    rows = [{"entity": entity, "entity_id": o, "key": k} for o, k in zip(owners, keys, strict=True)]
    for i in range(0, len(rows), 5000):
        session.execute(insert(MatchKey), rows[i : i + 5000])


_SQLITE_INSERT = {
    e: f"INSERT INTO match_keys (entity, entity_id, key) VALUES ('{e}', ?, ?)" for e in ("p", "r")
}
# A JSON array of [owner, [its keys...]] runs, a row per key in the array's order (the outer table-valued
# function's rows first, each run's keys in order within): the same rows in the same order (so the same
# ids) as one array of [owner, key] pairs, whose `value ->> 0` and `value ->> 1` parsed each row's pair
# again (issue 19: 59 -> 24 ms of SQLite's work for a block's 60,000 rows, the JSON text a third shorter).
_SQLITE_INSERT_JSON = {
    e: f"INSERT INTO match_keys (entity, entity_id, key) SELECT '{e}', run.value ->> 0, k.value "
    "FROM json_each(?) AS run, json_each(run.value, '$[1]') AS k"
    for e in ("p", "r")
}


def _sqlite_rows(conn: Any, entity: str, owners: list[int], keys: list[str]) -> None:
    """Rows written on SQLite in bulk, the entity written in the statement (no column of 'p's built,
    scanned and zipped in; issue 19: a first keying writes 12 M rows at a million records): as one JSON
    array, inserted in its order by one statement. The driver's executemany bound two values a row, each
    step taking Python's lock back, so a keying written in a thread beside the index build (tracing's
    `BuildKeying`) waited on the build's own thread row by row; one statement lets it go for the whole
    block, and costs a twentieth less. The array holds a run of keys an owner (`_runs`: a record's keys
    are written together), where a pair a row took Python twice as long to encode and SQLite more than
    twice as long to take apart. A key holding a NUL (which SQLite's JSON text would cut) goes through
    executemany."""
    payload = json.dumps(_runs(owners, keys), ensure_ascii=False, separators=(",", ":"))
    if "\\u0000" in payload:
        conn.exec_driver_sql(_SQLITE_INSERT[entity], list(zip(owners, keys, strict=True)))
    else:
        conn.exec_driver_sql(_SQLITE_INSERT_JSON[entity], (payload,))


def _runs(owners: list[int], keys: list[str]) -> list[tuple[int, list[str]]]:
    """The rows as runs of one owner each, in their order: [(owner, [key, ...]), ...]. Adjacent rows only
    are joined (an owner whose rows come apart gets a run each), so the rows read back one run after the
    other are these rows in this order."""
    runs: list[tuple[int, list[str]]] = []
    at = 0
    for owner, same in groupby(owners):
        n = sum(1 for _ in same)
        runs.append((owner, keys[at : at + n]))
        at += n
    return runs


_DROP_AMONG = delete(MatchKey).where(
    MatchKey.entity == bindparam("e"),
    MatchKey.entity_id.between(bindparam("lo"), bindparam("hi")),
    among(MatchKey.entity_id, "ids", False),
)


def drop_keys(session: Session, entity: str, ids: Iterable[int]) -> None:
    """Delete these records' or requests' keys, term frequencies included: an erased record leaves
    nothing derived from its names behind (nor keys a later record given its id on SQLite would inherit)."""
    ids = sorted({int(i) for i in ids})
    if not ids:
        return
    if entity == "p":
        note_keys_changed(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            delete(MatchKey).where(
                MatchKey.entity == entity,
                MatchKey.entity_id.between(ids[0], ids[-1]),
                MatchKey.entity_id == func.any(_int_array(ids)),
            )
        )
    elif len(ids) > IDS_PER_QUERY:
        # A batch's block of thousands: one statement, the ids as one JSON parameter (`among`), not a
        # statement of 500 parameters compiled again for every 500 (a fifth of a first keying's writing).
        reader(session).execute(_DROP_AMONG, {"e": entity, "lo": ids[0], "hi": ids[-1], "ids": ids})
    else:
        session.execute(delete(MatchKey).where(MatchKey.entity == entity, MatchKey.entity_id.in_(ids)))


def index_shared_keys(session: Session, records: list[MatchRecord]) -> None:
    """`index_keys` for committed records that another transaction may be keying at the same time: an
    import's own keying (`match_imported`) and a request's matching (`ensure_keys`) both key the records an
    import has just committed. On PostgreSQL the second insert waits for the first transaction, then meets
    its keys: it then keys the records again, over those keys (visible now that they are committed)."""
    for attempt in range(2):
        try:
            with session.begin_nested():
                index_keys(session, records, entity="p")
            return
        except IntegrityError:
            if attempt:
                raise


def _int_array(ids: list[int]) -> Any:
    from sqlalchemy import literal
    from sqlalchemy.dialects.postgresql import ARRAY

    return literal(ids, ARRAY(Integer))


def analyze_keys(engine: Engine, written: int, before: int) -> None:
    """Analyse the key table after writing many keys (autovacuum may be off: `kinlink.store.db.analyze`)."""
    if grown_enough(written, before):
        analyze(engine, ["match_keys"])


def missing_keys(session: Session) -> list[int]:
    """The records that have no keys yet (imported without matching), in id order.

    An anti-join on the key table's (entity, entity_id) index: cheap when everything is keyed, which is the
    normal state once imports call `match_new_records`.
    """
    keyed = select(MatchKey.id).where(MatchKey.entity == "p", MatchKey.entity_id == Person.id).exists()
    return list(session.scalars(select(Person.id).where(~keyed).order_by(Person.id)))


# Names whose keys stand for the whole derivation: when kinlink.names or the key code change how keys are
# made, some of these change too, and so does the fingerprint (a version number would depend on someone
# remembering to bump it).
_PROBES = (
    MatchRecord(id=1, name="ПАКТЫШЕВ Леонид Андреевич", service_number="АБ-123456"),
    MatchRecord(id=2, name="Leonid Paktishev"),
    MatchRecord(id=3, name="Савченко Надія Вікторівна"),
    MatchRecord(id=4, name="Nadija Sawtschenko"),
    MatchRecord(id=5, name="Щербаков Е. В."),
    MatchRecord(id=6, name="Hruschtschow, Nikita"),
    MatchRecord(id=7, name="Konașenkov Igor"),
    MatchRecord(id=8, name="Кирило Буйничів"),
    MatchRecord(id=9, name="Michaił Kałasznikow"),
    MatchRecord(id=10, name="Oleg Sențov"),
    MatchRecord(id=11, name="Мустафа Джемілєв"),
    MatchRecord(id=12, name="Сашко Ярошенко-Бойко"),
)


_REBUILDING = "rebuilding"  # the fingerprint while rebuild_keys runs: never this version's


@lru_cache(maxsize=1)
def key_fingerprint() -> str:
    """A digest of the keys this kinlink derives for a fixed set of names."""
    digest = hashlib.sha256()
    for r in _PROBES:
        digest.update("\x1f".join(sorted(_all_keys(r, with_tf=True))).encode() + b"\x1e")
    return digest.hexdigest()


def _scheme_row(session: Session) -> MatchKeyScheme:
    row = session.get(MatchKeyScheme, 1)
    if row is None:
        row = MatchKeyScheme(id=1, fingerprint=None)
        session.add(row)
    return row


def _stamp_if_first(session: Session) -> None:
    # The first keys of a new database are this version's: stamp them, or the next `kinlink match` would
    # take them for an older kinlink's and rebuild them all. Only a never-stamped (None) table qualifies:
    # a rebuild marks the table while it runs, so that one cut short stays stale.
    row = _scheme_row(session)
    if row.fingerprint is None and session.scalar(select(MatchKey.id).limit(1)) is None:
        row.fingerprint = key_fingerprint()


def keys_stale(session: Session) -> bool:
    """True when the key table holds keys derived otherwise than this kinlink derives them.

    An empty key table is never stale: its fingerprint is set to this version's on the spot.
    """
    row = _scheme_row(session)
    if row.fingerprint == key_fingerprint():
        return False
    if session.scalar(select(MatchKey.id).limit(1)) is None:
        row.fingerprint = key_fingerprint()
        session.flush()
        return False
    return True


def rebuild_keys(
    engine: Engine, progress: Callable[[int, int], None] | None = None, chunk: int = 5000
) -> int:
    """Rewrite every record's and request's keys, chunk by chunk; returns how many records were keyed.

    The fingerprint is written last: a rebuild cut short leaves the table marked stale, and the next run
    starts it again.
    """
    with unit_of_work(engine) as session:
        session.execute(delete(MatchKey))
        note_keys_changed(session)
        _scheme_row(session).fingerprint = _REBUILDING
        person_ids = list(session.scalars(select(Person.id).order_by(Person.id)))
        request_ids = list(session.scalars(select(TracingRequest.id).order_by(TracingRequest.id)))
    for i in range(0, len(person_ids), chunk):
        with unit_of_work(engine) as session:
            ids = person_ids[i : i + chunk]
            # By range: a record keyed meanwhile by continuous matching is rewritten, not duplicated, and
            # a range is planned as an index read even on a table never analysed.
            session.execute(
                delete(MatchKey).where(MatchKey.entity == "p", MatchKey.entity_id.between(ids[0], ids[-1]))
            )
            index_keys(session, list(person_records(session, ids)), "p", replace=())
        if progress:
            progress(min(i + chunk, len(person_ids)), len(person_ids))
    for i in range(0, len(request_ids), chunk):
        with unit_of_work(engine) as session:
            ids = request_ids[i : i + chunk]
            reqs = list(session.scalars(select(TracingRequest).where(TracingRequest.id.in_(ids))))
            session.execute(
                delete(MatchKey).where(MatchKey.entity == "r", MatchKey.entity_id.between(ids[0], ids[-1]))
            )
            index_keys(session, [request_record(r) for r in reqs], "r", replace=())
    with unit_of_work(engine) as session:
        _scheme_row(session).fingerprint = key_fingerprint()
    analyze(engine, ["match_keys"])
    return len(person_ids)


def ensure_keys(session: Session) -> int:
    """Key the records that have no keys yet; returns how many were keyed."""
    missing = missing_keys(session)
    for i in range(0, len(missing), 5000):
        index_shared_keys(session, list(person_records(session, missing[i : i + 5000])))
    if missing:
        session.flush()
    return len(missing)


# The records that hold each of a list of keys (a scorer's name counts), in one statement.
_KEY_COUNTS = tuple(
    select(MatchKey.key, func.count())
    .where(MatchKey.entity == "p", among(MatchKey.key, "keys", array))
    .group_by(MatchKey.key)
    for array in (False, True)
)


class DbTermFrequencies(TermFrequencies):
    """Name frequencies counted from the key table, looked up as needed (indexed count per key).

    With `shared` (a `_SearchCache`'s counts) the counts are kept between searches of this process.
    """

    def __init__(
        self, session: Session, population: int | None = None, shared: dict[str, int] | None = None
    ) -> None:
        super().__init__()
        self.session = session
        self.population = (
            population if population is not None else session.scalar(select(func.count(Person.id))) or 0
        )
        self._memo: dict[str, int] = shared if shared is not None else {}

    def prefetch(self, keys: Iterable[tuple[str, str]]) -> None:
        """Count these (table, key) pairs in one query, so that scoring asks the database nothing."""
        # Tested key by key: a set minus the memo's keys view would walk the whole memo, which a server's
        # searches share and which holds every name counted since the registry last changed.
        memo = self._memo
        wanted = {full for t, k in keys if (full := TF_PREFIX[t] + k) not in memo}
        if not wanted:
            return
        found = dict.fromkeys(wanted, 0)
        conn = reader(self.session)
        for key, n in read_rows(conn, for_dialect(conn, _KEY_COUNTS), {"keys": sorted(wanted)}):
            found[key] = n
        self._memo.update(found)

    def count(self, table: str, key: str) -> int:
        full = TF_PREFIX[table] + key
        hit = self._memo.get(full)
        if hit is None:
            hit = (
                self.session.scalar(select(func.count()).where(MatchKey.entity == "p", MatchKey.key == full))
                or 0
            )
            self._memo[full] = hit
        return hit
