"""Candidates for unidentified remains: the missing persons of the registry and the open tracing requests
the remains may be, scored by the remains model (`Model.remains`, `matching.physical`) and explained field
by field like every candidate; stored idempotently (one row per pair), a decided candidate keeping its
decision.

Remains carry no name to block on; they are blocked instead as a forensic service narrows a search
(`matching.physical.window` / `plausible`: sex, age on the day found, last seen before found), in SQL on the
columns so that one record of remains reads only the plausible persons and requests, then exactly in Python
(the same predicate whichever side was written last). The population the scores assume stays the whole of
the missing and the open requests. An ordinary person's matching never comes here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from kinlink.errors import refuse
from kinlink.matching.model import Model
from kinlink.matching.physical import Window, plausible, window
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Scorer
from kinlink.matching.score_values import Scored
from kinlink.store.audit import AuditLog
from kinlink.store.audit import record_read as audit_read
from kinlink.store.models import Event, Person, utcnow
from kinlink.store.remains_models import Remains, RemainsCandidate
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from kinlink.tracing.candidates import add_unique_pair, current_version, pair_key
from kinlink.tracing.requests import OPEN_STATES

MISSING = "missing"  # the status of the records remains are compared with
CLOSED = "closed"  # a candidate of remains identified as someone else


def remains_model(model: Model) -> Model:
    if model.remains is None:
        raise refuse("invalid", "model", "the matching model declares no comparisons of remains")
    return model.remains


def remains_record(rem: Remains) -> MatchRecord:
    """The remains as the remains model compares them."""
    extra = {
        "marks": rem.marks,
        "found_date": rem.found_date,
        "found_place": rem.found_place,
        "age_range": f"{rem.age_min}-{rem.age_max}" if rem.age_min is not None else None,
        "height": f"{rem.height_min}-{rem.height_max}" if rem.height_min is not None else None,
    }
    return MatchRecord(
        id=rem.id, name="", sex=rem.sex, kind="remains", extra={k: v for k, v in extra.items() if v}
    )


def _person_record(p: Row[Any], last: tuple[str | None, str | None] | None) -> MatchRecord:
    # Last seen: the latest event that says the person went missing (its date and place).
    extra = {
        "marks": p.distinguishing_marks,
        "last_seen_date": last[0] if last else None,
        "last_seen_place": (last[1] if last else None) or p.location,
    }
    return MatchRecord(
        id=p.id,
        name=p.full_name,
        sex=p.sex,
        birth_date=p.birth_date,
        age=p.age,
        age_as_of=p.age_as_of,
        extra={k: v for k, v in extra.items() if v},
    )


def _request_record(req: TracingRequest) -> MatchRecord:
    # A family describes marks and height in "anything else that may help"; where and when the person was
    # last seen are the request's place and date of capture or last sighting.
    extra = {"marks": req.last_seen, "last_seen_date": req.capture_date, "last_seen_place": req.capture_place}
    return MatchRecord(
        id=req.id,
        name=req.full_name,
        sex=req.sex,
        birth_date=req.birth_date,
        birth_year_to=req.birth_year_to,
        age=req.age,
        age_as_of=req.age_as_of,
        kind="request",
        extra={k: v for k, v in extra.items() if v},
    )


_COMPARED = (
    Person.id,
    Person.full_name,
    Person.sex,
    Person.birth_date,
    Person.age,
    Person.age_as_of,
    Person.distinguishing_marks,
    Person.location,
)
_BATCH = 500  # ids in one IN (...) of the events' read


def missing_persons(
    session: Session, ids: Iterable[int] | None = None, within: Window | None = None
) -> list[MatchRecord]:
    # The columns compared, not whole records: thousands are read for one record of remains.
    q = select(*_COMPARED).where(Person.status == MISSING).order_by(Person.id)
    if ids is not None:
        q = q.where(Person.id.in_(list(ids)))
    if within is not None:
        if within.sex:
            q = q.where(or_(Person.sex.is_(None), Person.sex == within.sex))
        if within.born_from_year is not None and within.born_before_year is not None:
            q = q.where(
                or_(
                    Person.birth_date.is_(None),
                    and_(
                        Person.birth_date >= f"{within.born_from_year:04d}",
                        Person.birth_date < f"{within.born_before_year:04d}",
                    ),
                )
            )
        if within.seen_until is not None:  # partial ISO dates compare as text in date order
            q = q.where(
                ~exists().where(
                    Event.person_id == Person.id, Event.kind == MISSING, Event.date > within.seen_until
                )
            )
    rows = list(session.execute(q))
    latest: dict[int, tuple[tuple[str, int], str | None, str | None]] = {}
    ids_read = [r.id for r in rows]
    for at in range(0, len(ids_read), _BATCH):
        events = select(Event.person_id, Event.date, Event.place, Event.id).where(
            Event.person_id.in_(ids_read[at : at + _BATCH]), Event.kind == MISSING
        )
        for pid, when, place, eid in session.execute(events):
            key = (when or "", eid)
            if pid not in latest or key > latest[pid][0]:
                latest[pid] = (key, when, place)
    return [_person_record(r, latest[r.id][1:] if r.id in latest else None) for r in rows]


def open_requests(
    session: Session, ids: Iterable[int] | None = None, within: Window | None = None
) -> list[MatchRecord]:
    q = select(TracingRequest).where(TracingRequest.state.in_(OPEN_STATES)).order_by(TracingRequest.id)
    if ids is not None:
        q = q.where(TracingRequest.id.in_(list(ids)))
    if within is not None:
        if within.sex:
            q = q.where(or_(TracingRequest.sex.is_(None), TracingRequest.sex == within.sex))
        if within.born_from_year is not None and within.born_before_year is not None:
            q = q.where(
                or_(
                    TracingRequest.birth_date.is_(None),
                    and_(
                        TracingRequest.birth_date < f"{within.born_before_year:04d}",
                        or_(
                            TracingRequest.birth_date >= f"{within.born_from_year:04d}",
                            TracingRequest.birth_year_to >= within.born_from_year,
                        ),
                    ),
                )
            )
        if within.seen_until is not None:
            q = q.where(
                or_(TracingRequest.capture_date.is_(None), TracingRequest.capture_date <= within.seen_until)
            )
    return [_request_record(r) for r in session.scalars(q)]


def _population(session: Session) -> int:
    """Every missing person and open request: what a record of remains is drawn against, blocked or not."""
    return (session.scalar(select(func.count(Person.id)).where(Person.status == MISSING)) or 0) + (
        session.scalar(select(func.count(TracingRequest.id)).where(TracingRequest.state.in_(OPEN_STATES)))
        or 0
    )


@dataclass
class RemainsMatched:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    compared: int = 0  # pairs scored (after blocking)
    candidates: list[RemainsCandidate] = field(default_factory=list)


def match_remains(
    session: Session, actor: str, remains_ids: Iterable[int], *, model: Model
) -> RemainsMatched:
    """Unidentified remains against the missing persons and open requests in their window (each record of
    remains reads only those); candidates at or above the remains model's threshold stored (or refreshed)
    for a registrar's review."""
    remains = list(
        session.scalars(
            select(Remains).where(Remains.id.in_(list(remains_ids)), Remains.state == "unidentified")
        )
    )
    if not remains:
        return RemainsMatched()
    out, population = RemainsMatched(), _population(session)
    for rem in remains:  # each record of remains reads only the persons and requests in its window
        within = window(remains_record(rem))
        others = [(rec, "p") for rec in missing_persons(session, within=within)]
        others += [(rec, "r") for rec in open_requests(session, within=within)]
        done = _match(session, actor, [rem], others, population, model)
        out.created, out.updated = out.created + done.created, out.updated + done.updated
        out.unchanged, out.compared = out.unchanged + done.unchanged, out.compared + done.compared
        out.candidates += done.candidates
    return out


def match_against_remains(
    session: Session,
    actor: str,
    *,
    person_ids: Iterable[int] = (),
    request_ids: Iterable[int] = (),
    model: Model,
) -> RemainsMatched:
    """Records just written (those of missing persons) and requests just filed, against the unidentified
    remains. Without any unidentified remains this is one indexed query, and an ordinary record costs no
    more."""
    if (
        model.remains is None
        or session.scalar(select(Remains.id).where(Remains.state == "unidentified").limit(1)) is None
    ):
        return RemainsMatched()
    pids, rids = list(person_ids), list(request_ids)
    others = [(rec, "p") for rec in (missing_persons(session, pids) if pids else [])]
    others += [(rec, "r") for rec in (open_requests(session, rids) if rids else [])]
    if not others:
        return RemainsMatched()
    remains = list(
        session.scalars(select(Remains).where(Remains.state == "unidentified").order_by(Remains.id))
    )
    # The population is the whole of what remains are compared with, as `match_remains` counts it, so that a
    # pair scores the same whichever side was written last.
    return _match(session, actor, remains, others, _population(session), model)


def _match(
    session: Session,
    actor: str,
    remains: list[Remains],
    others: list[tuple[MatchRecord, str]],
    population: int,
    model: Model,
) -> RemainsMatched:
    rm = remains_model(model)
    log = AuditLog(session, actor)
    log.lock()
    out = RemainsMatched()
    scorer = Scorer(rm, population=population)
    prepared = [(scorer.prepare(rec), rec, side) for rec, side in others]
    for rem in remains:
        found = remains_record(rem)
        q = scorer.prepare(found)
        for r, rec, side in prepared:
            if not plausible(found, rec):  # the same window as the read's, exactly
                continue
            out.compared += 1
            others = scorer.others(q, r)  # explained only when it is a candidate (most pairs are not)
            if scorer.score(q, r, explain=False, others=others).probability < rm.candidate_threshold:
                continue
            scored = scorer.score(q, r, others=others)
            cand, outcome = _store(session, log, rm, scored, rem.id, int(rec.id), side)  # type: ignore[arg-type]
            setattr(out, outcome, getattr(out, outcome) + 1)
            out.candidates.append(cand)
    log.flush()
    return out


def _store(
    session: Session, log: AuditLog, model: Model, scored: Scored, remains_id: int, other_id: int, side: str
) -> tuple[RemainsCandidate, str]:
    key = f"u{remains_id}:{side}{other_id}"
    prob = round(scored.probability, 6)
    existing = session.scalar(select(RemainsCandidate).where(RemainsCandidate.pair == key))
    if existing is None:
        cand = RemainsCandidate(
            pair=key,
            remains_id=remains_id,
            person_id=other_id if side == "p" else None,
            request_id=other_id if side == "r" else None,
            probability=prob,
            weight=round(scored.weight, 4),
            explanation=scored.explanation(),
            model_name=model.name,
            model_version=model.version,
            state="pending",
        )
        existing, created = add_unique_pair(session, RemainsCandidate, key, cand)
        if created:
            log.add("create", "remains_candidate", cand.id, {"pair": key, "probability": prob})
            return cand, "created"
    if existing.state != "pending" or abs(existing.probability - prob) < 1e-6:
        return existing, "unchanged"
    log.add("update", "remains_candidate", existing.id, {"probability": [existing.probability, prob]})
    existing.probability, existing.weight = prob, round(scored.weight, 4)
    existing.explanation = scored.explanation()
    existing.model_name, existing.model_version, existing.updated_at = model.name, model.version, utcnow()
    session.flush()
    return existing, "updated"


def candidates_of(session: Session, actor: str, remains_id: int) -> list[RemainsCandidate]:
    """A remains record's candidates, most probable first (a read of personal data: audited)."""
    rows = list(
        session.scalars(
            select(RemainsCandidate)
            .where(RemainsCandidate.remains_id == remains_id)
            .order_by(RemainsCandidate.probability.desc(), RemainsCandidate.id)
        )
    )
    audit_read(
        session, actor, "remains_candidate", [c.id for c in rows], "remains", {"remains_id": remains_id}
    )
    return rows


def get_candidate(
    session: Session, candidate_id: int, expected_version: int | None = None
) -> RemainsCandidate:
    cand: RemainsCandidate = current_version(session, RemainsCandidate, candidate_id, expected_version)
    return cand


def set_state(session: Session, log: AuditLog, cand: RemainsCandidate, state: str, actor: str) -> None:
    log.add("update", "remains_candidate", cand.id, {"state": [cand.state, state]})
    cand.state, cand.decided_by, cand.decided_at, cand.updated_at = state, actor, utcnow(), utcnow()
    session.flush()


def close_others(session: Session, log: AuditLog, remains_id: int, actor: str) -> None:
    """Remains identified: their candidates still pending are closed (they were someone else's)."""
    for other in session.scalars(
        select(RemainsCandidate).where(
            RemainsCandidate.remains_id == remains_id, RemainsCandidate.state == "pending"
        )
    ):
        set_state(session, log, other, CLOSED, actor)


def request_match_for(
    session: Session, log: AuditLog, cand: RemainsCandidate, person_id: int, model: Model
) -> MatchCandidate:
    """The request's candidate for the identified person (the pair that `tracing.decisions.decide` confirms):
    the one matching stored, or one made now with the remains' explanation."""
    assert cand.request_id is not None
    key = pair_key(request_id=cand.request_id, person_id=person_id)
    existing = session.scalar(select(MatchCandidate).where(MatchCandidate.pair == key))
    if existing is not None:
        return existing
    mc = MatchCandidate(
        pair=key,
        request_id=cand.request_id,
        person_id=person_id,
        probability=cand.probability,
        weight=cand.weight,
        explanation=cand.explanation,
        model_name=remains_model(model).name,
        model_version=remains_model(model).version,
        state="pending",
    )
    session.add(mc)
    session.flush()
    log.add(
        "create",
        "match_candidate",
        mc.id,
        {"pair": key, "probability": cand.probability, "remains": cand.remains_id},
    )
    return mc
