"""Staff search of the registry: by the matcher (any script, transliterated, fuzzy), by record id or service
number, and by the beginning of a name. Every search is audited with its filter, its count and its ids: a
search for someone tells as much as the record found."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, Integer, Select, and_, bindparam, literal, or_, select, union_all
from sqlalchemy.orm import Session

from kinlink.errors import refuse
from kinlink.matching.model import Model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Scorer
from kinlink.matching.score_values import Scored
from kinlink.messages import Message
from kinlink.person.text import text_problem
from kinlink.registry.people import Listed
from kinlink.store.audit import record_read
from kinlink.store.driver import DriverRead
from kinlink.store.match_keys import ensure_keys, keys_stale, rebuild_keys
from kinlink.store.match_records import among, reader
from kinlink.store.models import Person, PersonName, Source, fold_name
from kinlink.tracing.matcher import search, search_scorer


@dataclass(frozen=True, slots=True)
class SearchHit:
    person: Listed
    probability: float | None  # from the matcher; None for a plain text match
    note: Message | None = None  # the matcher's word on it (a family name alone, shared by many)


# Statements built once (with their filters as parameters): building and caching a statement costs more
# than the indexed reads a search makes.
_LISTED = select(
    Person.id,
    Source.name,
    Person.source_record_id,
    Person.full_name,
    Person.sex,
    Person.birth_date,
    Person.unit,
    Person.status,
    Person.status_date,
).join(Source, Source.id == Person.source_id)
# By record id or service number (what = 0), by the beginning of a name (what = 1), and the matcher's hits
# (what = 2), each with its listed row when it passes the filters (else NULLs): one statement, one round trip
# where a lookup then a read of the rows were two (issue 19). Each lookup keeps its own LIMIT, as before.
_EXACT = (
    select(Person.id.label("pid"), literal(0).label("what"))
    .where(or_(Person.source_record_id == bindparam("q"), Person.service_number == bindparam("q")))
    .limit(bindparam("lim", type_=Integer))
)
_PREFIX = (
    select(PersonName.person_id.label("pid"), literal(1).label("what"))
    .where(PersonName.folded >= bindparam("lo"), PersonName.folded < bindparam("hi"))
    .distinct()
    .limit(bindparam("lim", type_=Integer))
)


# On PostgreSQL the lowest record ids of a broad beginning, as its plans gave them by sorting the ids: with
# the ids in the name index (migration 0023) a plan may hash them instead, and list another 50.
_PREFIX_LOWEST = _PREFIX.order_by(PersonName.person_id)


@lru_cache(maxsize=16)
def _found_stmt(by_status: bool, by_kind: bool, array: bool) -> Select:  # type: ignore[type-arg]
    hits = select(Person.id.label("pid"), literal(2).label("what")).where(among(Person.id, "ids", array))
    prefix = _PREFIX_LOWEST if array else _PREFIX
    found = union_all(select(_EXACT.subquery()), select(prefix.subquery()), hits).subquery("found")
    # A record's row where it passes the filters, else NULLs in the record's or its source's columns: outer
    # joins to each table (SQLite reads a joined pair or a subquery on the right of an outer join whole).
    person = [Person.id == found.c.pid]
    if by_status:
        person.append(Person.status == bindparam("status"))
    source = [Source.id == Person.source_id]
    if by_kind:
        source.append(Source.kind == bindparam("kind"))
    return (
        select(found.c.what, found.c.pid, *_LISTED.selected_columns)
        .select_from(found)
        .outerjoin(Person, and_(*person))
        .outerjoin(Source, and_(*source))
    )


@lru_cache(maxsize=16)
def _listed_stmt(by_status: bool, by_kind: bool) -> Select:  # type: ignore[type-arg]
    stmt = _LISTED
    if by_status:
        stmt = stmt.where(Person.status == bindparam("status"))
    if by_kind:
        stmt = stmt.where(Source.kind == bindparam("kind"))
    return (
        stmt.order_by(Person.id)
        .limit(bindparam("lim", type_=Integer))
        .offset(bindparam("off", type_=Integer))
    )


@lru_cache(maxsize=16)
def _found_read(by_status: bool, by_kind: bool, array: bool) -> DriverRead:
    """`_found_stmt`, run by SQLite's driver itself (issue 19; kinlink.store.driver.DriverRead)."""
    return DriverRead(_found_stmt(by_status, by_kind, array))


def search_records(
    session: Session,
    actor: str,
    view: str,
    query: str | None,
    *,
    model: Model,
    status: str | None = None,
    source_kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[SearchHit]:
    """Records for staff: by the matcher (any script, transliterated), by record id or service number,
    and by the beginning of a name (a record not keyed for matching yet, a name typed in part), or all.

    Every lookup is an index read: nothing here scans the registry, whatever its size.
    """
    for key, value in (("q", query), ("status", status), ("source_kind", source_kind)):
        found = text_problem(value, multiline=False)
        if found:
            raise refuse("invalid", key, found[0], **found[1])
    hits = _search(session, query, model, status, source_kind, limit, offset)
    filters = {"q": query, "status": status, "source_kind": source_kind, "limit": limit, "offset": offset}
    record_read(session, actor, "person", [h.person.id for h in hits], view, filters)
    return hits


def _search(
    session: Session,
    query: str | None,
    model: Model,
    status: str | None,
    source_kind: str | None,
    limit: int,
    offset: int,
) -> list[SearchHit]:
    q = (query or "").strip()
    params: dict[str, Any] = {"status": status, "kind": source_kind}
    conn = reader(session)

    if not q:  # every record (filtered), a page of them
        stmt = _listed_stmt(bool(status), bool(source_kind))
        return [
            SearchHit(Listed(*row), None)
            for row in conn.execute(stmt, {**params, "lim": limit, "off": offset})
        ]

    notes: dict[int, Message] = {}
    hits: dict[int, float | None] = {}
    for rec, scored in search(
        session,
        MatchRecord(id=None, name=q),
        model=model,
        limit=limit,
        scorer=search_scorer(session, model),
        min_probability=0.01,
        reasons=False,  # a list shows each record's probability and note, not the reasons
        ids_only=True,  # and reads its rows itself (`_found_read`): of a hit, only its record's id
    ):
        hits[int(rec.id)] = scored.probability  # type: ignore[arg-type]
        if scored.note is not None:
            notes[int(rec.id)] = scored.note
    folded = fold_name(q)
    exact: list[int] = []
    text_ids: list[int] = []
    people: dict[int, Listed] = {}
    found = {**params, "lo": folded, "hi": folded + "\U0010ffff", "q": q, "lim": limit, "ids": list(hits)}
    stmt = _found_read(bool(status), bool(source_kind), conn.dialect.name == "postgresql")
    for what, pid, *row in stmt.all(conn, found):  # whole, not row by row
        if what == 0:
            exact.append(pid)
        elif what == 1:
            text_ids.append(pid)
        if row[0] is not None and row[1] is not None:  # the record and its source pass the filters
            people[pid] = Listed(*row)
    if len(hits) + len(exact) >= limit:
        # Names that begin with the text (case and spacing folded) only fill a list the others left short.
        text_ids = []
    for pid in [*exact, *text_ids]:
        hits.setdefault(pid, None)
    if not hits:
        return []
    ordered = sorted((pid for pid in hits if pid in people), key=lambda pid: (-(hits[pid] or 0.0), pid))
    return [SearchHit(people[pid], hits[pid], notes.get(pid)) for pid in ordered[offset : offset + limit]]


def ensure_searchable(session: Session) -> int:
    """Key the records imported without matching, so that searches find them; how many were keyed."""
    return ensure_keys(session)


def find_matches(
    session: Session,
    actor: str,
    view: str,
    query: MatchRecord,
    *,
    model: Model,
    limit: int = 10,
    scorer: Scorer | None = None,
) -> list[tuple[MatchRecord, Scored]]:
    """The records that best match a person sought, best first, with the model's reasons; audited with the
    query's fields, the count and the ids."""
    hits = search(session, query, model=model, limit=limit, scorer=scorer)
    asked = {k: getattr(query, k) for k in _QUERY_FIELDS if getattr(query, k) not in (None, (), "")}
    record_read(session, actor, "person", [int(r.id) for r, _ in hits], view, {**asked, "limit": limit})  # type: ignore[arg-type]
    return hits


_QUERY_FIELDS = tuple(f for f in MatchRecord.__dataclass_fields__ if f not in ("id", "kind", "extra"))


def keys_outdated(session: Session) -> bool:
    """True when the search keys were written by another kinlink version (searches would miss people
    until `kinlink init` rebuilds them)."""
    return keys_stale(session)


def rebuild_search_keys(engine: Engine, progress: Callable[[int, int], None] | None = None) -> int:
    """Rewrite every record's and request's search keys (after an upgrade that derives them otherwise)."""
    return rebuild_keys(engine, progress)
