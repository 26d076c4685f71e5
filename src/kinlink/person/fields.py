"""The registrar's file format: its columns, and the checks that turn one row into a record.

The checks themselves are in `kinlink.person.rows` (a row) and `kinlink.person.history` (its events).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import MISSING, asdict, dataclass, field, fields
from operator import attrgetter
from typing import Any

from kinlink.person.confirmation import LEVELS
from kinlink.person.text import message_id

# The capture card's item 11 (GC III Annex IV B), in its order.
HEALTH_STATES = (
    "good_health",
    "not_wounded",
    "recovered",
    "convalescent",
    "sick",
    "slightly_wounded",
    "seriously_wounded",
)
# A language tag as BCP 47 begins: a two- or three-letter language, perhaps a region or script.
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")

# Column -> (meaning, max length). The README documents the same list; tests keep them in step.
TEXT_COLUMNS: dict[str, tuple[str, int]] = {
    "full_name": ("the name as written, any script and order", 400),
    "family_name": ("family name (surname)", 200),
    "given_names": ("first name(s)", 200),
    "patronymic": ("patronymic (father's name form, e.g. Андреевич)", 200),
    "name_language": ("language of the name's spelling: ru, uk, be, ro, en, ...", 10),
    "place_of_birth": ("place of birth (GC III Art. 122)", 300),
    "nationality": ("nationality", 100),
    "language": ("the language the person reads and writes (ru, uk, ro, en ...): cards use it", 10),
    "power": ("the power or armed force the person depends on", 200),
    "rank": ("rank (GC III Art. 17)", 200),
    "unit": ("unit", 300),
    "service_number": ("army, regimental, personal or serial number (GC III Art. 17)", 100),
    "occupation": ("occupation (GC IV internment card)", 200),
    "father_name": ("father's first name (GC III Art. 122)", 200),
    "mother_maiden_name": ("mother's maiden name (GC III Art. 122)", 200),
    "inform_name": ("person to be informed (GC III Art. 122)", 300),
    "inform_address": ("address of the person to be informed", 1000),
    "distinguishing_marks": ("distinguishing marks", 2000),
    "location": ("place of internment or last known location", 300),
    "detaining_power": ("the power that holds the person (GC III Art. 122, GC IV Art. 136)", 200),
    "detainee_number": ("the prisoner's or internee's number given by the detaining power", 100),
    "residence": ("home town or region", 300),
    "notes": ("free notes for staff", 4000),
    "place": ("where the status event happened", 300),
}
CONSENT_COLUMNS = (
    "consent_inform_family",
    "consent_share_location",
    "consent_share_health",
    "consent_share_photo",
)
# Text of more than one line; in every other column a tab or a line break is refused (but at its ends).
MULTILINE_COLUMNS = frozenset({"inform_address", "distinguishing_marks", "notes", "events"})
OTHER_COLUMNS = (
    "record_id",
    "sex",
    "birth_date",
    "age",
    "age_as_of",
    "health_state",
    "status",
    "status_date",
    "alternate_names",
    "events",
    "expiry_date",
)
COLUMNS: tuple[str, ...] = (
    "record_id",
    "full_name",
    "family_name",
    "given_names",
    "patronymic",
    "name_language",
    "alternate_names",
    "sex",
    "birth_date",
    "age",
    "age_as_of",
    "place_of_birth",
    "nationality",
    "language",
    "power",
    "rank",
    "unit",
    "service_number",
    "occupation",
    "father_name",
    "mother_maiden_name",
    "inform_name",
    "inform_address",
    "distinguishing_marks",
    "location",
    "detaining_power",
    "detainee_number",
    "health_state",
    "residence",
    *CONSENT_COLUMNS,
    "status",
    "status_date",
    "place",
    "events",
    "expiry_date",
    "notes",
)
assert set(COLUMNS) == set(TEXT_COLUMNS) | set(CONSENT_COLUMNS) | set(OTHER_COLUMNS)
# What every column means: the API's schema, the web form and the README say the same.
MEANINGS: dict[str, str] = {
    **{c: meaning for c, (meaning, _limit) in TEXT_COLUMNS.items()},
    "record_id": "the registrar's own id of the record (required in a file; made up on a form when empty)",
    "sex": "m or f (also м/ж, ч, male/female)",
    "birth_date": "YYYY, YYYY-MM or YYYY-MM-DD (also DD.MM.YYYY)",
    "age": "an age in years, when the birth date is unknown (with age_as_of)",
    "age_as_of": "the date the age was stated",
    "health_state": "state of health as the capture card gives it: " + ", ".join(HEALTH_STATES),
    "status": "the current status, recorded as a dated event of the history",
    "status_date": "the date of that event",
    "alternate_names": "other spellings of the name (a list; separated by | in CSV)",
    "events": "the dated history: a list of {kind, date, place, note, confirmation, author, ref}; "
    "confirmation is how it is known: " + ", ".join(LEVELS),
    "expiry_date": "the date after which the record is erased (retention)",
    "consent_inform_family": "the person agrees that the family is told they were found",
    "consent_share_location": "the person agrees to share where they are",
    "consent_share_health": "the person agrees to share their state of health",
    "consent_share_photo": "the person agrees to share a photo",
}
assert set(MEANINGS) == set(COLUMNS)

SEX_WORDS = {
    "m": "m",
    "male": "m",
    "man": "m",
    "м": "m",
    "муж": "m",
    "мужской": "m",
    "ч": "m",
    "чоловіча": "m",
    "b": "m",
    "bărbat": "m",
    "f": "f",
    "female": "f",
    "woman": "f",
    "ж": "f",
    "жен": "f",
    "женский": "f",
    "жіноча": "f",
    "femeie": "f",
}
TRUE_WORDS = {"1", "true", "yes", "y", "да", "так", "da"}
FALSE_WORDS = {"", "0", "false", "no", "n", "нет", "ні", "nu"}
MAX_AGE = 120
RECORD_ID_MAX = 200
ALTERNATE_SEP = "|"


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str  # English, with %(name)s placeholders: also the key of its translations
    values: tuple[tuple[str, Any], ...] = ()

    @property
    def text(self) -> str:
        return self.reason % dict(self.values) if self.values else self.reason

    def render(self, file: str) -> str:
        return f"{file}:{self.line}: {self.column}: {self.text}"


@dataclass(frozen=True)
class EventIn:
    kind: str
    date: str | None = None
    place: str | None = None
    note: str | None = None
    confirmation: str | None = None  # how it is known (kinlink.person.confirmation); None: by its source
    author: str | None = None  # who wrote the note
    ref: str | None = None  # a partner's own id of the event (PFIF note_record_id)

    def key(self) -> tuple[str, str, str]:
        return event_key(self.kind, self.date, self.place, self.ref)


def event_key(kind: str, date: str | None, place: str | None, ref: str | None = None) -> tuple[str, str, str]:
    """What makes an event the same one again: a partner's id when it gave one, else what, when and where."""
    if ref:
        return ("ref", ref, "")
    return (kind, date or "", place or "")


@dataclass
class RecordIn:
    """One validated record as a registrar's row describes it."""

    record_id: str
    full_name: str
    family_name: str | None = None
    given_names: str | None = None
    patronymic: str | None = None
    name_language: str | None = None
    alternate_names: list[str] = field(default_factory=list)
    sex: str | None = None
    birth_date: str | None = None
    age: int | None = None
    age_as_of: str | None = None
    place_of_birth: str | None = None
    nationality: str | None = None
    power: str | None = None
    rank: str | None = None
    unit: str | None = None
    service_number: str | None = None
    father_name: str | None = None
    mother_maiden_name: str | None = None
    inform_name: str | None = None
    inform_address: str | None = None
    distinguishing_marks: str | None = None
    location: str | None = None
    residence: str | None = None
    language: str | None = None
    occupation: str | None = None
    detaining_power: str | None = None
    detainee_number: str | None = None
    health_state: str | None = None
    consent_inform_family: bool = False
    consent_share_location: bool = False
    consent_share_health: bool = False
    consent_share_photo: bool = False
    notes: str | None = None
    expiry_date: str | None = None
    events: list[EventIn] = field(default_factory=list)

    @classmethod
    def checked(cls, values: dict[str, Any]) -> RecordIn:
        """A record of values checked already (`kinlink.person.rows`), its fields set in two dict updates
        rather than __init__'s step a field (a tenth of a row's checking, issue 19). `values` holds
        record_id, full_name, alternate_names and events, and fields only; the others take their defaults."""
        rec = object.__new__(cls)
        rec.__dict__.update(_DEFAULTS)
        rec.__dict__.update(values)
        return rec

    def _shallow(self) -> dict[str, Any]:
        # dataclasses.asdict deep-copies every value; at 100,000 rows that alone costs seconds.
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def person_fields(self) -> dict[str, Any]:
        """Fields stored on the person row as they are (everything but names and events)."""
        # The field names worked out once (dataclasses.fields per record was a tenth of an import's
        # writing, issue 19).
        return dict(zip(_PERSON_FIELDS, _person_values(self), strict=True))

    def person_values(self) -> tuple[Any, ...]:
        """The values of `person_fields`, in the order of PERSON_FIELDS, without a dict (a bulk writer's)."""
        return _person_values(self)  # type: ignore[no-any-return]

    def content_hash(self) -> str:
        payload = self._shallow()
        payload["events"] = sorted(
            (*e.key(), e.confirmation) if e.confirmation else e.key() for e in self.events
        )
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


NOT_PERSON_FIELDS = (
    "record_id",
    "family_name",
    "given_names",
    "patronymic",
    "name_language",
    "alternate_names",
    "events",
)
_PERSON_FIELDS = tuple(f.name for f in fields(RecordIn) if f.name not in NOT_PERSON_FIELDS)
_DEFAULTS = {f.name: f.default for f in fields(RecordIn) if f.default is not MISSING}
_person_values = attrgetter(*_PERSON_FIELDS)  # in one C call (issue 19)
PERSON_FIELDS = _PERSON_FIELDS  # the person row's fields a record sets as they are (`person_fields`)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def _has_letter(s: str) -> bool:
    return any(ch.isalpha() for ch in s)


# No person's name, in any script, holds these; they come from markup, templates or a slip of the keyboard.
# Refusing them keeps markup out of names (which every page, export and partner shows) and out of matching.
_NOT_IN_NAMES = frozenset("<>{}[]\\|@#$%^*=~`_")


def name_problem_message(name: str) -> tuple[str, dict[str, Any]] | None:
    """Why this text cannot be a person's name, as a message and its values, or None."""
    if not _has_letter(name):
        return message_id("'%(name)s' has no letters"), {"name": name}
    bad = next((ch for ch in name if ch in _NOT_IN_NAMES), None)
    if bad is not None:
        return message_id("contains '%(char)s', which is not part of a name (markup or a typing slip?)"), {
            "char": bad
        }
    return None


def name_problem(name: str) -> str | None:
    """Why this text cannot be a person's name, in English, or None."""
    found = name_problem_message(name)
    return found[0] % found[1] if found else None


def to_row(rec: RecordIn) -> dict[str, Any]:
    """A record back as a row of the same format (the history goes in `events`)."""
    d = asdict(rec)
    d["events"] = [{k: v for k, v in asdict(e).items() if v is not None} for e in rec.events]
    d.update(status=None, status_date=None, place=None)
    return {c: d.get(c) for c in COLUMNS}
