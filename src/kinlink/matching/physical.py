"""Comparing unidentified remains with the missing: marks, the physical description, where and when found.

These comparators serve only the remains model (`model.json`'s "remains" section, `Model.remains`): a
person's or a request's ordinary matching never runs them. Their values come from `MatchRecord.extra`:
  remains:             age_range "30-40", height "175-185", marks, found_date, found_place
  a person or request: marks (free text), height (or a height in the marks' text), last_seen_date,
                       last_seen_place
Marks are free text in any of en, ru, uk, ro ("eagle, left forearm" / "орёл на левом предплечье"): each
mark's kind, motif and body location are read through a word table (`data/marks.tsv`, with its source),
after transliteration to Latin, and words outside the table are compared fuzzily (rapidfuzz), so that an
inscription "Маша" agrees with "Masha".
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz.fuzz import ratio

from kinlink.matching.comparators import Comparator, Range, birth_range, date_range, latin, place_key
from kinlink.matching.evidence import range_text
from kinlink.matching.record import MatchRecord
from kinlink.messages import say

MARKS_TABLE = Path(__file__).with_name("data") / "marks.tsv"
# Words that join a mark's words and say nothing of it (en, ru, uk, ro), after transliteration.
_JOINING_WORDS = (
    "a an the on of in at with and or his her its small big large old new "
    "na v vo s so z zi iz u po pod nad i ta ego iogo yogo ee ii maly malenkii bolshoi velikii "
    "pe cu de la din in si pe sub al ale lui mic mare"
)
_JOINING = frozenset(_JOINING_WORDS.split())
_SEGMENTS = re.compile(r"[;\n]+|\.(?:\s+|$)")
_HEIGHT_RANGE = re.compile(r"^\s*(\d{2,3})\s*(?:-|–|\.\.)\s*(\d{2,3})\s*$")
_HEIGHTS = (
    re.compile(r"(?<![\d.,])(1[.,]\d{2})\s*(?:m|м)(?!\w)", re.IGNORECASE),
    re.compile(r"(?<![\d.,])(\d{3})\s*(?:cm|см)(?!\w)", re.IGNORECASE),
    re.compile(
        r"(?:height|tall|рост|ріст|зріст|зросту|înălțime|înălțimea|inaltime|inaltimea)\D{0,12}?(\d{3}|1[.,]\d{2})",
        re.IGNORECASE,
    ),
)
FUZZY = 85  # rapidfuzz ratio at which two words outside the table are taken as the same word


@dataclass(frozen=True)
class Vocabulary:
    exact: dict[str, tuple[str, str | None]]  # a form (Latin) -> (concept, region)
    prefixes: tuple[tuple[str, str, str | None], ...]

    def concept(self, word: str) -> tuple[str, str | None] | None:
        hit = self.exact.get(word)
        if hit is not None:
            return hit
        for prefix, concept, region in self.prefixes:
            if word.startswith(prefix):
                return concept, region
        return None


@cache
def vocabulary(path: Path = MARKS_TABLE) -> Vocabulary:
    """The word table; a form that would stand for two concepts is refused (the table says which)."""
    exact: dict[str, tuple[str, str | None]] = {}
    prefixes: list[tuple[str, str, str | None]] = []
    with path.open(encoding="utf-8") as f:
        rows = csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t")
        for row in rows:
            concept, region = row["concept"], row["region"] or None
            for form in row["forms"].split("|"):
                key = latin(form.rstrip("*"))
                if not key:
                    continue
                if form.endswith("*"):
                    prefixes.append((key, concept, region))
                    continue
                if key in exact and exact[key][0] != concept:
                    raise ValueError(f"{path}: '{form}' is both {exact[key][0]} and {concept}")
                exact[key] = (concept, region)
    return Vocabulary(exact, tuple(prefixes))


@dataclass(frozen=True)
class Place:
    side: str | None  # left | right | None (not said)
    part: str
    region: str | None


@dataclass(frozen=True)
class Mark:
    text: str  # the mark as written
    kinds: frozenset[str]
    motifs: frozenset[str]
    places: frozenset[Place]
    words: frozenset[str]  # other words (Latin), compared fuzzily


@lru_cache(maxsize=20_000)
def parse_marks(text: str | None) -> tuple[Mark, ...]:
    """Each mark of a text (marks are separated by ';', a line break or a full stop)."""
    if not text:
        return ()
    for pattern in _HEIGHTS:  # a height written among the marks is the height, not a mark
        text = pattern.sub(" ", text)
    vocab = vocabulary()
    out = []
    for segment in _SEGMENTS.split(text):
        words = latin(segment).split()
        if not words:
            continue
        kinds: set[str] = set()
        motifs: set[str] = set()
        other: set[str] = set()
        sides: dict[int, str] = {}
        parts: list[tuple[int, str, str | None]] = []
        for i, w in enumerate(words):
            hit = vocab.concept(w)
            if hit is None:
                if w not in _JOINING and (len(w) >= 3 or w.isdigit()):
                    other.add(w)
                continue
            kind, _, value = hit[0].partition(":")
            if kind == "kind":
                kinds.add(value)
            elif kind == "motif":
                motifs.add(value)
            elif kind == "side":
                sides[i] = value
            else:
                parts.append((i, value, hit[1]))
        places = set()
        for i, part, region in parts:
            # The side is said before the part (en, ru, uk) or after it (ro: "antebrațul stâng").
            side = next((sides[j] for j in (i - 1, i - 2, i + 1, i + 2) if j in sides), None)
            places.add(Place(side, part, region))
        if kinds or motifs or places:  # words alone ("last seen near the station") describe no mark
            out.append(
                Mark(
                    segment.strip(), frozenset(kinds), frozenset(motifs), frozenset(places), frozenset(other)
                )
            )
    return tuple(out)


def _place_agreement(a: Mark, b: Mark) -> str | None:
    """'part': the same body part, on the same side (or a side not said); 'region': the same limb or area;
    'none': both say where and disagree; None: one does not say where."""
    if not a.places or not b.places:
        return None
    best = "none"
    for pa in a.places:
        for pb in b.places:
            if pa.side and pb.side and pa.side != pb.side:
                continue
            if pa.part == pb.part:
                return "part"
            if pa.region and pa.region == pb.region:
                best = "region"
    return best


def _words_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    return any(x == y or (len(x) >= 4 and len(y) >= 4 and ratio(x, y) >= FUZZY) for x in a for y in b)


def _mark_level(a: Mark, b: Mark) -> int:
    """3 the same mark at the same place; 2 the same mark (the place not contradicting); 1 the same kind of
    mark at the same place, its motif not said on a side; 0 nothing in common."""
    if a.kinds and b.kinds and not a.kinds & b.kinds:
        return 0
    place = _place_agreement(a, b)
    motif = bool(a.motifs & b.motifs) or _words_agree(a.words, b.words)
    if motif:
        if place == "part":
            return 3
        return 2 if place != "none" else 0
    said_both = (a.motifs or a.words) and (b.motifs or b.words)
    if a.kinds & b.kinds and place == "part" and not said_both:
        return 1
    return 0


MARK_LEVELS = ("none", "kind_and_place", "mark", "mark_and_place")


def _prep_marks(r: MatchRecord, fld: str) -> tuple[Mark, ...] | None:
    return parse_marks(r.extra.get(fld)) or None


def _feat_marks(a: tuple[Mark, ...], b: tuple[Mark, ...]) -> dict[str, Any]:
    best, pair = 0, None
    for ma in a:
        for mb in b:
            lv = _mark_level(ma, mb)
            if lv > best:
                best, pair = lv, (ma, mb)
    feats: dict[str, Any] = {"level": MARK_LEVELS[best]}
    if pair is not None:
        feats["reason"] = say("“%(found)s” / “%(sought)s”", found=pair[0].text, sought=pair[1].text)
    return feats


# --- height ---------------------------------------------------------------------------------------------

HEIGHT_SAID = 2  # cm either side of a height a family or a record states (said, not measured)


@lru_cache(maxsize=20_000)
def height_range(text: str | None) -> tuple[int, int] | None:
    """'175-185' -> (175, 185); '180' -> (178, 182); a height in a text ('ріст 180', '1,80 m', '180 cm')."""
    if not text:
        return None
    m = _HEIGHT_RANGE.match(text)
    if m:
        lo, hi = sorted((int(m[1]), int(m[2])))
        return (lo, hi) if 100 <= lo <= hi <= 230 else None
    if text.strip().isdecimal():
        h = int(text.strip())  # str.strip drops more than int() does (\x1f)
        return (h - HEIGHT_SAID, h + HEIGHT_SAID) if 100 <= h <= 230 else None
    for pattern in _HEIGHTS:
        m = pattern.search(text)
        if m:
            raw = m[1].replace(",", ".")
            h = round(float(raw) * 100) if "." in raw else int(raw)
            if 100 <= h <= 230:
                return h - HEIGHT_SAID, h + HEIGHT_SAID
    return None


def _prep_height(r: MatchRecord, _fld: str) -> tuple[int, int] | None:
    return height_range(r.extra.get("height")) or height_range(r.extra.get("marks"))


def _feat_height(a: tuple[int, int], b: tuple[int, int]) -> dict[str, Any]:
    gap = max(0, a[0] - b[1], b[0] - a[1])
    return {"gap": gap, "reason": say("%(found)s cm / %(sought)s cm", found=_span(a), sought=_span(b))}


def _span(r: tuple[int, int]) -> str:
    return str(r[0]) if r[0] == r[1] else f"{r[0]}–{r[1]}"


# --- age on the day found -------------------------------------------------------------------------------

_AGE_RANGE = re.compile(r"^\s*(\d{1,3})\s*(?:-|–|\.\.)\s*(\d{1,3})\s*$")


def age_range(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    m = _AGE_RANGE.match(text)
    if m:
        return int(m[1]), int(m[2])
    return (int(text), int(text)) if text.strip().isdecimal() else None


def _full_years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _prep_age(r: MatchRecord, _fld: str) -> tuple[Any, ...] | None:
    estimated = age_range(r.extra.get("age_range"))
    if estimated is not None:
        found = date_range(r.extra.get("found_date"))
        return None if found is None else ("estimated", estimated, found)
    born = birth_range(r.birth_date, r.age, r.age_as_of, r.birth_year_to)
    return None if born is None else ("born", born)


def _feat_age(a: tuple[Any, ...], b: tuple[Any, ...]) -> dict[str, Any]:
    if {a[0], b[0]} != {"estimated", "born"}:
        return {}
    est, born = (a, b) if a[0] == "estimated" else (b, a)
    (lo, hi), found = est[1], est[2]
    first_born, last_born = date.fromordinal(born[1][0]), date.fromordinal(born[1][1])
    youngest = _full_years(last_born, date.fromordinal(found[0]))
    oldest = _full_years(first_born, date.fromordinal(found[1]))
    gap = max(0, lo - oldest, youngest - hi)
    return {
        "gap": gap,
        "reason": say(
            "estimated %(estimated)s, %(age)s on the day found",
            estimated=_span((lo, hi)),
            age=_span((youngest, oldest)),
        ),
    }


# --- where and when found, against where and when last seen ------------------------------------------------


def _prep_when(r: MatchRecord, _fld: str) -> tuple[str, Range] | None:
    for tag, key in (("found", "found_date"), ("seen", "last_seen_date")):
        rng = date_range(r.extra.get(key))
        if rng is not None:
            return tag, rng
    return None


def _feat_when(a: tuple[str, Range], b: tuple[str, Range]) -> dict[str, Any]:
    if {a[0], b[0]} != {"found", "seen"}:
        return {}
    found, seen = (a[1], b[1]) if a[0] == "found" else (b[1], a[1])
    reason = say("last seen %(seen)s, found %(found)s", seen=range_text(seen), found=range_text(found))
    if found[1] < seen[0]:
        return {"order": "before", "reason": reason}
    return {"order": "after", "days": max(0, found[0] - seen[1]), "reason": reason}


def _prep_where(r: MatchRecord, _fld: str) -> tuple[str, frozenset[str]] | None:
    return place_key(r.extra.get("found_place") or r.extra.get("last_seen_place"))


def _feat_where(a: tuple[str, frozenset[str]], b: tuple[str, frozenset[str]]) -> dict[str, Any]:
    # No coordinates in the gazetteer (ingest/gazetteer.py knows names only): places agree by name, as the
    # ordinary place comparison does (the same normalised name, a shared naming word, or a close spelling).
    equal = a[0] == b[0]
    return {"equal": equal, "similar": equal or bool(a[1] & b[1]) or ratio(a[0], b[0]) >= 85}


# --- blocking: which persons one record of remains is compared with at all ---------------------------------
# As a forensic identification service narrows a search before comparing (ICRC, "Missing People, DNA Analysis
# and Identification of Human Remains", 2nd ed., 2009, §4: sex, age and the time of disappearance first): a
# person is a plausible identity when the sex is the same or unknown on one side, the age on the day found is
# within AGE_MARGIN years of the estimated range, and the person was not last seen after the remains were
# found. Place is not a block: the gazetteer has no coordinates, and the model itself expects a quarter of
# true identities to be found elsewhere (found_where "different", m 0.25).
AGE_MARGIN = 10  # years beyond the estimated age range (estimates of adults' age err by up to a decade)


@dataclass(frozen=True)
class Window:
    """The SQL-friendly bounds of `plausible` for one record of remains (each None: not narrowed). Years
    and dates are compared as partial ISO text, so that they can be read from the columns as stored."""

    sex: str | None
    born_from_year: int | None  # a person born before this year cannot be the remains
    born_before_year: int | None  # nor one born in this year or later
    seen_until: str | None  # a person last seen after this day (full ISO) cannot be the remains


def window(rem: MatchRecord) -> Window:
    """A coarse (year-wide) superset of the persons `plausible` keeps, for narrowing the read."""
    age = _prep_age(rem, "")
    when = _prep_when(rem, "")
    born_from = born_before = None
    if age is not None and age[0] == "estimated":
        (lo, hi), found = age[1], age[2]
        born_from = date.fromordinal(found[0]).year - hi - AGE_MARGIN - 1
        born_before = date.fromordinal(found[1]).year - max(0, lo - AGE_MARGIN) + 1
    seen_until = date.fromordinal(when[1][1]).isoformat() if when and when[0] == "found" else None
    return Window(rem.sex or None, born_from, born_before, seen_until)


def plausible(rem: MatchRecord, other: MatchRecord) -> bool:
    """Whether a missing person or request is compared with the remains at all (see `Window`)."""
    if rem.sex and other.sex and rem.sex != other.sex:
        return False
    a, b = _prep_age(rem, ""), _prep_age(other, "")
    if a is not None and b is not None and _feat_age(a, b).get("gap", 0) > AGE_MARGIN:
        return False
    w, s = _prep_when(rem, ""), _prep_when(other, "")
    return not (w is not None and s is not None and _feat_when(w, s).get("order") == "before")


REMAINS_COMPARATORS: dict[str, Comparator] = {
    "marks": Comparator(_prep_marks, _feat_marks, ("extra",)),
    "height": Comparator(_prep_height, _feat_height, ("extra",)),
    "age_when_found": Comparator(
        _prep_age, _feat_age, ("extra", "birth_date", "age", "age_as_of", "birth_year_to")
    ),
    "found_when": Comparator(_prep_when, _feat_when, ("extra",)),
    "found_where": Comparator(_prep_where, _feat_where, ("extra",)),
}
