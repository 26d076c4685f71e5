"""PFIF 1.1 to 1.4 (the People Finder Interchange Format, http://zesty.ca/pfif/) read into registry rows.

No maintained PFIF library exists on PyPI (Person Finder's own reader is a Python 2 module inside its
application), so the versions' fields are listed here from the specification; XML is parsed with defusedxml.
The version is the document's namespace. Names by version: first_name/last_name (1.1, 1.2), full_name with
them (1.3), full_name/given_name/family_name/alternate_names (1.4); every line of a multi-line full_name is
a name form of its own (the same person in two scripts). Home address parts make the residence (street and
postal code stay in the staff notes), an age range is kept in the notes (a record holds one age), photo and
profile URLs are kept as references (never fetched), source_* and the author in the notes, expiry_date is
the record's retention. Every note becomes an event with its date, author, text and the level "reported by
a member of the public" (unless another kinlink wrote the note's level: kinlink:confirmation);
linked_person_record_id is kept with it. A person that holds only the fields of an expired record's
placeholder (PFIF 1.3 section 3.3) is a deletion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from kinlink.errors import Problem, Refused, invalid, refuse
from kinlink.person.confirmation import LEVELS, Confirmation
from kinlink.person.fields import RecordIn
from kinlink.person.partial_dates import DateError, parse_partial_date
from kinlink.person.rows import validate_row
from kinlink.person.status import EVENT_STATUS

NS_PREFIX = "http://zesty.ca/pfif/"
VERSIONS = ("1.1", "1.2", "1.3", "1.4")
# kinlink's own elements beside PFIF's (readers of PFIF ignore elements of other namespaces): the event a
# note stands for, its partial date and its confirmation level, so that kinlink-to-kinlink exchange keeps
# the history as it is (a death confirmed by documents stays a fact to tell a family, not a member of the
# public's report). A note without them (any other PFIF writer's) is read as PFIF says it.
KINLINK_NS = "https://kinlink.invalid/pfif"

_PERSON_1_1 = (
    "person_record_id", "entry_date", "author_name", "author_email", "author_phone", "source_name",
    "source_date", "source_url", "first_name", "last_name", "home_city", "home_state", "home_neighborhood",
    "home_street", "home_zip", "photo_url", "other",
)  # fmt: skip
_PERSON_1_2 = (
    "person_record_id", "entry_date", "author_name", "author_email", "author_phone", "source_name",
    "source_date", "source_url", "first_name", "last_name", "sex", "date_of_birth", "age", "home_street",
    "home_neighborhood", "home_city", "home_state", "home_postal_code", "home_country", "photo_url", "other",
)  # fmt: skip
_PERSON_1_3 = (
    "person_record_id", "entry_date", "expiry_date", "author_name", "author_email", "author_phone",
    "source_name", "source_date", "source_url", "full_name", "first_name", "last_name", "sex",
    "date_of_birth", "age", "home_street", "home_neighborhood", "home_city", "home_state",
    "home_postal_code", "home_country", "photo_url", "other",
)  # fmt: skip
_PERSON_1_4 = (
    "person_record_id", "entry_date", "expiry_date", "author_name", "author_email", "author_phone",
    "source_name", "source_date", "source_url", "full_name", "given_name", "family_name", "alternate_names",
    "description", "sex", "date_of_birth", "age", "home_street", "home_neighborhood", "home_city",
    "home_state", "home_postal_code", "home_country", "photo_url", "profile_urls",
)  # fmt: skip
_NOTE_1_1 = (
    "note_record_id", "entry_date", "author_name", "author_email", "author_phone", "source_date", "found",
    "email_of_found_person", "phone_of_found_person", "last_known_location", "text",
)  # fmt: skip
_NOTE_1_2 = (
    "note_record_id", "person_record_id", "linked_person_record_id", "entry_date", "author_name",
    "author_email", "author_phone", "source_date", "found", "status", "email_of_found_person",
    "phone_of_found_person", "last_known_location", "text",
)  # fmt: skip
_NOTE_1_4 = (
    "note_record_id", "person_record_id", "linked_person_record_id", "entry_date", "author_name",
    "author_email", "author_phone", "source_date", "author_made_contact", "status", "email_of_found_person",
    "phone_of_found_person", "last_known_location", "text", "photo_url",
)  # fmt: skip
PERSON_FIELDS = {"1.1": _PERSON_1_1, "1.2": _PERSON_1_2, "1.3": _PERSON_1_3, "1.4": _PERSON_1_4}
NOTE_FIELDS = {"1.1": _NOTE_1_1, "1.2": _NOTE_1_2, "1.3": _NOTE_1_2, "1.4": _NOTE_1_4}
# What an expired record's placeholder keeps (PFIF 1.3 section 3.3, 1.4 section 3.4).
PLACEHOLDER_FIELDS = frozenset({"person_record_id", "entry_date", "source_date", "expiry_date"})
NOTE_STATUSES = (
    "information_sought",
    "is_note_author",
    "believed_alive",
    "believed_missing",
    "believed_dead",
)

# A note's status -> the event it records. information_sought asks for news: a note, no change of status.
STATUS_TO_EVENT = {
    "believed_alive": "found",
    "is_note_author": "found",  # the person wrote the note themselves
    "believed_missing": "missing",
    "believed_dead": "died",
    "information_sought": "note",
}
SEX = {"female": "f", "male": "m"}
# How kinlink writes the name as written and the other name forms in 1.1-1.3's `other` (which has no field
# for them), and reads them back.
ALTERNATES_IN_OTHER = "alternate names:"
FULL_NAME_IN_OTHER = "full name:"
# Our column -> the PFIF field it comes from, to name the partner's field in a refusal.
PFIF_FIELD = {
    "record_id": "person_record_id",
    "birth_date": "date_of_birth",
    "sex": "sex",
    "age": "age",
    "age_as_of": "source_date",
    "expiry_date": "expiry_date",
    "alternate_names": "alternate_names",
    "notes": "description",
    "events": "note",
    "residence": "home_city",
}


def _bad(message: str, **values: object) -> Refused:
    return refuse("invalid", "body", message, **values)


@dataclass
class Document:
    version: str
    persons: list[dict[str, Any]]  # each with its notes under "notes"
    notes: list[dict[str, str]]  # the notes outside any person (1.2 and later)


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, name = tag[1:].split("}", 1)
        return ns, name
    return "", tag


def _fields(
    elem: Any, ns: str, allowed: tuple[str, ...], where: str, errors: list[Problem]
) -> dict[str, str]:
    out: dict[str, str] = {}
    for child in elem:
        cns, name = _local(child.tag)
        if cns == KINLINK_NS:
            out[f"kinlink:{name}"] = (child.text or "").strip()
            continue
        if cns != ns or name in ("note", "person"):
            continue  # another namespace's extension (ignored, as the specification asks) or a note
        if name not in allowed:
            errors.append(Problem(f"{where}.{name}", "is not a field of PFIF %(v)s", (("v", where),)))
            continue
        text = "".join(child.itertext()).strip()
        if text:
            out[name] = text
    return out


def parse(data: bytes) -> Document:
    """The document's persons and notes, as PFIF field -> text; refused whole when anything is wrong."""
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as e:
        raise _bad("the document uses forbidden XML features (%(what)s)", what=type(e).__name__) from None
    except SafeET.ParseError as e:
        raise _bad("not well-formed XML: %(why)s", why=str(e)) from None
    ns, name = _local(root.tag)
    if name != "pfif":
        raise _bad("the root element must be pfif:pfif")
    version = ns[len(NS_PREFIX) :] if ns.startswith(NS_PREFIX) else ""
    if version not in VERSIONS:
        raise _bad(
            "unknown namespace '%(ns)s': PFIF %(known)s are read (http://zesty.ca/pfif/1.4 ...)",
            ns=ns,
            known=", ".join(VERSIONS),
        )
    errors: list[Problem] = []
    persons, notes = [], []
    for child in root:
        cns, kind = _local(child.tag)
        if cns != ns:
            continue
        if kind == "person":
            p: dict[str, Any] = _fields(child, ns, PERSON_FIELDS[version], "person", errors)
            nested = []
            for n in child:
                if _local(n.tag) == (ns, "note"):
                    note = _fields(n, ns, NOTE_FIELDS[version], "note", errors)
                    # A note inside its person belongs to it (1.1 notes carry no person_record_id).
                    if p.get("person_record_id"):
                        note.setdefault("person_record_id", p["person_record_id"])
                    nested.append(note)
            p["notes"] = nested
            persons.append(p)
        elif kind == "note":
            if version == "1.1":
                errors.append(Problem("note", "PFIF 1.1 has notes only inside their person"))
                continue
            notes.append(_fields(child, ns, NOTE_FIELDS[version], "note", errors))
    if errors:
        # "is not a field of PFIF %(v)s" names the record kind; say the version instead.
        raise invalid(Problem(e.field, e.message, (("v", version),)) if e.values else e for e in errors[:50])
    return Document(version, persons, notes)


def is_placeholder(p: dict[str, Any]) -> bool:
    """An expired record's placeholder: only the fields it keeps, with its expiry date."""
    keys = {k for k in p if k != "notes" and not k.startswith("kinlink:")}
    return "expiry_date" in keys and keys <= PLACEHOLDER_FIELDS and not p.get("notes")


def _day(text: str | None) -> str | None:
    return (text or "")[:10] or None


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _names(p: dict[str, Any], version: str) -> tuple[str | None, str | None, str | None, list[str]]:
    """(full name, given names, family name, other name forms) as the version gives them."""
    given_key, family_key = ("given_name", "family_name") if version == "1.4" else ("first_name", "last_name")
    given, family = _lines(p.get(given_key)), _lines(p.get(family_key))
    forms = _lines(p.get("full_name")) if version in ("1.3", "1.4") else []
    if not forms and (given or family):
        # 1.1 and 1.2 (and a 1.3/1.4 record without full_name): the parts, the given names first.
        forms = [" ".join(x for x in (g, f) if x) for g, f in _zip_longest(given, family)]
    for line in _lines(p.get("other")):
        if line.lower().startswith(FULL_NAME_IN_OTHER) and line[len(FULL_NAME_IN_OTHER) :].strip():
            forms = [line[len(FULL_NAME_IN_OTHER) :].strip(), *forms[1:]]
    alternates = forms[1:] + _lines(p.get("alternate_names"))
    for line in _lines(p.get("other")):
        if line.lower().startswith(ALTERNATES_IN_OTHER):
            alternates += [a.strip() for a in line[len(ALTERNATES_IN_OTHER) :].split("|") if a.strip()]
    return (
        forms[0] if forms else None,
        given[0] if given else None,
        family[0] if family else None,
        list(dict.fromkeys(a for a in alternates if a != (forms[0] if forms else None))),
    )


def _zip_longest(a: list[str], b: list[str]) -> list[tuple[str, str]]:
    n = max(len(a), len(b))
    return [(a[i] if i < len(a) else "", b[i] if i < len(b) else "") for i in range(n)]


def _age(p: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(age, the date it was stated, an age range for the notes). PFIF 1.2+ ages are 'N' or 'MIN-MAX'."""
    raw = (p.get("age") or "").replace(" ", "")
    as_of = _day(p.get("source_date") or p.get("entry_date"))
    if raw.isdigit():
        return raw, as_of, None
    lo, sep, hi = raw.partition("-")
    if sep and lo.isdigit() and hi.isdigit():
        if lo == hi:
            return lo, as_of, None
        return None, None, f"{lo}-{hi}"
    return (raw or None), as_of, None  # refused by the row's checks, naming `age`


def note_event(n: dict[str, str]) -> dict[str, Any]:
    """One note as an event of the history (the registry's row format)."""
    status = n.get("status")
    kind = n.get("kinlink:event") or STATUS_TO_EVENT.get(status or "")
    if kind is None:
        # 1.1 has no status: a note whose author found (made contact with) the person says they are alive.
        made_contact = (n.get("author_made_contact") or n.get("found") or "").lower() == "true"
        kind = "found" if made_contact else "note"
    return {
        k: v
        for k, v in {
            "kind": kind,
            "date": n.get("kinlink:date") or _day(n.get("source_date") or n.get("entry_date")),
            "place": n.get("last_known_location"),
            "note": "\n".join(
                x for x in (n.get("text"), n.get("photo_url") and f"photo (reference): {n['photo_url']}") if x
            ),
            "author": n.get("author_name"),
            "ref": n.get("note_record_id"),
            # What anyone may write in a Person Finder, unless a kinlink kept how it knew the event.
            "confirmation": n.get("kinlink:confirmation") or Confirmation.PUBLIC.value,
        }.items()
        if v
    }


def check_note(n: dict[str, str], where: str) -> list[Problem]:
    """What is wrong with a note, each problem naming its PFIF field."""
    out = []
    if not n.get("note_record_id"):
        out.append(Problem(f"{where}.note_record_id", "is required"))
    if n.get("status") and n["status"] not in NOTE_STATUSES:
        out.append(
            Problem(
                f"{where}.status",
                "'%(value)s' is not a PFIF note status (%(known)s)",
                (("known", ", ".join(NOTE_STATUSES)), ("value", n["status"])),
            )
        )
    kind = n.get("kinlink:event")
    if kind and (kind not in EVENT_STATUS):
        out.append(Problem(f"{where}.kinlink:event", "'%(value)s' is not an event", (("value", kind),)))
    level = n.get("kinlink:confirmation")
    if level and level not in LEVELS:
        out.append(
            Problem(
                f"{where}.kinlink:confirmation",
                "'%(value)s' is not a confirmation level (%(known)s)",
                (("known", ", ".join(LEVELS)), ("value", level)),
            )
        )
    for key in ("source_date", "entry_date", "kinlink:date"):
        if n.get(key):
            try:
                parse_partial_date(_day(n[key]) or "", allow_future=key == "entry_date")
            except DateError as e:
                out.append(Problem(f"{where}.{key}", e.message, tuple(sorted(e.values.items()))))
    return out


def person_row(p: dict[str, Any], notes: list[dict[str, str]], version: str) -> dict[str, Any]:
    """One PFIF person, with its notes, as a registry row."""
    full, given, family, alternates = _names(p, version)
    age, as_of, age_range = _age(p)
    residence = ", ".join(
        p[k] for k in ("home_neighborhood", "home_city", "home_state", "home_country") if p.get(k)
    )
    street = ", ".join(p[k] for k in ("home_street", "home_postal_code", "home_zip") if p.get(k))
    other = [
        line
        for line in _lines(p.get("other"))
        if not line.lower().startswith((ALTERNATES_IN_OTHER, FULL_NAME_IN_OTHER))
    ]
    remarks = [
        f"PFIF {version} {p['person_record_id']}",
        *(
            f"{label}: {p[k]}"
            for k, label in (
                ("source_name", "source"),
                ("source_url", "source url"),
                ("source_date", "source date"),
                ("author_name", "author"),
                ("author_email", "author email"),
                ("author_phone", "author phone"),
                ("photo_url", "photo (reference)"),
            )
            if p.get(k)
        ),
        *(f"profile (reference): {u}" for u in _lines(p.get("profile_urls"))),
        *([f"home address: {street}"] if street else []),
        *([f"age: {age_range}"] if age_range else []),
        *([f"sex: {p['sex']}"] if p.get("sex") and p["sex"] not in SEX else []),
        *([p["description"]] if p.get("description") else []),
        *other,
    ]
    events = [note_event(n) for n in sorted(notes, key=_note_order)]
    return {
        "record_id": p.get("person_record_id"),
        "full_name": full,
        "given_names": given,
        "family_name": family,
        "alternate_names": alternates,
        "sex": SEX.get(p.get("sex", "")),
        "birth_date": p.get("date_of_birth"),
        "age": age,
        "age_as_of": as_of if age else None,
        "residence": residence or None,
        "expiry_date": _day(p.get("expiry_date")),
        "notes": "\n".join(remarks),
        "events": events,
    }


def _note_order(n: dict[str, str]) -> tuple[str, str]:
    return (n.get("source_date") or n.get("entry_date") or "", n.get("note_record_id") or "")


@dataclass
class Checked:
    """A document checked whole: its records (by PFIF domain), its deletions and its notes for persons the
    document does not hold (to be found among kinlink's records)."""

    records: dict[str, list[RecordIn]] = field(default_factory=dict)
    deletions: dict[str, list[str]] = field(default_factory=dict)
    loose: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # record id -> events
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (record id, linked id, note id)


def domain_of(record_id: str) -> str:
    return record_id.split("/", 1)[0]


def check(doc: Document) -> Checked:
    """Every person and note checked; refused with every problem (each naming its PFIF field) when any."""
    errors: list[Problem] = []
    out = Checked()
    held = {p.get("person_record_id") for p in doc.persons}
    seen: set[str] = set()
    for i, p in enumerate(doc.persons, 1):
        rid = p.get("person_record_id") or ""
        where = f"person[{rid or i}]"
        if "/" not in rid or not rid.split("/", 1)[1]:
            errors.append(Problem(f"{where}.person_record_id", "is required, as domain/unique-id"))
            continue
        if rid in seen:
            errors.append(Problem(f"{where}.person_record_id", "appears twice in the document"))
            continue
        seen.add(rid)
        if is_placeholder(p):
            out.deletions.setdefault(domain_of(rid), []).append(rid)
            continue
        mine = [*p["notes"], *(n for n in doc.notes if n.get("person_record_id") == rid)]
        note_errors = [e for n in mine for e in check_note(n, f"note[{n.get('note_record_id') or '?'}]")]
        errors.extend(note_errors)
        result = validate_row(person_row(p, mine, doc.version), i)
        if isinstance(result, list):
            errors.extend(
                Problem(f"{where}.{PFIF_FIELD.get(e.column, e.column)}", e.reason, e.values) for e in result
            )
            continue
        if not note_errors:
            out.records.setdefault(domain_of(rid), []).append(result)
        out.links.extend(
            (rid, n["linked_person_record_id"], n.get("note_record_id", ""))
            for n in mine
            if n.get("linked_person_record_id")
        )
    for n in doc.notes:
        pid = n.get("person_record_id") or ""
        where = f"note[{n.get('note_record_id') or '?'}]"
        if not pid:
            errors.append(Problem(f"{where}.person_record_id", "is required for a note outside its person"))
            continue
        if pid in held:
            continue
        found = check_note(n, where)
        errors.extend(found)
        if not found:
            out.loose.setdefault(pid, []).append(note_event(n))
            if n.get("linked_person_record_id"):
                out.links.append((pid, n["linked_person_record_id"], n.get("note_record_id", "")))
    if errors:
        raise invalid(errors[:50])
    return out
