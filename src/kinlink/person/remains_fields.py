"""The fields of a record of unidentified remains, defined once: the form, the file import, the API and the
CLI take these, with these meanings and checks.

Pure: a row (a dict of strings) goes in, a `RemainsIn` or a list of `RowError` (each naming its field) out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from kinlink.person.fields import MAX_AGE, RECORD_ID_MAX, SEX_WORDS, RowError
from kinlink.person.partial_dates import DateError, parse_partial_date
from kinlink.person.text import message_id, text_problem

# Field -> (meaning, max length) for the text fields.
TEXT_FIELDS: dict[str, tuple[str, int]] = {
    "marks": (
        "distinguishing marks and tattoos, each with where on the body (one a line or ; between)",
        4000,
    ),
    "clothing": ("clothing found on the remains", 2000),
    "effects": ("personal effects found with the remains", 2000),
    "found_place": ("where the remains were found", 300),
    "recovered_by": ("the body that recovered the remains (a search team, a coroner, a mission)", 300),
    "notes": ("free notes for staff", 4000),
}
MULTILINE = frozenset({"marks", "clothing", "effects", "notes"})
OTHER_FIELDS: dict[str, str] = {
    "record_id": "the recovering body's reference of the remains (made up when empty)",
    "sex": "m or f, as estimated (also м/ж, ч, male/female); empty when not known",
    "age_min": "the youngest estimated age, in years",
    "age_max": "the oldest estimated age, in years",
    "height_min": "the shortest estimated stature, in cm",
    "height_max": "the tallest estimated stature, in cm",
    "found_date": "when the remains were found: YYYY, YYYY-MM or YYYY-MM-DD (also DD.MM.YYYY)",
}
FIELDS: tuple[str, ...] = (
    "record_id",
    "sex",
    "age_min",
    "age_max",
    "height_min",
    "height_max",
    "marks",
    "clothing",
    "effects",
    "found_place",
    "found_date",
    "recovered_by",
    "notes",
)
MEANINGS: dict[str, str] = {**{k: v for k, (v, _n) in TEXT_FIELDS.items()}, **OTHER_FIELDS}
assert set(MEANINGS) == set(FIELDS)
HEIGHT_LIMITS = (40, 230)  # cm: a child's remains to the tallest adult


@dataclass(frozen=True)
class RemainsIn:
    record_id: str | None
    found_date: str
    recovered_by: str
    sex: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    height_min: int | None = None
    height_max: int | None = None
    marks: str | None = None
    clothing: str | None = None
    effects: str | None = None
    found_place: str | None = None
    notes: str | None = None

    def values(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in FIELDS}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def validate_remains(
    row: dict[str, Any], line: int = 1, *, today: date | None = None
) -> RemainsIn | list[RowError]:
    """Check one record; every problem is reported, each naming its field."""
    errors: list[RowError] = []

    def err(column: str, reason: str, **values: Any) -> None:
        errors.append(RowError(line, column, reason, tuple(sorted(values.items()))))

    for key in sorted(set(row) - set(FIELDS), key=str):
        err(str(key), message_id("is not a field of a record of remains"))
    clean: dict[str, Any] = {}
    for key in FIELDS:
        found = text_problem(row.get(key), multiline=key in MULTILINE)
        if found:
            err(key, found[0], **found[1])
        else:
            clean[key] = _text(row.get(key))

    texts: dict[str, str | None] = {}
    for key, (_meaning, limit) in TEXT_FIELDS.items():
        s = clean.get(key)
        if s is not None and len(s) > limit:
            err(key, message_id("is longer than %(n)s characters"), n=limit)
        texts[key] = s
    record_id = clean.get("record_id")
    if record_id is not None and len(record_id) > RECORD_ID_MAX:
        err("record_id", message_id("is longer than %(n)s characters"), n=RECORD_ID_MAX)
    if "found_date" in clean and clean["found_date"] is None:
        err("found_date", message_id("is required: when the remains were found"))
    if "recovered_by" in clean and clean["recovered_by"] is None:
        err("recovered_by", message_id("is required: the body that recovered the remains"))

    sex = None
    raw_sex = clean.get("sex")
    if raw_sex is not None:
        sex = SEX_WORDS.get(raw_sex.lower())
        if sex is None and raw_sex.lower() not in {"u", "unknown", "?"}:
            err(
                "sex", message_id("'%(value)s' is not a sex; write m or f (or leave it empty)"), value=raw_sex
            )

    def number(key: str, lo: int, hi: int, reason: str) -> int | None:
        raw = clean.get(key)
        if raw is None:
            return None
        try:
            n = int(raw)
            if not lo <= n <= hi:
                raise ValueError
        except ValueError:
            err(key, reason, value=raw, lo=lo, hi=hi)
            return None
        return n

    age_reason = message_id("'%(value)s' is not an age in years (%(lo)s to %(hi)s)")
    height_reason = message_id("'%(value)s' is not a height in cm (%(lo)s to %(hi)s)")
    age_min = number("age_min", 0, MAX_AGE, age_reason)
    age_max = number("age_max", 0, MAX_AGE, age_reason)
    height_min = number("height_min", *HEIGHT_LIMITS, height_reason)
    height_max = number("height_max", *HEIGHT_LIMITS, height_reason)
    if age_min is not None and age_max is not None and age_max < age_min:
        err("age_max", message_id("the estimated age range ends before it starts"))
    if height_min is not None and height_max is not None and height_max < height_min:
        err("height_max", message_id("the estimated height range ends before it starts"))

    found_date = None
    if clean.get("found_date") is not None:
        try:
            found_date = parse_partial_date(clean["found_date"], today=today or date.today()).iso()
        except DateError as e:
            err("found_date", e.message, **e.values)
    if errors:
        return errors
    assert found_date is not None and texts["recovered_by"] is not None
    # One bound alone stands for both: "about 35" is 35 to 35, widened by the comparison's levels.
    return RemainsIn(
        record_id=record_id,
        found_date=found_date,
        recovered_by=texts["recovered_by"],
        sex=sex,
        age_min=age_min if age_min is not None else age_max,
        age_max=age_max if age_max is not None else age_min,
        height_min=height_min if height_min is not None else height_max,
        height_max=height_max if height_max is not None else height_min,
        marks=texts["marks"],
        clothing=texts["clothing"],
        effects=texts["effects"],
        found_place=texts["found_place"],
        notes=texts["notes"],
    )
