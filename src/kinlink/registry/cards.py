"""Capture cards (GC III Art. 70) and internment cards (GC IV Art. 106), written from a record.

A card is a read of the person's details and a disclosure, to the Central Tracing Agency and through it to
the family, so each card written is audited as both, with the hash of the file. The card is written in the
person's language (their own, else the language their name is written in) and the bureau's (the detaining
power's); kinlink has translations for en, ro, ru and uk, and writes any other language's side in English.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from kinlink.bureau import Bureau
from kinlink.errors import refuse
from kinlink.pdf.cards import KINDS, CardContent, render
from kinlink.pdf.layout import paper_languages
from kinlink.registry.people import find_person, get_person, history_in_order
from kinlink.store.audit import AuditLog
from kinlink.store.models import Event, Person

# Item 10: since when the person is held, by the card; a later move makes the card say where they came from.
HELD_FROM = {"capture": ("captured", "interned"), "internment": ("interned", "captured")}
MOVES = ("transferred", "hospitalised")


@dataclass
class Card:
    content: CardContent
    pdf: bytes
    file_name: str


def _joined(*parts: str | None) -> str | None:
    text = ", ".join(p.strip() for p in parts if p and p.strip())
    return text or None


def _dated(event: Event | None) -> str | None:
    return None if event is None else _joined(event.date, event.place)


def since(person: Person, kind: str) -> tuple[bool, str | None]:
    """Item 10 of the card: (moved, text). Held since the first capture (or internment); after a later
    transfer or stay in hospital, where the person came from and when."""
    events = history_in_order(person)
    first = next((e for k in HELD_FROM[kind] for e in events if e.kind == k), None)
    if first is None:
        return False, None
    later = [e for e in events[events.index(first) + 1 :] if e.kind in MOVES]
    if not later:
        return False, _dated(first)
    move = later[-1]
    before = [e for e in events[: events.index(move)] if e.place]
    came_from = before[-1].place if before else None
    return True, _joined(came_from, move.date)


def last_place(person: Person) -> str | None:
    """Where the person was last taken (captured, interned, transferred, to hospital), when the record has no
    place of internment."""
    places = [
        e.place for e in history_in_order(person) if e.kind in (*HELD_FROM["capture"], *MOVES) and e.place
    ]
    return places[-1] if places else None


def content_of(
    person: Person, kind: str, languages: tuple[str, ...], bureau: Bureau, today: date
) -> CardContent:
    """What the card says, from the record (pure: no audit)."""
    primary = person.names[0] if person.names else None
    family_name = primary.family_name if primary and primary.family_name else person.full_name
    given = " ".join(p for p in (primary.given_names, primary.patronymic) if p) if primary else None
    birth = person.birth_date or (f"{person.age} ({person.age_as_of})" if person.age is not None else None)
    moved, since_text = since(person, kind)
    values = {
        "power": person.power,
        "nationality": person.nationality,
        "family_name": family_name,
        "given_names": given or None,
        "father_name": person.father_name,
        "birth_date": birth,
        "place_of_birth": person.place_of_birth,
        "rank": person.rank,
        "service_number": person.service_number,
        "occupation": person.occupation,
        "address_before": person.residence,
        "family_address": _joined(person.inform_name, person.inform_address),
        "since": since_text,
        "date": today.isoformat(),
    }
    return CardContent(
        kind=kind,
        languages=languages,
        values=values,
        health_state=person.health_state,
        moved=moved,
        number=person.detainee_number,
        place=person.location or last_place(person),
        bureau=bureau.name,
        detaining_power=person.detaining_power,
        reference=f"{person.source.name}:{person.source_record_id}",
        issued_on=today.isoformat(),
    )


def card_languages(person: Person, bureau: Bureau) -> tuple[str, ...]:
    """The person's language (else their name's), then the bureau's."""
    name_language = person.names[0].language if person.names else None
    return paper_languages(person.language or name_language, bureau.language)


def write_card(
    session: Session,
    actor: str,
    ref: str | int,
    kind: str,
    *,
    languages: tuple[str, ...] | None = None,
    bureau: Bureau | None = None,
    today: date | None = None,
) -> Card:
    """The card of this record (its kinlink id, or source:record_id) as a PDF; audited as a read of the
    record and a disclosure to the Central Tracing Agency."""
    if kind not in KINDS:
        raise refuse("invalid", "kind", "a card is %(kinds)s", kinds=" or ".join(KINDS))
    person = get_person(session, ref) if isinstance(ref, int) else find_person(session, ref)
    if person is None:
        raise refuse(
            "not_found", "ref", "no record '%(ref)s': give a kinlink id or source:record_id", ref=ref
        )
    bureau = bureau or Bureau()
    langs = paper_languages(*languages) if languages else card_languages(person, bureau)
    content = content_of(person, kind, langs, bureau, today or date.today())
    pdf = render(content)
    log = AuditLog(session, actor)
    log.add(
        "disclose",
        "person",
        person.id,
        {
            "paper": f"{kind}_card",
            "to": "Central Tracing Agency",
            "languages": list(langs),
            "sha256": hashlib.sha256(pdf).hexdigest(),
        },
    )
    log.add("read", "person", person.id, {"view": f"{kind} card"})
    log.flush()
    return Card(content, pdf, f"{kind}-card-{person.id}.pdf")
