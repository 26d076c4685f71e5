"""A search's chosen records as the scorer takes them: prepared once per process (`PreparedCache`), and for a
query of names alone (a staff search) read whole only if they reach scoring (`by_names`).

At a million records most of a search's ~60 chosen records are new to a process: reading each whole (three
tables) and preparing its fields was about a third of a staff search's CPU on SQLite. A query of names alone
is bounded and settled by the records' names alone; the few that reach scoring (~3.5 of 60 in the bench's
searches at 1M) are then read whole, together (issue 19).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from kinlink.matching import names_bridge as nb
from kinlink.matching.best import bounded_best
from kinlink.matching.model import Model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Scorer
from kinlink.matching.score_values import Others, Prepared, Scored
from kinlink.store.match_keys import TF_PREFIX, DbTermFrequencies
from kinlink.store.match_records import person_records

_LOCK = threading.Lock()


class PreparedCache:
    """Records as the scorer of one model prepares them, kept between searches of this process (LRU).

    Keyed by id, version and creation time: every write to a record (fields, names, events) goes
    through the ORM, whose version counter it bumps, and SQLite may give an erased record's id to a new
    one, which the creation time tells apart. An entry is never stale, only no longer asked for.
    """

    # About 1.5 kB an entry beyond the parsed names (which `names_bridge.parse` caches anyway): at most
    # ~0.4 GB a process with its names. At a million records a search's 60 best are mostly new to a
    # smaller cache, and preparing a record (reading it, parsing its names) is most of a search's CPU.
    SIZE = 100_000

    def __init__(self) -> None:
        self.items: OrderedDict[tuple[int, int, str], tuple[Any, ...]] = OrderedDict()
        self.ids: dict[int, int] = {}  # record id -> its entries (versions) in `items`
        self.lock = threading.Lock()

    def get(self, key: tuple[int, int, str]) -> tuple[Any, ...] | None:
        with self.lock:
            hit = self.items.get(key)
            if hit is not None:
                self.items.move_to_end(key)
            return hit

    def get_many(self, keys: list[tuple[int, int, str]]) -> list[tuple[Any, ...] | None]:
        """`get` of each key, under one taking of the lock (a search asks for 60)."""
        items = self.items
        out: list[tuple[Any, ...] | None] = []
        with self.lock:
            for key in keys:
                hit = items.get(key)
                if hit is not None:
                    items.move_to_end(key)
                out.append(hit)
        return out

    def known(self, ids: list[int]) -> list[int]:
        """Of these record ids, those with an entry (of any version): whose records a search need not read
        whole with their versions."""
        with self.lock:
            return [pid for pid in ids if pid in self.ids]

    def put(self, key: tuple[int, int, str], value: tuple[Any, ...]) -> None:
        with self.lock:
            if key not in self.items:  # (two threads may prepare the same record at once)
                self.ids[key[0]] = self.ids.get(key[0], 0) + 1
            self.items[key] = value
            if len(self.items) > self.SIZE:
                gone = self.items.popitem(last=False)[0][0]
                if self.ids[gone] == 1:
                    del self.ids[gone]
                else:
                    self.ids[gone] -= 1


_T = TypeVar("_T")


def for_model(table: dict[int, tuple[Model, _T]], model: Model, make: Callable[[], _T]) -> _T:
    """What `table` keeps for this model, made if new. The model is held beside it, so that its id stays
    its own; models come and go only in tests and EM runs, so a few are kept."""
    with _LOCK:
        held = table.get(id(model))
        if held is None or held[0] is not model:
            if len(table) >= 4:
                table.clear()
            held = table[id(model)] = (model, make())
        return held[1]


# Per model: the prepared values follow its comparisons.
PREPARED: dict[int, tuple[Model, PreparedCache]] = {}


def prepared_records(
    session: Session,
    scorer: Scorer,
    keyed: list[tuple[int, int, str]],
    read: dict[int, MatchRecord] | None = None,
) -> list[Prepared]:
    """The records of these (id, version, created) keys, prepared for scoring, in that order (those that
    exist): from this process's cache, the others prepared from `read` (records already read with their
    versions) or read and prepared."""
    cache = for_model(PREPARED, scorer.model, PreparedCache)
    found: dict[int, tuple[Any, ...]] = {}
    missing = []
    for key, hit in zip(keyed, cache.get_many(keyed), strict=True):
        if hit is None:
            missing.append(key)
        else:
            found[key[0]] = hit
    if missing:
        keys = {k[0]: k for k in missing}
        read = read or {}
        # In id order, as person_records gives them, whether read already or now.
        unread = [pid for pid in keys if pid not in read]
        got = [read[pid] for pid in keys if pid in read]
        recs = sorted([*got, *person_records(session, unread)], key=lambda r: int(r.id))  # type: ignore[arg-type]
        for rec in recs:
            p = scorer.prepare(rec)
            parts = (p.record, p.names, p.values, p.tf_keys)
            cache.put(keys[int(rec.id)], parts)  # type: ignore[arg-type]
            found[int(rec.id)] = parts  # type: ignore[arg-type]
    # A fresh Prepared each search: the bound it memoises follows this search's name counts.
    return [Prepared(*found[k[0]]) for k in keyed if k[0] in found]


# Per model: the records read by their names alone (`by_names`), prepared without their other fields' values
# (`Prepared.values` None): small (the parsed names are `names_bridge.parse`'s), so twice as many are kept.
NAMED: dict[int, tuple[Model, PreparedCache]] = {}


def caches(model: Model) -> tuple[PreparedCache, PreparedCache]:
    """This model's records prepared whole, and those prepared from their names alone."""
    return for_model(PREPARED, model, PreparedCache), for_model(NAMED, model, _NamedCache)


class _NamedCache(PreparedCache):
    SIZE = 2 * PreparedCache.SIZE


def prefetch(scorer: Scorer, prepared: list[Prepared]) -> None:
    """The name counts these records' bounds and scores read, in one read of those not known yet."""
    if isinstance(scorer.tf, DbTermFrequencies):
        scorer.tf.prefetch(
            (table, key) for p in prepared for table, key in zip(TF_PREFIX, p.tf_keys, strict=True) if key
        )


def names_alone(scorer: Scorer, query: MatchRecord) -> bool:
    """Whether the query has a value for no comparison but the names (a name typed in a search box): every
    candidate's other fields then weigh nothing, and its bound, settled parts and score read its names
    alone; its other values only tell the evidence and the namesakes note (`Scorer._sides`)."""
    values = scorer.values(query)
    return all(
        v is None
        for v, c in zip(values, scorer.model.comparisons, strict=True)
        if c.comparator != "name_part"
    )


def by_names(
    session: Session,
    scorer: Scorer,
    query: MatchRecord,
    keyed: list[tuple[int, int, str]],
    named: dict[int, tuple[str, ...]],
    limit: int,
    min_probability: float,
    reasons: bool,
    ids_only: bool = False,
) -> list[tuple[MatchRecord, Scored]]:
    """`Scorer.best` of these (id, version, created) records for a query of names alone (`names_alone`):
    `named` holds the names of those read so (`versions_and_names`). A record this process has not prepared
    is prepared from its names; it is read whole, with the others that reached scoring, only when it is
    one of the best (`bounded_best`'s `complete`). The same results as preparing every one whole.

    ids_only: the caller reads of each result its record's id and its score's probability, weight and note
    alone (a staff list, without reasons). Where the query gets no note (`Scorer.may_note`), no record
    is read whole: a result's record is then `MatchRecord(id=..., name="")`, its score the same."""
    whole, light = caches(scorer.model)
    prepared: list[Prepared] = []
    unread: list[int] = []  # known ids at another version: their names were not read (rare)
    hits = whole.get_many(keyed)
    lights = light.get_many([k for k, hit in zip(keyed, hits, strict=True) if hit is None])
    at = 0
    for key, hit in zip(keyed, hits, strict=True):
        if hit is None:
            hit, at = lights[at], at + 1
            if hit is None and key[0] in named:
                hit = _from_names(scorer, named[key[0]])
                light.put(key, hit)
        if hit is None:
            unread.append(len(prepared))
            hit = (None, None, None, (None, None, None))
        prepared.append(Prepared(*hit))
    ids = [k[0] for k in keyed]
    calls = [0] * len(prepared)

    def read_whole(wanted: list[int]) -> None:
        by_id = {ids[n]: n for n in wanted}
        for rec in person_records(session, list(by_id)):
            n = by_id[int(rec.id)]  # type: ignore[arg-type]
            p = scorer.prepare(rec)
            parts = (p.record, p.names, p.values, p.tf_keys)
            whole.put(keyed[n], parts)
            got = prepared[n]
            got.record, got.names, got.values, got.tf_keys = parts

    if unread:
        read_whole(unread)
    prefetch(scorer, prepared)

    def candidate(n: int) -> Prepared:
        calls[n] += 1
        return prepared[n]

    q = scorer.prepare(query)
    unscored = ids_only and not reasons and not scorer.may_note(q)
    blank = (None,) * len(scorer.model.comparisons)

    def complete(n: int) -> Prepared:
        if unscored:
            # With no value in the query, the other fields weigh 0.0 whatever the record holds, and the
            # note is None whatever it holds: a record prepared from its names scores the same (issue 19).
            p = prepared[n]
            return p if p.values is not None else Prepared(p.record, p.names, blank, p.tf_keys)
        if prepared[n].values is None:
            # bounded_best asks a candidate a second time to score it: those it scored are read whole
            # together, the best of which it asks for here one by one.
            read_whole([m for m, p in enumerate(prepared) if p.values is None and (calls[m] > 1 or m == n)])
        return prepared[n]

    # `Scorer.best`'s bounds: with no value in the query, each candidate's other fields weigh 0.0.
    weights = [0.0] * len(prepared)
    bounds = [scorer.bound(q, r, Others(0.0, ())) for r in prepared]
    best = bounded_best(
        scorer,
        q,
        bounds,
        weights,
        candidate,
        limit,
        min_probability,
        lambda n: str(ids[n]),
        reasons,
        complete=complete,
    )
    return [
        (rec if (rec := prepared[n].record) is not None else MatchRecord(id=ids[n], name=""), s)
        for n, s in best
    ]


def _from_names(scorer: Scorer, names: tuple[str, ...]) -> tuple[Any, ...]:
    """A record's parts as `Scorer.prepare` makes them of its names (`MatchRecord.all_names`), without its
    other fields' values (None)."""
    parsed = (
        tuple(nb.parse(n) for n in names if n and n.strip())
        if any(c.comparator == "name_part" for c in scorer.model.comparisons)
        else ()
    )
    tf_keys = nb.tf_keys_parsed(parsed[0]) if parsed else (None, None, None)
    return (None, parsed, None, tf_keys)
