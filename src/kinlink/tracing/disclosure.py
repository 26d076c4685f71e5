"""What a family may learn, following the Restoring Family Links practice.

Until a caseworker has recorded how the enquirer was verified (who they are, how they are related), the
family learns only that its request is being handled, whatever else is known: every family door (the web
pages, the API, emails, the bot) reads what it may say from here. Until a caseworker confirms a match the
family learns only that its request is being handled too. After a confirmed match it learns what the
found person consented to share: that the person is alive (and held or not), where, the state of health,
a photo. Without consent to inform the family, nothing more than "being handled". A death is told only
as the registrar decided for that person, and as a fact only when it is known from more than open sources or
a member of the public (issue 21 item 4): otherwise as a report under verification, or not at all, as the
bureau configures (Bureau.unconfirmed_deaths). Every disclosure is recorded: what, to whom, when, under which
consent and which verification of the enquirer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from kinlink.bureau import WITHHOLD, Bureau
from kinlink.person.confirmation import is_confirmed, strongest
from kinlink.person.status import PlacedEvent, current_place
from kinlink.store.audit import record as audit
from kinlink.store.casework_models import Attachment, DeathDisclosure, Disclosure, EnquirerVerification
from kinlink.store.models import Person, utcnow

HELD = frozenset({"captured", "interned", "wounded", "hospitalised", "seriously_ill"})
NO_LONGER_HELD = frozenset({"released", "repatriated", "escaped"})
HEALTH_EVENTS = frozenset({"wounded", "hospitalised", "seriously_ill"})
DEATH_EVENTS = ("died", "buried")
# The stages that tell the family something about the person (recorded as disclosures, announced as news).
TOLD = frozenset({"found", "dead", "death_reported"})


@dataclass
class Outcome:
    """What the family of one request may be told now.

    stage: 'in_progress' (nothing more may be said), 'closed' (the request was closed without a match),
    'found' (a confirmed match the person consented to tell), 'dead' (a death the registrar decided to tell),
    'death_reported' (a death the registrar decided to tell that is known only from open sources or a
    member of the public: told as a report under verification, never as a fact).
    """

    stage: str
    items: dict[str, Any] = field(default_factory=dict)
    person_id: int | None = None
    consent: dict[str, Any] = field(default_factory=dict)
    verified: bool = False  # a caseworker verified the enquirer (until then the stage is in_progress)

    @property
    def messages_allowed(self) -> bool:
        """Family news (GC III Art. 71) flows only to a found, living person who agreed to the contact."""
        return self.stage == "found"

    def digest(self) -> str:
        body = json.dumps([self.stage, self.person_id, self.items], sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()


class RequestFacts(Protocol):
    """What deciding a family's outcome reads of its request: a TracingRequest, or a row of these columns
    (the family's page reads them in one statement with the standing verification)."""

    @property
    def id(self) -> int: ...
    @property
    def reference(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def matched_person_id(self) -> int | None: ...


class VerificationFacts(Protocol):
    """What a disclosure records of the verification that stands: an EnquirerVerification, or such a row."""

    @property
    def id(self) -> int: ...
    @property
    def method(self) -> str: ...
    @property
    def recorded_by(self) -> str: ...
    @property
    def recorded_at(self) -> datetime: ...


# disclose(): the standing verification not read yet (None is "none stands").
_UNREAD: Any = object()


def latest_verification(request_id: Any) -> Any:
    """The id of the request's latest recorded verification: the one that stands unless withdrawn
    (`verification_of`; the family's view reads it joined to its request)."""
    return (
        select(func.max(EnquirerVerification.id))
        .where(EnquirerVerification.request_id == request_id)
        .scalar_subquery()
    )


def verification_of(session: Session, request_id: int) -> EnquirerVerification | None:
    """The verification of the request's enquirer that stands: the latest recorded, unless withdrawn."""
    row = session.scalar(
        select(EnquirerVerification).where(EnquirerVerification.id == latest_verification(request_id))
    )
    return row if row is not None and row.withdrawn_at is None else None


def _verified_by(row: VerificationFacts) -> dict[str, Any]:
    return {"id": row.id, "method": row.method, "by": row.recorded_by, "at": row.recorded_at.isoformat()}


def _consent(person: Person, death: DeathDisclosure | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "inform_family": person.consent_inform_family,
        "share_location": person.consent_share_location,
        "share_health": person.consent_share_health,
        "share_photo": person.consent_share_photo,
    }
    if death is not None:
        out["death"] = {
            "disclose": death.disclose,
            "include_place": death.include_place,
            "decided_by": death.decided_by,
        }
    return out


def outcome_for(session: Session, req: RequestFacts) -> Outcome:
    return outcome_given(session, req, verification_of(session, req.id))


def outcome_given(session: Session, req: RequestFacts, verified: VerificationFacts | None) -> Outcome:
    """outcome_for, with the request's standing verification (or None) already read."""
    told = outcome_unmatched(req, verified)
    if told is not None:
        return told
    assert verified is not None and req.matched_person_id is not None
    outcome = outcome_of_match(session, req.matched_person_id)
    outcome.verified = True
    if outcome.stage in TOLD:
        outcome.consent["enquirer_verification"] = _verified_by(verified)
    return outcome


def outcome_unmatched(req: RequestFacts, verified: VerificationFacts | None) -> Outcome | None:
    """The outcome where no record need be read (none is then disclosed): an enquirer nobody verified, or
    a request with no match. None where the request's match decides it (`outcome_given`)."""
    if verified is None:
        # Nothing but "being handled" to an enquirer nobody has verified: not a match, not a closure.
        return Outcome("in_progress")
    if req.state != "matched" or req.matched_person_id is None:
        return Outcome("closed" if req.state == "closed" else "in_progress", verified=True)
    return None


def death_level(person: Person) -> str | None:
    """How the person's death is known: the best-confirmed of its death events."""
    return strongest(e.confirmation for e in person.events if e.kind in DEATH_EVENTS)


def outcome_of_match(session: Session, person_id: int, bureau: Bureau | None = None) -> Outcome:
    """What the family of a request matched to this record may be told (also before a confirmation, to
    show the caseworker what confirming will tell)."""
    person = session.scalar(select(Person).where(Person.id == person_id).options(selectinload(Person.events)))
    if person is None:
        return Outcome("in_progress")
    death = session.get(DeathDisclosure, person.id)
    consent = _consent(person, death)
    if person.status == "dead":
        if death is None or not death.disclose:
            return Outcome("in_progress", person_id=person.id, consent=consent)
        level = death_level(person)
        consent["death_level"] = level
        if not is_confirmed(level):
            if (bureau or Bureau()).unconfirmed_deaths == WITHHOLD:
                return Outcome("in_progress", person_id=person.id, consent=consent)
            # A report, with its date: never its place (it is only what was reported).
            return Outcome(
                "death_reported", {"reported": True, "date": person.status_date}, person.id, consent
            )
        items: dict[str, Any] = {"dead": True, "date": person.status_date}
        if death.include_place:
            places = [e.place for e in person.events if e.kind in DEATH_EVENTS and e.place]
            items["place"] = places[-1] if places else None
        return Outcome("dead", items, person.id, consent)
    if not person.consent_inform_family:
        return Outcome("in_progress", person_id=person.id, consent=consent)

    situation = (
        "held" if person.status in HELD else "released" if person.status in NO_LONGER_HELD else "alive"
    )
    items = {"situation": situation, "since": person.status_date}
    if person.consent_share_location:
        items["location"] = current_place(
            (PlacedEvent(e.kind, e.date, e.place, e.id or 0) for e in person.events), person.location
        )
    if person.consent_share_health:
        health = [e for e in person.events if e.kind in HEALTH_EVENTS]
        items["health"] = {"kind": health[-1].kind, "date": health[-1].date} if health else None
    if person.consent_share_photo:
        photo = session.scalar(
            select(Attachment.id)
            .where(Attachment.person_id == person.id, Attachment.kind == "photo")
            .order_by(Attachment.id.desc())
            .limit(1)
        )
        if photo is not None:
            items["photo"] = photo
    return Outcome("found", items, person.id, consent)


def disclose(
    session: Session, req: RequestFacts, channel: str, verified: VerificationFacts | None = _UNREAD
) -> Outcome:
    """The outcome as shown to the family, recorded when it tells something not told before.

    Showing the same facts again is not a new disclosure; a change (a new status, a withdrawn or given
    consent) is recorded anew. `verified`: the request's standing verification (or None), when the caller
    has read it already.
    """
    if verified is _UNREAD:
        verified = verification_of(session, req.id)
    outcome = outcome_given(session, req, verified)
    if outcome.stage not in TOLD:
        return outcome
    digest = outcome.digest()
    last = session.scalar(
        select(Disclosure.digest)
        # A certificate is a disclosure of its own, on paper: it does not stand for what a page showed.
        .where(Disclosure.request_id == req.id, Disclosure.channel != "certificate")
        .order_by(Disclosure.id.desc())
        .limit(1)
    )
    if last != digest:
        row = Disclosure(
            request_id=req.id,
            person_id=outcome.person_id,
            recipient=f"enquirer of {req.reference}",
            channel=channel,
            items={"stage": outcome.stage, **outcome.items},
            consent=outcome.consent,
            digest=digest,
        )
        session.add(row)
        session.flush()
        audit(
            session,
            f"family:request-{req.id}",
            "disclose",
            "tracing_request",
            req.id,
            {
                "disclosure": row.id,
                "person_id": outcome.person_id,
                "items": sorted(outcome.items),
                "enquirer_verification": outcome.consent.get("enquirer_verification", {}).get("id"),
            },
        )
    return outcome


def disclosures_of(session: Session, request_id: int) -> list[Disclosure]:
    return list(
        session.scalars(select(Disclosure).where(Disclosure.request_id == request_id).order_by(Disclosure.id))
    )


def read_disclosures(session: Session, actor: str, request_id: int, view: str) -> list[Disclosure]:
    """What was told to a request's family, for staff: what was told about a person is that person's
    details, so each person named is a read, audited like the record."""
    rows = disclosures_of(session, request_id)
    for pid in sorted({d.person_id for d in rows if d.person_id is not None}):
        audit(session, actor, "read", "person", pid, {"view": f"{view} disclosures of request {request_id}"})
    return rows


def record_death_decision(
    session: Session, actor: str, person_id: int, disclose_death: bool, include_place: bool
) -> DeathDisclosure:
    row = session.get(DeathDisclosure, person_id)
    before = None if row is None else [row.disclose, row.include_place]
    if row is None:
        row = DeathDisclosure(person_id=person_id, decided_by=actor)
        session.add(row)
    row.disclose, row.include_place, row.decided_by = disclose_death, include_place and disclose_death, actor
    row.decided_at = utcnow()
    session.flush()
    audit(
        session,
        actor,
        "update",
        "death_disclosure",
        person_id,
        {"disclose": [before, [row.disclose, row.include_place]]},
    )
    return row


def death_decision(session: Session, person_id: int) -> DeathDisclosure | None:
    """The registrar's decision on telling this person's death, if one was taken."""
    return session.get(DeathDisclosure, person_id)
