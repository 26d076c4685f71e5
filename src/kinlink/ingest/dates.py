"""Dates in report sentences, relative ones resolved against the document's own date.

News and channel posts say "duminică dimineața", "вчера", "on Sunday", "3 дні тому": the event date is
only knowable from the date the document was published. Without a document date, relative expressions
keep their text and no date. Weekdays resolve to the latest such day on or before the document date
(reports speak of the past).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class DateMention:
    text: str
    start: int
    end: int
    date: dt.date | None
    precision: str  # "day" | "month"
    relative: bool


_MONTHS: dict[str, list[tuple[str, ...]]] = {
    # stems matched at word start, index = month - 1
    "en": [("jan",), ("feb",), ("mar",), ("apr",), ("may",), ("jun",), ("jul",), ("aug",), ("sep",),
           ("oct",), ("nov",), ("dec",)],
    "ro": [("ian",), ("feb",), ("mart",), ("apr",), ("mai",), ("iun",), ("iul",), ("aug",), ("sept",),
           ("oct",), ("noi",), ("dec",)],
    "ru": [("январ",), ("феврал",), ("март",), ("апрел",), ("ма[йяе]",), ("июн",), ("июл",),
           ("август",), ("сентябр",), ("октябр",), ("ноябр",), ("декабр",)],
    "uk": [("січ",), ("лют",), ("берез",), ("квіт",), ("травн", "травен"), ("черв",), ("лип",),
           ("серп",), ("верес",), ("жовт",), ("листопад",), ("груд",)],
}  # fmt: skip

# Weekday stems, Monday first; ru/uk forms cover "в воскресенье", "у неділю", "в пятницу".
_WEEKDAYS: dict[str, list[str]] = {
    "en": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    "ro": ["luni", "marți|marti", "miercuri", "joi", "vineri", "sâmbătă|sambata|sîmbătă",
           "duminică|duminica"],
    "ru": ["понедельник", "вторник", "сред[аууы]", "четверг", "пятниц[аеуы]", "суббот[аеуы]",
           "воскресень[ея]"],
    "uk": ["понеділ(?:ок|ка)", "вівтор(?:ок|ка)", "серед[аиуі]", "четвер(?:га)?", "п['’ʼ]?ятниц[яюі]",
           "субот[аиуі]", "неділ[яюі]"],
}  # fmt: skip

_DAY_PARTS = {
    "en": r"(?:\s+(?:morning|afternoon|evening|night))?",
    "ro": r"(?:\s+(?:dimineața|dimineata|seara|noaptea|după-amiaza|dupa-amiaza))?",
    "ru": r"(?:\s+(?:утром|вечером|ночью|днём|днем))?",
    "uk": r"(?:\s+(?:вранці|зранку|увечері|ввечері|вночі|вдень))?",
}

# (pattern, days back from the document date)
_RELATIVE: dict[str, list[tuple[str, int]]] = {
    "en": [(r"the day before yesterday", 2), (r"yesterday", 1), (r"last night", 1),
           (r"today|this morning", 0)],
    "ro": [(r"alaltăieri|alaltaieri", 2), (r"ieri", 1), (r"azi-noapte|aseară|aseara", 1),
           (r"astăzi|azi|astazi|în această dimineață", 0)],
    # adjective forms too: "вчерашнего удара", "позавчорашній обстріл"
    "ru": [(r"позавчера|позавчерашн\w+", 2), (r"вчера|вчерашн\w+", 1),
           (r"прошлой ночью|этой ночью|минувшей ночью", 1), (r"сегодня|сегодняшн\w+", 0)],
    "uk": [(r"позавчора|позавчорашн\w+", 2), (r"вчора|учора|вчорашн\w+|учорашн\w+", 1),
           (r"минулої ночі|цієї ночі", 1), (r"сьогодні|сьогоднішн\w+", 0)],
}  # fmt: skip

_DAYS_AGO = {
    "en": r"(\d{1,2}) days? ago",
    "ro": r"acum (\d{1,2}) zile",
    "ru": r"(\d{1,2}) (?:дня|дней|день) назад",
    "uk": r"(\d{1,2}) (?:дні|днів|день) тому",
}


@lru_cache(maxsize=8)
def _patterns(lang: str) -> list[tuple[re.Pattern[str], str]]:
    month_alt = "|".join(
        f"(?P<m{i}>{'|'.join(stems)})" for i, stems in enumerate(_MONTHS.get(lang, _MONTHS["en"]))
    )
    month = rf"(?:{month_alt})\w*\.?"
    year = r"(?P<y>(?:19|20)\d{2})"
    dmy = rf"\b(?P<d>\d{{1,2}})(?:-?(?:го|ого|th|st|nd|rd))?\s+{month}(?:\s+{year})?"
    mdy = rf"\b{month}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+{year})?"
    out: list[tuple[re.Pattern[str], str]] = [
        (re.compile(rf"\b(?P<d>\d{{1,2}})[./](?P<mo>\d{{1,2}})[./]{year}\b"), "numeric"),
        (re.compile(dmy, re.I), "dmy"),
    ]
    if lang == "en":
        out.append((re.compile(mdy, re.I), "mdy"))
    parts = _DAY_PARTS.get(lang, "")
    for i, day in enumerate(_WEEKDAYS.get(lang, [])):
        prefix = r"(?:(?P<last>last)\s+)?(?:early\s+)?(?:on\s+)?" if lang == "en" else ""
        out.append((re.compile(rf"\b{prefix}(?:{day}){parts}\b", re.I), f"wd{i}"))
    for pattern, back in _RELATIVE.get(lang, []):
        out.append((re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.I), f"back{back}"))
    if lang in _DAYS_AGO:
        out.append((re.compile(rf"(?<!\w){_DAYS_AGO[lang]}(?!\w)", re.I), "ago"))
    return out


def _month_of(m: re.Match[str]) -> int | None:
    for i in range(12):
        if m.groupdict().get(f"m{i}"):
            return i + 1
    return None


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def find_dates(text: str, lang: str, ref: dt.date | None) -> list[DateMention]:
    """Date expressions in `text`, in order; overlapping matches keep the earliest listed pattern."""
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _patterns(lang):
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            mention = _resolve(m, kind, ref)
            if mention is not None:
                found.append(mention)
                taken.append((m.start(), m.end()))
    return sorted(found, key=lambda d: d.start)


def _resolve(m: re.Match[str], kind: str, ref: dt.date | None) -> DateMention | None:
    text = m.group(0).strip().rstrip(".")
    if kind == "numeric":
        date = _safe_date(int(m["y"]), int(m["mo"]), int(m["d"]))
        return DateMention(text, m.start(), m.end(), date, "day", False) if date else None
    if kind in ("dmy", "mdy"):
        month = _month_of(m)
        day = int(m["d"])
        if month is None or not 1 <= day <= 31:
            return None
        if m["y"]:
            year = int(m["y"])
        elif ref is not None:
            # "25 февраля" in a report from January means last year's February.
            year = ref.year if (month, day) <= (ref.month, ref.day) else ref.year - 1
        else:
            return DateMention(text, m.start(), m.end(), None, "day", True)
        date = _safe_date(year, month, day)
        return DateMention(text, m.start(), m.end(), date, "day", not m["y"]) if date else None
    if kind.startswith("wd"):
        weekday = int(kind[2:])
        back = (ref.weekday() - weekday) % 7 if ref else 0
        if m.groupdict().get("last") and back == 0:
            back = 7  # "last Tuesday" said on a Tuesday is a week ago
        date = ref - dt.timedelta(days=back) if ref else None
        return DateMention(text, m.start(), m.end(), date, "day", True)
    if kind.startswith("back"):
        date = ref - dt.timedelta(days=int(kind[4:])) if ref else None
        return DateMention(text, m.start(), m.end(), date, "day", True)
    if kind == "ago":
        date = ref - dt.timedelta(days=int(m.group(1))) if ref else None
        return DateMention(text, m.start(), m.end(), date, "day", True)
    return None
