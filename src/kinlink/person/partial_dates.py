"""Partial dates as registrars write them: a year, a year and month, or a full day.

Stored as ISO text of 4, 7 or 10 characters, so that what was not known is not invented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from kinlink.person.text import message_id

_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
# Russian and Ukrainian registries write day-first with dots; accept it and store ISO.
_DOTTED = re.compile(r"^(?:(\d{1,2})\.)?(\d{1,2})\.(\d{4})$")

EARLIEST_YEAR = 1900


class DateError(ValueError):
    """A date that cannot be read or cannot be true. `message` says why in English with %(name)s
    placeholders (also the key of its translations), `values` fill it; str() is the filled-in text."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message % values if values else message)
        self.message = message
        self.values = values


@dataclass(frozen=True, order=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None

    def iso(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def earliest(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> date:
        if self.day is not None and self.month is not None:
            return date(self.year, self.month, self.day)
        month = self.month or 12
        nxt = date(self.year + (month == 12), month % 12 + 1, 1)
        return date.fromordinal(nxt.toordinal() - 1)


def parse_partial_date(text: str, *, today: date | None = None, allow_future: bool = False) -> PartialDate:
    """Read YYYY, YYYY-MM, YYYY-MM-DD (or DD.MM.YYYY, MM.YYYY); refuse impossible and future dates."""
    raw = text.strip()
    m = _ISO.match(raw)
    if m:
        year, month, day = int(m[1]), _int(m[2]), _int(m[3])
    else:
        d = _DOTTED.match(raw)
        if not d:
            raise DateError(
                message_id("'%(date)s' is not a date; write YYYY, YYYY-MM or YYYY-MM-DD"), date=raw
            )
        year, month, day = int(d[3]), int(d[2]), _int(d[1])
    if month is not None and not 1 <= month <= 12:
        raise DateError(message_id("'%(date)s' has no month %(month)s"), date=raw, month=month)
    if day is not None:
        try:
            date(year, month or 1, day)
        except ValueError:
            raise DateError(message_id("'%(date)s' is not a day of the calendar"), date=raw) from None
    if year < EARLIEST_YEAR:
        raise DateError(message_id("'%(date)s' is before %(year)s"), date=raw, year=EARLIEST_YEAR)
    pd = PartialDate(year, month, day)
    today = today or date.today()
    if not allow_future and pd.earliest() > today:
        raise DateError(message_id("'%(date)s' is in the future"), date=raw)
    return pd


def _int(s: str | None) -> int | None:
    return int(s) if s else None


def birth_year_range(
    birth_date: str | None, age: int | None, age_as_of: str | None
) -> tuple[int, int] | None:
    """The years of birth that fit what is known: a date, or an age stated on a (partial) date."""
    if birth_date:
        year = int(birth_date[:4])
        return year, year
    if age is not None and age_as_of:
        as_of = parse_partial_date(age_as_of, allow_future=True)
        # Someone 28 on 2022-02-27 was born between 1993-02-28 and 1994-02-27.
        return as_of.earliest().year - age - 1, as_of.latest().year - age
    return None
