"""The registrar's file format: its columns, and the checks that turn one row into a record.

Pure: a row (a dict of strings or JSON values) goes in, a `RecordIn` or a list of `RowError` comes out.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from functools import lru_cache
from typing import Any

from kinlink.person.confirmation import LEVELS, parse_level
from kinlink.person.partial_dates import DateError, birth_year_range, parse_partial_date
from kinlink.person.status import EVENT_KINDS, event_kind_for_status
from kinlink.person.text import TooDeep, loads_bounded, message_id, plain_texts, text_problem

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

    def _shallow(self) -> dict[str, Any]:
        # dataclasses.asdict deep-copies every value; at 100,000 rows that alone costs seconds.
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def person_fields(self) -> dict[str, Any]:
        """Fields stored on the person row as they are (everything but names and events)."""
        # The field names worked out once (dataclasses.fields per record was a tenth of an import's
        # writing, issue 19).
        return {k: getattr(self, k) for k in _PERSON_FIELDS}

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


@lru_cache(maxsize=65536)
def _read_date(s: str, today: date) -> tuple[str | None, tuple[str, dict[str, Any]] | None]:
    """A partial date read once per distinct text (and day): a registry's dates repeat across rows
    (issue 19). (ISO text, None), or (None, (message, values)) when it is not a date."""
    try:
        return parse_partial_date(s, today=today).iso(), None
    except DateError as e:
        return None, (e.message, dict(e.values))


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


def validate_row(row: dict[str, Any], line: int, *, today: date | None = None) -> RecordIn | list[RowError]:
    """Check one row; every problem is reported, not just the first."""
    errors: list[RowError] = []
    today = today or date.today()

    def err(column: str, reason: str, **values: Any) -> None:
        errors.append(RowError(line, column, reason, tuple(sorted(values.items()))))

    # Text that is not text is reported and then left out, so that no later check walks it (a value nested
    # 50,000 deep would end str() in RecursionError).
    if not plain_texts(row.values()):  # else nothing to refuse in any column (the common case, cheaply)
        clean = {}
        for column, value in row.items():
            found = text_problem(value, multiline=column in MULTILINE_COLUMNS)
            if found:
                err(str(column), found[0], **found[1])
            else:
                clean[column] = value
        row = clean

    def partial(column: str, value: Any) -> str | None:
        s = _text(value)
        if s is None:
            return None
        iso, problem = _read_date(s, today)
        if problem is not None:
            err(column, problem[0], **problem[1])
        return iso

    record_id = _text(row.get("record_id"))
    if record_id is None:
        err("record_id", message_id("is required (the registrar's own id of this record)"))
    elif len(record_id) > RECORD_ID_MAX:
        err("record_id", message_id("is longer than %(n)s characters"), n=RECORD_ID_MAX)

    texts: dict[str, str | None] = {}
    get = row.get
    for col, (_meaning, limit) in TEXT_COLUMNS.items():
        value = get(col)
        if value is None or value == "":  # most cells of most rows: no call (issue 19)
            texts[col] = None
            continue
        s = _text(value)
        if s is not None and len(s) > limit:
            err(col, message_id("is longer than %(n)s characters"), n=limit)
        texts[col] = s

    name_parts = [texts[c] for c in ("family_name", "given_names", "patronymic") if texts[c]]
    full_name = texts["full_name"] or (" ".join(p for p in name_parts if p) if name_parts else None)
    if full_name is None:
        err("full_name", message_id("no name: give full_name, or family_name and/or given_names"))
    else:
        for col in ("full_name", "family_name", "given_names", "patronymic"):
            found_name = name_problem_message(texts[col]) if texts[col] is not None else None
            if found_name:
                err(col, found_name[0], **found_name[1])
        if texts["full_name"] is None and not _has_letter(full_name):
            err("full_name", message_id("the name has no letters"))
    for col in ("father_name", "mother_maiden_name", "inform_name"):
        if texts[col] is not None and any(ch in _NOT_IN_NAMES for ch in texts[col] or ""):
            message, values = name_problem_message(texts[col] or "") or (message_id("is not a name"), {})
            err(col, message, **values)

    alternates = _alternates(row.get("alternate_names"), err)

    sex = None
    raw_sex = _text(row.get("sex"))
    if raw_sex is not None:
        sex = SEX_WORDS.get(raw_sex.lower())
        if sex is None and raw_sex.lower() not in {"u", "unknown", "?"}:
            err(
                "sex", message_id("'%(value)s' is not a sex; write m or f (or leave it empty)"), value=raw_sex
            )

    birth_date = partial("birth_date", row.get("birth_date"))
    age_as_of = partial("age_as_of", row.get("age_as_of"))
    age = None
    raw_age = _text(row.get("age"))
    if raw_age is not None:
        try:
            age = int(raw_age)
            if not 0 <= age <= MAX_AGE:
                raise ValueError
        except ValueError:
            err(
                "age", message_id("'%(value)s' is not an age in years (0 to %(n)s)"), value=raw_age, n=MAX_AGE
            )
            age = None
        if age is not None and age_as_of is None and _text(row.get("age_as_of")) is None:
            err("age_as_of", message_id("an age needs the date it was stated (age_as_of)"))
    if birth_date and age is not None and age_as_of:
        lo, hi = birth_year_range(None, age, age_as_of) or (0, 9999)
        if not lo <= int(birth_date[:4]) <= hi:
            err(
                "age",
                message_id("age %(age)s on %(as_of)s does not fit birth_date %(birth)s"),
                age=age,
                as_of=age_as_of,
                birth=birth_date,
            )

    consents = {}
    for col in CONSENT_COLUMNS:
        raw = row.get(col)
        if isinstance(raw, bool):
            consents[col] = raw
            continue
        s = (_text(raw) or "").lower()
        if s in TRUE_WORDS:
            consents[col] = True
        elif s in FALSE_WORDS:
            consents[col] = False
        else:
            err(col, message_id("'%(value)s' is not yes or no"), value=raw)
            consents[col] = False

    events: list[EventIn] = []
    raw_status = _text(row.get("status"))
    status_date = partial("status_date", row.get("status_date"))
    if raw_status is not None:
        kind = event_kind_for_status(raw_status)
        if kind is None:
            err(
                "status",
                message_id("unknown status '%(value)s'; known: %(known)s"),
                value=raw_status,
                known=", ".join(EVENT_KINDS),
            )
        else:
            events.append(EventIn(kind, status_date, texts["place"]))
    elif status_date is not None or texts["place"] is not None:
        err("status", message_id("status_date or place is given without a status"))
    raw_events = row.get("events")
    if isinstance(raw_events, str) and 0 < len(raw_events) <= _SHORT_EVENTS:
        found_events, problems = _short_events(raw_events, today)
        for column, reason, values in problems:
            err(column, reason, **values)
        events.extend(found_events)
    else:
        events.extend(_events(raw_events, err, partial))

    language = texts["language"].lower() if texts["language"] else None
    if language is not None and not LANGUAGE_TAG.match(language):
        err("language", f"'{texts['language']}' is not a language code (such as ru, uk, ro, en)")
    health_state = None
    raw_health = _text(row.get("health_state"))
    if raw_health is not None:
        health_state = "_".join(raw_health.lower().replace("-", " ").split())
        if health_state not in HEALTH_STATES:
            err("health_state", f"'{raw_health}' is not a state of health; known: {', '.join(HEALTH_STATES)}")

    expiry_date = None
    raw_expiry = _text(row.get("expiry_date"))
    if raw_expiry is not None:
        try:
            expiry_date = parse_partial_date(raw_expiry, allow_future=True).iso()
        except DateError as e:
            err("expiry_date", e.message, **e.values)

    if errors:
        return errors
    assert record_id is not None and full_name is not None
    unique_events = list({e.key(): e for e in events}.values())
    return RecordIn(
        record_id=record_id,
        full_name=full_name,
        family_name=texts["family_name"],
        given_names=texts["given_names"],
        patronymic=texts["patronymic"],
        name_language=texts["name_language"],
        alternate_names=alternates,
        sex=sex,
        birth_date=birth_date,
        age=age,
        age_as_of=age_as_of,
        place_of_birth=texts["place_of_birth"],
        nationality=texts["nationality"],
        power=texts["power"],
        rank=texts["rank"],
        unit=texts["unit"],
        service_number=texts["service_number"],
        father_name=texts["father_name"],
        mother_maiden_name=texts["mother_maiden_name"],
        inform_name=texts["inform_name"],
        inform_address=texts["inform_address"],
        distinguishing_marks=texts["distinguishing_marks"],
        location=texts["location"],
        residence=texts["residence"],
        language=language,
        occupation=texts["occupation"],
        detaining_power=texts["detaining_power"],
        detainee_number=texts["detainee_number"],
        health_state=health_state,
        notes=texts["notes"],
        expiry_date=expiry_date,
        events=unique_events,
        **consents,
    )


def _alternates(value: Any, err: Any) -> list[str]:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else str(value).split(ALTERNATE_SEP)
    names = []
    for item in items:
        s = _text(item)
        if s is None:
            continue
        found = name_problem_message(s)
        if found:
            err("alternate_names", found[0], **found[1])
        elif len(s) > TEXT_COLUMNS["full_name"][1]:
            err("alternate_names", message_id("a name is longer than 400 characters"))
        else:
            names.append(s)
    return names


# A history as short as most rows' ("captured on a day") recurs across a registry's rows: read once.
# Longer ones (notes) are read each time, which keeps the cache small.
_SHORT_EVENTS = 256


@lru_cache(maxsize=16384)
def _short_events(
    text: str, today: date
) -> tuple[tuple[EventIn, ...], tuple[tuple[str, str, dict[str, Any]], ...]]:
    """`_events` of one JSON text, once per distinct text: (events, problems as (column, reason, values))."""
    problems: list[tuple[str, str, dict[str, Any]]] = []

    def err(column: str, reason: str, **values: Any) -> None:
        problems.append((column, reason, values))

    def partial(column: str, value: Any) -> str | None:
        s = _text(value)
        if s is None:
            return None
        iso, problem = _read_date(s, today)
        if problem is not None:
            err(column, problem[0], **problem[1])
        return iso

    return tuple(_events(text, err, partial)), tuple(problems)


def _events(value: Any, err: Any, partial: Any) -> list[EventIn]:
    """The full history: a JSON list of {kind, date, place, note} (a JSON text in CSV)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = loads_bounded(value)
        except TooDeep as e:
            err("events", str(e))
            return []
        except json.JSONDecodeError as e:
            err("events", message_id("is not JSON: %(why)s at character %(pos)s"), why=e.msg, pos=e.pos)
            return []
        except ValueError as e:  # json's other refusals: an integer of more than 4300 digits
            err("events", message_id("is not JSON: %(why)s"), why=str(e))
            return []
        found = text_problem(value)
        if found:
            err("events", found[0], **found[1])
            return []
    if not isinstance(value, list):
        err("events", message_id("must be a list of events, each {kind, date, place, note}"))
        return []
    out = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
            err("events", message_id("event %(n)s needs a kind"), n=i)
            continue
        unknown = set(item) - EVENT_KEYS
        if unknown:
            err(
                "events",
                message_id("event %(n)s has unknown keys: %(keys)s"),
                n=i,
                keys=", ".join(sorted(unknown)),
            )
            continue
        kind = event_kind_for_status(item["kind"])
        if kind is None:
            err("events", message_id("event %(n)s: unknown kind '%(kind)s'"), n=i, kind=item["kind"])
            continue
        when = partial("events", item.get("date"))
        level = _text(item.get("confirmation"))
        if level is not None and parse_level(level) is None:
            err(
                "events",
                message_id("event %(n)s: unknown confirmation '%(value)s'; known: %(known)s"),
                n=i,
                value=level,
                known=", ".join(LEVELS),
            )
            continue
        extra = {k: _text(item.get(k)) for k in ("author", "ref")}
        too_long = [k for k, limit in EVENT_LIMITS.items() if len(extra[k] or "") > limit]
        if too_long:
            err(
                "events",
                message_id("event %(n)s: %(key)s is longer than %(limit)s characters"),
                n=i,
                key=too_long[0],
                limit=EVENT_LIMITS[too_long[0]],
            )
            continue
        out.append(
            EventIn(
                kind,
                when,
                _text(item.get("place")),
                _text(item.get("note")),
                parse_level(level),
                extra["author"],
                extra["ref"],
            )
        )
    return out


EVENT_KEYS = frozenset({"kind", "date", "place", "note", "confirmation", "author", "ref"})
EVENT_LIMITS = {"author": 300, "ref": 200}


def to_row(rec: RecordIn) -> dict[str, Any]:
    """A record back as a row of the same format (the history goes in `events`)."""
    d = asdict(rec)
    d["events"] = [{k: v for k, v in asdict(e).items() if v is not None} for e in rec.events]
    d.update(status=None, status_date=None, place=None)
    return {c: d.get(c) for c in COLUMNS}
