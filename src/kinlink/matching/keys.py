"""What records and queries are looked up by, and the cheap pre-rank of what is found.

Shared by the in-memory index and the database path, so that both find and shortlist the same candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from typing import Any

import numpy as np

from kinlink import names as _names
from kinlink.matching import names_bridge as nb
from kinlink.matching.comparators import birth_range, identifier_key, sex_key
from kinlink.matching.record import MatchRecord
from kinlink.names.blocking import distinct_keys, key_parts

MISSING_DAY = np.iinfo(np.int32).min
SERVICE_KEY = "sn:"
# Keys shared by more records than this are used only when a query has nothing more selective.
MAX_POSTING = 20_000


def record_keys(record: MatchRecord, parsed: Sequence[Any] | None = None) -> set[str]:
    """Every key under which a record is found: its names' blocking keys and its service number."""
    keys: set[str] = set()
    if parsed is not None:
        for p in parsed:
            keys |= _names.blocking_keys(p)
    else:
        for n in record.all_names:
            if n and n.strip():
                keys |= nb.blocking_keys(n)
    sn = identifier_key(record.service_number)
    if sn:
        keys.add(SERVICE_KEY + sn)
    return keys


def query_keys(query: MatchRecord) -> set[str]:
    """The keys a query is looked up by: its record keys and its names' typo keys (a family name written
    with initials only, see `kinlink.names.typo_keys`), which only queries carry."""
    keys = record_keys(query)
    for n in query.all_names:
        if n and n.strip():
            keys |= _names.typo_keys(nb.parse(n))
    return keys


def prerank(
    query: MatchRecord, shared: np.ndarray, lo: np.ndarray, hi: np.ndarray, sex: np.ndarray
) -> np.ndarray:
    """A cheap score choosing which candidates get the full model: keys shared, less birth gap, sex clash."""
    rank = shared.astype(np.float32)
    br = birth_range(query.birth_date, query.age, query.age_as_of, query.birth_year_to)
    if br is not None:
        # A year's gap costs about one key (at most six); unknown birth costs less than a wrong one. Read
        # from a table of each gap's cost (the same float32 as min(gap / 365.0, 6.0)): the costs worked
        # out as floats, element by element, were a third of the shortlist's time on thousands of rows.
        gap = np.maximum(lo - br[1], br[0] - hi)
        cost = _GAP_COST.take(gap, mode="clip")  # a gap below 0 costs what 0 does, above six years six's
        cost[lo == MISSING_DAY] = np.float32(0.5)
        rank -= cost
    s = sex_key(query.sex)
    if s:
        # A sex clash costs two keys: each sex code's cost (0 unknown, 1 m, 2 f) read from a table.
        rank -= _SEX_COST[s].take(sex)
    return rank


# min(gap / 365.0, 6.0) as float32 for every gap up to six years (any longer costs what six do).
_MAX_GAP = 6 * 365
_GAP_COST = np.minimum(np.arange(_MAX_GAP + 1) / 365.0, 6.0).astype(np.float32)
_SEX_COST = {
    "m": np.array([0.0, 0.0, 2.0], dtype=np.float32),
    "f": np.array([0.0, 2.0, 0.0], dtype=np.float32),
}


Keyed = tuple[list[str], tuple[Any, ...]]  # blocking keys, parsed names
NameKeys = tuple[str | None, str | None, str | None]  # term-frequency keys: family, given, patronymic


def shared_counts(every: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of the sorted ids a query's keys found (an id once per key it holds), each distinct id and how many
    keys it shares with the query: np.unique(..., return_counts=True) without its generality's cost. The
    in-memory index and the database's shortlist count alike through here."""
    # The ufuncs and methods themselves: numpy's Python wrappers (flatnonzero, diff, append) cost more than
    # their work on a query's few thousand ids.
    new = np.empty(len(every), dtype=bool)
    new[:1] = True
    np.not_equal(every[1:], every[:-1], out=new[1:])
    starts = new.nonzero()[0]
    counts = np.empty(len(starts), dtype=np.int64)
    np.subtract(starts[1:], starts[:-1], out=counts[:-1])
    counts[-1:] = len(every) - starts[-1:]
    return every.take(starts), counts


@lru_cache(maxsize=65_536)  # bounded: a forked worker keeps its own
def _name_keyed(text: str) -> tuple[Any, frozenset[str], tuple[str, ...], NameKeys]:
    # Pure, and most names of a registry repeat (the same full name, the same alternate spelling): parsed
    # and keyed once per distinct name, not once per record (issue 19). The keys come sorted too, and the
    # term-frequency keys beside them: a record of one name and no service number (most) then costs no
    # set, no sort and no second look at its parsed name.
    parsed = _names.parse_name(text)
    keys = frozenset(chain.from_iterable(key_parts(parsed)))
    return parsed, keys, tuple(sorted(keys)), nb.tf_keys_parsed(parsed)


def key_record(r: MatchRecord) -> Keyed:
    """The costly part of indexing a record: parsing its names and deriving their keys (`record_keys`)."""
    keys, parsed, _tf = key_record_tf(r)
    return list(keys), parsed


NO_TF: NameKeys = (None, None, None)


def key_record_tf(r: MatchRecord) -> tuple[tuple[str, ...], tuple[Any, ...], NameKeys]:
    """`key_record`'s keys (sorted) and parsed names, and the primary name's term-frequency keys."""
    named = [_name_keyed(n) for n in r.all_names if n and n.strip()]
    sn = identifier_key(r.service_number)
    if len(named) == 1 and not sn:
        parsed, _k, ordered, tf = named[0]
        return ordered, (parsed,), tf
    keys: set[str] = set().union(*(k for _p, k, _o, _t in named))
    if sn:
        keys.add(SERVICE_KEY + sn)
    return tuple(sorted(keys)), tuple(p for p, *_rest in named), named[0][3] if named else NO_TF


@lru_cache(maxsize=65_536)  # bounded: a forked worker keeps its own
def name_indexed(text: str) -> tuple[Any, tuple[str, ...], NameKeys]:
    # What indexing a name needs (`_name_keyed` without the set and the sort: a posting list's rows are in
    # order whatever order a record's keys come in), parsed past parse_name's own cache: this one is the
    # build's cache a name, and a name is nearly always new (issue 19).
    parsed = _names.parse_name.__wrapped__(text)
    return parsed, distinct_keys(parsed), nb.tf_keys_parsed(parsed)


def index_keyed(r: MatchRecord) -> tuple[tuple[str, ...], tuple[Any, ...], NameKeys]:
    """`key_record_tf` for an index: the same keys, each once, in no particular order."""
    names = r.all_names
    if len(names) == 1 and names[0] and names[0].strip():
        parsed, keys, tf = name_indexed(names[0])
        sn = identifier_key(r.service_number)
        # A service number's key (sn:) is never a name's.
        return ((*keys, SERVICE_KEY + sn) if sn else keys), (parsed,), tf
    return key_record_tf(r)
