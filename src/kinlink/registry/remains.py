"""Unidentified remains: the actions behind the registrar's pages, the CLI and the API.

Each action validates (every problem named by its field, nothing partial written), writes, audits and
matches the remains against the missing persons and open requests (`tracing.remains_matching`). Nothing
here is public: every door offers it to registrars only, and every read is audited.

A confirmed identification closes both sides: the remains record is identified; the person's record gets a
death event whose note is the confirmation source (a request's person without a record gets one, from the
request); a request's candidate for that record is confirmed through `tracing.decisions.decide`, which moves
the request and tells the family what the registrar's decisions allow.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.errors import Problem, Refused, invalid, refuse
from kinlink.person.fields import RowError
from kinlink.person.remains_fields import RemainsIn, validate_remains
from kinlink.person.text import text_problem
from kinlink.registry import records
from kinlink.store.audit import AuditLog, record_read
from kinlink.store.audit import record as audit
from kinlink.store.casework_models import Notification
from kinlink.store.models import Person, utcnow
from kinlink.store.remains_models import Remains, RemainsCandidate
from kinlink.store.tracing_models import TracingRequest
from kinlink.tracing import remains_matching as rm
from kinlink.tracing.continuous import Matching
from kinlink.tracing.decisions import MAX_REASON, decide

REMAINS_SOURCE = "kinlink-remains"  # the source of records made for a request's person when identified
MAX_SOURCE = 2000
STATES = ("unidentified", "identified")
MAX_IMPORT_BYTES = 20_000_000


@dataclass
class Added:
    remains: list[Remains]
    candidates: int  # stored or refreshed for review


@dataclass
class Identified:
    remains: Remains
    person_id: int
    request_ids: list[int]
    notifications: list[Notification] = field(default_factory=list)


def _refused(errors: list[RowError], lines: bool) -> Exception:
    return invalid(
        Problem(f"line {e.line}: {e.column}" if lines else e.column, e.reason, e.values) for e in errors
    )


def _write(session: Session, log: AuditLog, rec: RemainsIn) -> Remains:
    values = rec.values()
    values["record_id"] = rec.record_id or f"UR-{secrets.token_hex(5).upper()}"
    if session.scalar(select(Remains.id).where(Remains.record_id == values["record_id"])) is not None:
        raise refuse("conflict", "record_id", "'%(id)s' already exists", id=values["record_id"])
    row = Remains(**values, state="unidentified")
    session.add(row)
    session.flush()
    log.add("create", "remains", row.id, {"record_id": row.record_id})
    return row


def add_remains(session: Session, actor: str, values: Mapping[str, Any], *, matching: Matching) -> Added:
    """A record of unidentified remains, matched at once against the missing and the open requests."""
    rec = validate_remains(dict(values))
    if isinstance(rec, list):
        raise _refused(rec, lines=False)
    return _written(session, actor, [rec], matching)


def _written(session: Session, actor: str, recs: list[RemainsIn], matching: Matching) -> Added:
    log = AuditLog(session, actor)
    log.lock()
    rows = [_write(session, log, rec) for rec in recs]
    log.flush()
    found = 0
    if matching.on_write:
        matched = rm.match_remains(session, actor, [r.id for r in rows], model=matching.model)
        found = matched.created + matched.updated
    return Added(rows, found)


def parse_file(data: bytes, fmt: str) -> list[tuple[int, dict[str, Any]]]:
    """A file of remains as (line, row): CSV with a header naming the fields, or JSON lines (an object a
    line)."""
    if len(data) > MAX_IMPORT_BYTES:
        raise refuse("too_large", "file", "the file is larger than %(n)s bytes", n=MAX_IMPORT_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise refuse("invalid", "file", "the file is not UTF-8") from None
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        try:
            return [(reader.line_num, row) for row in reader if any((v or "").strip() for v in row.values())]
        except csv.Error as e:
            raise refuse("invalid", "file", "is not valid CSV (%(why)s)", why=str(e)) from None
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as e:
            raise refuse("invalid", f"line {n}", "is not JSON: %(why)s", why=str(e)) from None
        if not isinstance(row, dict):
            raise refuse("invalid", f"line {n}", "must be an object of fields")
        rows.append((n, row))
    return rows


def import_remains(
    session: Session, actor: str, rows: list[tuple[int, dict[str, Any]]], *, matching: Matching
) -> Added:
    """Many records at once, all or none: every problem of every row is reported (line: field: why)."""
    recs: list[RemainsIn] = []
    errors: list[RowError] = []
    for n, row in rows:
        got = validate_remains(row, n)
        if isinstance(got, list):
            errors.extend(got)
        else:
            recs.append(got)
    ids = [r.record_id for r in recs if r.record_id]
    if len(ids) != len(set(ids)):
        dup = next(i for i in ids if ids.count(i) > 1)
        errors.append(RowError(0, "record_id", "'%(id)s' appears twice in the file", (("id", dup),)))
    if errors:
        raise _refused(errors, lines=True)
    return _written(session, actor, recs, matching)


def list_remains(
    session: Session, actor: str, *, state: str | None = None, limit: int = 500
) -> list[Remains]:
    """Records of remains, the latest found first; the read is audited with its filter and the ids shown."""
    if state is not None and state not in STATES:
        raise refuse("invalid", "state", "the state is one of %(states)s", states=", ".join(STATES))
    q = select(Remains).order_by(Remains.found_date.desc(), Remains.id.desc()).limit(limit)
    if state:
        q = q.where(Remains.state == state)
    rows = list(session.scalars(q))
    record_read(session, actor, "remains", [r.id for r in rows], "list", {"state": state})
    return rows


def read_remains(session: Session, actor: str, remains_id: int, view: str) -> Remains:
    rem = session.get(Remains, remains_id)
    if rem is None:
        raise refuse("not_found", "remains_id", "no record of remains %(id)s", id=remains_id)
    audit(session, actor, "read", "remains", rem.id, {"view": view})
    return rem


def read_candidates(session: Session, actor: str, remains_id: int) -> list[RemainsCandidate]:
    return rm.candidates_of(session, actor, remains_id)


def _checked_text(name: str, value: str | None, limit: int, needed: str) -> str:
    text = (value or "").strip()
    found = text_problem(text, multiline=True)
    if found:
        raise refuse("invalid", name, found[0], **found[1])
    if not text:
        raise refuse("invalid", name, needed)
    if len(text) > limit:
        raise refuse("invalid", name, "at most %(n)s characters", n=limit)
    return text


def _pending(session: Session, candidate_id: int, expected_version: int | None) -> RemainsCandidate:
    cand = rm.get_candidate(session, candidate_id, expected_version)
    if cand.state != "pending":
        raise refuse("conflict", "candidate_id", "candidate %(id)s has already been decided", id=cand.id)
    return cand


def reject(
    session: Session, actor: str, candidate_id: int, reason: str | None, expected_version: int | None = None
) -> RemainsCandidate:
    """Not this person: the candidate is rejected, with its reason (kept in the audit log)."""
    text = _checked_text("reason", reason, MAX_REASON, "a decision needs a reason")
    log = AuditLog(session, actor)
    log.lock()
    cand = _pending(session, candidate_id, expected_version)
    rm.set_state(session, log, cand, "rejected", actor)
    log.add("reason", "remains_candidate", cand.id, {"decision": "rejected", "reason": text})
    log.flush()
    return cand


def identify(
    session: Session,
    actor: str,
    candidate_ids: Sequence[int],
    reason: str | None,
    source: str | None,
    *,
    matching: Matching,
) -> Identified:
    """Confirm that the remains are one person: `candidate_ids` are candidates of the same remains, at most
    one a missing person's record, the others requests for that person. `source` says how it was confirmed
    (a DNA report, a dental comparison, a relative's recognition...). Both sides are closed."""
    text = _checked_text("reason", reason, MAX_REASON, "a decision needs a reason")
    confirmed_by = _checked_text(
        "source", source, MAX_SOURCE, "say how the identification was confirmed (DNA, dental records...)"
    )
    if not candidate_ids:
        raise refuse("invalid", "candidate_id", "choose the candidate the remains are identified as")
    log = AuditLog(session, actor)
    log.lock()
    cands = [_pending(session, cid, None) for cid in dict.fromkeys(candidate_ids)]
    if len({c.remains_id for c in cands}) > 1:
        raise refuse("invalid", "candidate_id", "the candidates are of different remains")
    persons = {c.person_id for c in cands if c.person_id is not None}
    if len(persons) > 1:
        raise refuse("invalid", "candidate_id", "the remains are one person: choose at most one record")
    rem = session.get(Remains, cands[0].remains_id)
    if rem is None or rem.state != "unidentified":
        raise refuse("conflict", "candidate_id", "these remains are already identified")
    requests = [r for c in cands if (r := session.get(TracingRequest, c.request_id or 0)) is not None]
    log.flush()
    person_id = next(iter(persons), None) or next(
        (r.matched_person_id for r in requests if r.matched_person_id), None
    )
    if person_id is None:
        person_id = _record_for_request(session, actor, requests[0], rem, matching)
    notes = records.add_event(
        session, actor, person_id, "died", rem.found_date, rem.found_place, confirmed_by, matching=matching
    ).notifications
    log = AuditLog(session, actor)
    for cand in cands:
        rm.set_state(session, log, cand, "confirmed", actor)
        log.add("reason", "remains_candidate", cand.id, {"decision": "confirmed", "reason": text})
    rm.close_others(session, log, rem.id, actor)
    log.add(
        "update",
        "remains",
        rem.id,
        {"state": [rem.state, "identified"], "person_id": person_id, "source": confirmed_by},
    )
    rem.state, rem.identified_person_id, rem.identified_source = "identified", person_id, confirmed_by
    rem.identified_by, rem.identified_at, rem.updated_at = actor, utcnow(), utcnow()
    session.flush()
    log.flush()
    for cand in cands:
        if cand.request_id is None:
            continue
        match = rm.request_match_for(session, log, cand, person_id, matching.model)
        log.flush()
        # The request moves, and its family is told, through the one decision function.
        if match.state == "pending":
            notes += decide(
                session, actor, match.id, "confirmed", text, None, model=matching.model
            ).notifications
    return Identified(rem, person_id, [c.request_id for c in cands if c.request_id is not None], notes)


def _record_for_request(
    session: Session, actor: str, req: TracingRequest, rem: Remains, matching: Matching
) -> int:
    """A request's person has no record: one is made from the request, in the remains' source."""
    values = {
        "record_id": f"{rem.record_id}",
        "full_name": req.full_name,
        "sex": req.sex or rem.sex,
        "birth_date": req.birth_date,
        "age": req.age,
        "age_as_of": req.age_as_of,
        "distinguishing_marks": rem.marks,
    }
    try:
        written = records.create_record(
            session,
            actor,
            {k: v for k, v in values.items() if v is not None},
            matching=Matching(matching.model, on_write=False),
            source=REMAINS_SOURCE,
        )
    except Refused as e:
        raise refuse(
            "invalid", "request_id", "the request's person cannot be recorded: %(why)s", why=str(e)
        ) from None
    return written.person.id


@dataclass
class RemainsCase:
    """A record of remains with its candidates, and who each candidate is (a record's name, a request's
    reference and name): what the registrar's page shows."""

    remains: Remains
    candidates: list[RemainsCandidate]
    names: dict[int, str]  # candidate id -> the record's or the request's name
    labels: dict[int, str]  # candidate id -> "#id" of the record or the request's reference


def read_case(session: Session, actor: str, remains_id: int, view: str) -> RemainsCase:
    """Audited: the remains read, and the candidates' list with their ids."""
    rem = read_remains(session, actor, remains_id, view)
    cands = read_candidates(session, actor, remains_id)
    names: dict[int, str] = {}
    labels: dict[int, str] = {}
    for c in cands:
        if c.person_id is not None:
            person = session.get(Person, c.person_id)
            names[c.id], labels[c.id] = (person.full_name if person else ""), f"#{c.person_id}"
        else:
            req = session.get(TracingRequest, c.request_id)
            names[c.id], labels[c.id] = (req.full_name, req.reference) if req else ("", "")
    return RemainsCase(rem, cands, names, labels)
