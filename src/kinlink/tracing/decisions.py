"""A caseworker's decision on a candidate: the one action behind the review page, the API and
`kinlink candidates decide`.

What a family is told follows from these decisions, so each needs a reason (kept in the audit log beside
the decision), is taken under the audit lock against the version the caseworker saw (two reviewers
deciding at once are served one after the other, the second refused), moves the request's state, and
queues the family's notification. Setting a candidate back to pending undoes a decision, with its reason.

A decision is taken one step at a time: a pending candidate is confirmed or rejected; a decided one is
only undone (back to pending, with its reason), never flipped from confirmed to rejected in one act
(`NEXT`). Before deciding, a door shows what the decision will do and who will be told (`preview`); after
it, what was done (`last_decision`): both as messages (an English msgid and its values) that each door
renders in its reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.errors import refuse
from kinlink.matching.model import Model
from kinlink.messages import Message, say
from kinlink.person.text import text_problem
from kinlink.store.audit import AuditLog
from kinlink.store.casework_models import Notification
from kinlink.store.models import AuditEntry, Person, utcnow
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from kinlink.tracing.candidates import STATES, SUPERSEDED, current_version
from kinlink.tracing.clusters import recluster
from kinlink.tracing.disclosure import TOLD, outcome_of_match, verification_of
from kinlink.tracing.notifications import email_of, news_for_requests

MAX_REASON = 2000
UNDO = "pending"  # undoing a decision sets the candidate back to pending
# What may be decided next, from each state: a decided candidate is only undone, with a reason.
NEXT: dict[str, tuple[str, ...]] = {
    "pending": ("confirmed", "rejected"),
    "confirmed": (UNDO,),
    "rejected": (UNDO,),
    SUPERSEDED: (UNDO,),
}


def next_decisions(state: str) -> tuple[str, ...]:
    """The decisions a caseworker may take on a candidate in this state (what a door offers)."""
    return NEXT.get(state, ())


@dataclass
class Consequences:
    """What a decision does, or did, and who is told: messages for the caseworker (msgid and values)."""

    candidate_id: int
    before: str  # the candidate's state before the decision
    decision: str
    reference: str | None  # the request's, when the candidate is a request's
    said: list[Message]


@dataclass
class Decided:
    candidate: MatchCandidate
    notifications: list[Notification]
    consequences: Consequences | None = None


def _family_told(session: Session, req: TracingRequest, person_id: int) -> list[Message]:
    """What confirming a match to this record tells the family of `req`, and how."""
    if verification_of(session, req.id) is None:
        return [
            say(
                "The enquirer is not verified yet: the family will only read that the request is being "
                "handled until a caseworker records how they were verified (on the case page)."
            )
        ]
    outcome = outcome_of_match(session, person_id)
    if outcome.stage == "found":
        out = [say("The family will be told that the person was found alive.")]
        items = outcome.items
        if items.get("situation") == "held":
            out.append(say("They will be told that the person is held."))
        if "location" in items:
            out.append(say("They will be told where the person is (the person agreed to share it)."))
        if "health" in items:
            out.append(say("They will be told the person's state of health (the person agreed)."))
        if "photo" in items:
            out.append(say("They will see the person's photo (the person agreed)."))
    elif outcome.stage == "dead":
        out = [say("The family will be told of the death, as the registrar decided.")]
    elif outcome.stage == "death_reported":
        out = [
            say(
                "The death is known only from open sources or a member of the public: the family will be "
                "told of a report under verification, not of a death."
            )
        ]
    elif (person := session.get(Person, person_id)) is not None and person.status == "dead":
        out = [
            say(
                "The registrar has not decided to tell families of this death: the family will only "
                "read that the request is being handled.",
            )
        ]
    else:
        out = [
            say(
                "The person has not agreed that the family is told: the family will only read that the "
                "request is being handled.",
            )
        ]
    if outcome.stage in TOLD:
        if email_of(req):
            out.append(say("They will get an email, and read it on their status page."))
        else:
            out.append(
                say("They gave no email address: they will read it when they next check their request.")
            )
    return out


def consequences(
    session: Session, cand: MatchCandidate, decision: str, before: str | None = None
) -> Consequences:
    """What taking `decision` on `cand` does (or did, from the state `before` it), and who is told."""
    before = before or cand.state
    req = session.get(TracingRequest, cand.request_id) if cand.request_id is not None else None
    ref = req.reference if req is not None else None
    said: list[Message] = []
    if req is None:
        if decision == "confirmed":
            said.append(say("The two records will be kept together as one person."))
        elif before == "confirmed":
            said.append(say("The two records will no longer be kept together as one person."))
        said.append(say("No family is told: this links two records of the registry."))
    elif decision == "confirmed":
        if req.state == "closed":
            said.append(
                say("Request %(ref)s is closed: it stays closed, and its family is not told.", ref=ref)
            )
        else:
            said.append(
                say(
                    "Request %(ref)s will be matched to record #%(record)s.",
                    ref=ref,
                    record=cand.person_id,
                )
            )
            said.extend(_family_told(session, req, cand.person_id))
    elif decision == "rejected":
        said.append(say("Nobody is told: families are not told of candidates that are not their relative."))
    elif before == "confirmed":
        said.append(say("Request %(ref)s goes back to being checked.", ref=ref))
        said.append(
            say(
                "The family's status page will again say only that the request is being handled. No email "
                "is sent: if the family was told of this match, contact them.",
            )
        )
    else:
        said.append(say("The candidate goes back to the queue, to be decided again. Nobody is told."))
    return Consequences(cand.id, before, decision, ref, said)


def _allowed(cand: MatchCandidate, decision: str) -> None:
    if decision not in next_decisions(cand.state):
        if decision == UNDO:
            raise refuse(
                "conflict",
                "decision",
                "candidate %(id)s is pending: there is no decision to undo",
                id=cand.id,
            )
        raise refuse(
            "conflict",
            "decision",
            "candidate %(id)s has already been decided: undo that decision first, with its reason",
            id=cand.id,
        )


def _earlier_confirmed(session: Session, cand: MatchCandidate) -> list[MatchCandidate]:
    if cand.request_id is None:
        return []  # two records of one person: any number of pairs may be confirmed (they form a cluster)
    return list(
        session.scalars(
            select(MatchCandidate).where(
                MatchCandidate.request_id == cand.request_id,
                MatchCandidate.state == "confirmed",
                MatchCandidate.id != cand.id,
            )
        )
    )


def _current(session: Session, candidate_id: int, expected_version: int | None) -> MatchCandidate:
    cand: MatchCandidate = current_version(session, MatchCandidate, candidate_id, expected_version)
    return cand


def preview(
    session: Session,
    candidate_id: int,
    decision: str,
    reason: str | None,
    expected_version: int | None,
    *,
    supersede: bool = False,
) -> Consequences:
    """The checks of `decide`, without writing anything, and what the decision would do: the step a door
    shows before the caseworker confirms (refused as `decide` would refuse)."""
    _checked(decision, reason)
    cand = _current(session, candidate_id, expected_version)
    _allowed(cand, decision)
    earlier = _earlier_confirmed(session, cand) if decision == "confirmed" else []
    if earlier and not supersede:
        raise _supersede_refusal(earlier[0])
    out = consequences(session, cand, decision)
    if earlier:
        out.said.insert(
            0,
            say(
                "The confirmed match (candidate %(id)s) will be replaced: it is marked superseded.",
                id=earlier[0].id,
            ),
        )
    return out


def last_decision(session: Session, candidate_id: int) -> tuple[Consequences, str, str] | None:
    """What the latest decision on a candidate did and who was told, with who took it and its reason (for
    the notice a door shows after deciding); None if it was never decided."""
    cand = session.get(MatchCandidate, candidate_id)
    if cand is None:
        return None
    entries = list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity == "match_candidate",
                AuditEntry.entity_id == str(candidate_id),
                AuditEntry.action.in_(("update", "reason")),
            )
            .order_by(AuditEntry.id.desc())
            .limit(6)
        )
    )
    reason = next((e for e in entries if e.action == "reason"), None)
    change = next((e for e in entries if e.action == "update" and "state" in (e.changes or {})), None)
    if reason is None or change is None:
        return None
    before, after = change.changes["state"]
    return consequences(session, cand, after, before), reason.actor, str(reason.changes.get("reason", ""))


def _checked(decision: str, reason: str | None) -> str:
    if decision not in STATES:
        raise refuse("invalid", "decision", "the decision is confirmed, rejected or pending")
    text = (reason or "").strip()
    if not text:
        raise refuse("invalid", "reason", "a decision needs a reason")
    found = text_problem(text)
    if found:
        raise refuse("invalid", "reason", found[0], **found[1])
    if len(text) > MAX_REASON:
        raise refuse("invalid", "reason", "at most %(n)s characters", n=MAX_REASON)
    return text


def _move_request(session: Session, audit: AuditLog, cand: MatchCandidate, decision: str) -> None:
    """A confirmation matches the request to the record; undoing it (or rejecting the matched record)
    sends the request back to its candidates. A closed request stays closed."""
    req = session.get(TracingRequest, cand.request_id) if cand.request_id is not None else None
    if req is None or req.state == "closed":
        return
    if decision == "confirmed":
        new_state, matched = "matched", cand.person_id
    elif req.matched_person_id == cand.person_id:
        new_state, matched = "candidates", None
    else:
        new_state, matched = req.state, req.matched_person_id
    if (new_state, matched) != (req.state, req.matched_person_id):
        audit.add(
            "update",
            "tracing_request",
            req.id,
            {"state": [req.state, new_state], "matched_person_id": [req.matched_person_id, matched]},
        )
        req.state, req.matched_person_id, req.updated_at = new_state, matched, utcnow()
        session.flush()


def _supersede_refusal(earlier: MatchCandidate) -> Exception:
    return refuse(
        "conflict",
        "supersede",
        "the request already has a confirmed match (candidate %(id)s): replace it explicitly, with a reason",
        id=earlier.id,
    )


def _supersede(session: Session, audit: AuditLog, cand: MatchCandidate, supersede: bool, reason: str) -> None:
    """A request has one confirmed match. Confirming another candidate of it replaces the confirmed one
    only when the caseworker says so (`supersede`); the earlier one is then marked superseded."""
    earlier = _earlier_confirmed(session, cand)
    if earlier and not supersede:
        raise _supersede_refusal(earlier[0])
    for old in earlier:
        old.state, old.updated_at = SUPERSEDED, utcnow()
        session.flush()
        audit.add("update", "match_candidate", old.id, {"state": ["confirmed", SUPERSEDED], "by": cand.id})
        audit.add("reason", "match_candidate", old.id, {"decision": SUPERSEDED, "reason": reason})


def decide(
    session: Session,
    actor: str,
    candidate_id: int,
    decision: str,
    reason: str | None,
    expected_version: int | None,
    *,
    model: Model,
    supersede: bool = False,
) -> Decided:
    """Confirm, reject, or undo (`pending`) a decision on a candidate; `expected_version` is the version
    the caseworker saw (None: whatever it is now, for a door whose user named no version; the rule of what
    may follow what still holds). Confirming a second match for a request is refused unless `supersede`
    says to replace the first."""
    reason_text = _checked(decision, reason)
    audit = AuditLog(session, actor)
    # The lock first, then the read: two reviewers deciding at once are served one after the other, and
    # the second sees the first's decision (a new version) instead of overwriting it.
    audit.lock()
    cand = _current(session, candidate_id, expected_version)
    _allowed(cand, decision)
    said = consequences(session, cand, decision)
    if decision == "confirmed":
        _supersede(session, audit, cand, supersede, reason_text)
    before = cand.state
    cand.state = decision
    cand.decided_by = actor if decision != "pending" else None
    cand.decided_at = utcnow() if decision != "pending" else None
    cand.updated_at = utcnow()
    session.flush()  # the version check happens here too, against concurrent writers
    audit.add("update", "match_candidate", cand.id, {"state": [before, decision]})
    # The tracing tables have no place for the reason: it is kept in the audit log with the decision.
    audit.add("reason", "match_candidate", cand.id, {"decision": decision, "reason": reason_text})
    _move_request(session, audit, cand, decision)
    if cand.left_person_id is not None:
        recluster(session, audit, model)
    audit.flush()
    notes: list[Notification] = []
    if cand.request_id is not None:
        req = session.get(TracingRequest, cand.request_id)
        if req is not None:
            notes = news_for_requests(session, [req], "match_confirmed")
    return Decided(cand, notes, said)


def undo(
    session: Session,
    actor: str,
    candidate_id: int,
    reason: str | None,
    expected_version: int | None,
    *,
    model: Model,
) -> Decided:
    """Undo the decision on a candidate (back to pending), with its reason: itself a recorded decision."""
    return decide(session, actor, candidate_id, UNDO, reason, expected_version, model=model)
