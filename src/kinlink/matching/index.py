"""In-memory candidate index: blocking keys and service numbers -> record rows, answered without a scan.

Records are held column by column (repeated values such as units and ranks stored once), postings as one
sorted numpy array with offsets (CSR), so a million records fit in a few hundred MiB. A query takes the
postings of its keys, pre-ranks the rows cheaply (keys shared, birth range gap, sex) with numpy, and only
the shortlist is scored by the full model, through the same `Scorer` the database path uses.
"""

from __future__ import annotations

import gc
import os
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import partial
from typing import Any

import numpy as np

from kinlink import names as _names
from kinlink.matching import index_hits
from kinlink.matching import names_bridge as nb
from kinlink.matching.index_assembly import Column, gathered, merged_postings
from kinlink.matching.index_build import (
    COLUMN_FIELDS,
    NAME_PARTS,
    SHARED_FIELDS,
    Chunk,
    Piece,
    Sender,
    Sent,
    parallel_chunks,
    prepare_chunk,
    record_batches,
)
from kinlink.matching.keys import MAX_POSTING, prerank, query_keys, shared_counts
from kinlink.matching.model import Model
from kinlink.matching.record import MatchRecord, pickled_by_slots
from kinlink.matching.score import Scorer
from kinlink.matching.score_names import UNSEEN
from kinlink.matching.score_values import Prepared, Scored, TermFrequencies

_TF_TABLES = ("family", "given", "patronymic")


@pickled_by_slots
@dataclass(frozen=True, slots=True)
class Hit:
    row: int
    record: MatchRecord
    scored: Scored


class CandidateIndex:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.size = 0
        self._ids: list[Any] = []
        self._names: list[str] = []
        self._other_names: dict[int, tuple[str, ...]] = {}
        self._srids: list[str | None] = []
        self._service = Column()
        self._cols = {f: Column() for f in SHARED_FIELDS}
        self._record_cols = tuple(self._cols.get(f, self._service) for f in COLUMN_FIELDS)
        # Postings are keyed by the keys' string hashes, sorted (one int64 a distinct key), not by the
        # strings: a million records have millions of distinct keys, whose strings and dict were a third
        # of the index's memory and interning them a third of the assembly's time. A hash is only valid
        # in the process family that built the index (forked workers share the hash seed); two keys of
        # one hash (odds ~1e-6 at 5M keys) would only share a posting list.
        self._key_hash = np.empty(0, dtype=np.int64)
        self._post_hashes: list[np.ndarray] = []
        self._parsed = {p: Column() for p in NAME_PARTS}
        # Read for every candidate: no dict look-ups.
        self._part_cols = tuple(self._parsed[p] for p in NAME_PARTS)
        self._parsed_other: dict[int, tuple[Any, ...]] = {}
        # Settled keys by the codes of what they read (`_settled_facts`), and the weights of the codes of
        # values that repeat against a query's value (`Scorer.others_weights`), filled as searches ask.
        self._by_value: dict[tuple[int, Any], dict[int, float]] = {}
        self._settled_keys: dict[tuple[int, int, int, int], Any] = {}
        self._tf_cols = (Column(), Column(), Column())
        # Each comparison's prepared value (birth range, unit key...), so scoring never rebuilds a record.
        self._value_cols = [Column() for _ in model.comparisons]
        # Once built: each row's codes in the comparisons' value columns and then the name keys' columns,
        # side by side, and those columns' distinct values.
        self._row_codes = np.empty((0, len(model.comparisons) + 3), dtype=np.int32)
        self._row_objects: list[np.ndarray] = []
        self._row_lists: list[list[Any]] = []
        self._post_rows = array("I")
        self.tf = TermFrequencies()
        self.birth_lo = np.empty(0, dtype=np.int32)
        self.birth_hi = np.empty(0, dtype=np.int32)
        self.sex = np.empty(0, dtype=np.int8)
        # The three side by side, a row's in one int64 (`_pre_facts`): what the pre-rank reads of each of
        # a query's thousands of rows then costs one cache miss, not three.
        self._pre = np.empty(0, dtype=np.int64)
        self._lo: list[np.ndarray] = []  # while building: each block's birth ranges and sexes
        self._hi: list[np.ndarray] = []
        self._sex: list[np.ndarray] = []
        self.offsets = np.zeros(1, dtype=np.int64)
        self.rows = np.empty(0, dtype=np.uint32)
        self.scorer: Scorer = Scorer(model, self.tf)
        self._name_bound = np.empty(0)

    # --- building ------------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        model: Model,
        records: Iterable[MatchRecord],
        progress: Callable[[int], None] | None = None,
        processes: int = 1,
    ) -> CandidateIndex:
        """Index records, read once as they come (a list, or rows streamed from the database).

        Records are prepared chunk by chunk (names parsed, keys derived, field values worked out); with
        processes > 1 in forked workers, a few chunks ahead of the assembly here, which keeps the records'
        order: the index is the same as with one process.

        The index is millions of long-lived objects, which the cyclic garbage collector would otherwise
        traverse again and again: while they are allocated (a third of the build's time) and then at each
        full collection during the searches (a quarter of theirs, growing with the index). So collection
        is paused while building, and the built index is moved out of its reach (`gc.freeze`; reference
        counting still frees it). Forked workers then also leave its pages shared.
        """
        idx = cls(model)
        blocks: Iterable[tuple[list[MatchRecord], list[Piece]]]
        with gc_paused():
            if processes > 1 and hasattr(os, "fork"):
                blocks = parallel_chunks(records, model, processes)
            else:
                sender = Sender()
                batches = record_batches(iter(records))
                blocks = ((batch, [(sender.send(prepare_chunk(batch, model)), None)]) for batch in batches)
            for batch, pieces in blocks:
                idx._add_chunk(batch, pieces)
                if progress:
                    progress(len(batch))
            if idx._lo:
                idx.birth_lo, idx.birth_hi = np.concatenate(idx._lo), np.concatenate(idx._hi)
                idx.sex = np.concatenate(idx._sex)
                idx._lo, idx._hi, idx._sex = [], [], []
            idx._finish()
            gc.freeze()
        return idx

    def _add_chunk(self, records: list[MatchRecord], pieces: list[Piece]) -> None:
        """Append a block of records as its preparers prepared it, each a piece of its rows
        (`index_build.parallel_chunks`): the same whichever preparer prepared which records."""
        first, n = self.size, len(records)
        self._ids.extend([r.id for r in records])
        self._names.extend([r.name for r in records])
        self._srids.extend([r.source_record_id for r in records])
        for i, r in enumerate(records):
            if r.other_names:
                self._other_names[first + i] = tuple(r.other_names)

        def columns(sent: Callable[[Chunk], list[Sent]]) -> Iterator[list[tuple[int, Sent, Any]]]:
            # Column by column, each piece's part of it.
            by_piece = [sent(c) for c, _rows in pieces]
            for at in range(len(by_piece[0])):
                yield [(c.source, s[at], rows) for (c, rows), s in zip(pieces, by_piece, strict=True)]

        self._service.extend(next(columns(lambda c: [c.service])), n)
        for col, got in zip(self._cols.values(), columns(lambda c: c.shared), strict=True):
            col.extend(got, n)
        for col, got in zip(self._value_cols, columns(lambda c: c.values), strict=True):
            col.extend(got, n)
        for col, got in zip(self._parsed.values(), columns(lambda c: c.parts), strict=True):
            col.extend(got, n)
        for col, got in zip(self._tf_cols, columns(lambda c: list(c.tf_columns)), strict=True):
            col.extend(got, n)  # counted once built (`_count_names`)
        others = [
            (i if rows is None else int(rows[i]), other)
            for c, rows in pieces
            for i, other in c.other_parsed.items()
        ]
        for i, other in sorted(others, key=lambda io: io[0]):
            self._parsed_other[first + i] = other
        self.tf.population += n
        hashes, at = pieces[0][0].key_hashes, pieces[0][0].key_rows
        if pieces[0][1] is not None:
            at = pieces[0][1][at]
            for c, rows in pieces[1:]:
                hashes, at = merged_postings(hashes, at, c.key_hashes, rows[c.key_rows])  # type: ignore[index]
            at = at.astype(np.uint32)
        self._post_hashes.append(hashes)
        self._post_rows.frombytes((at + np.uint32(first)).tobytes())
        for whole, part in ((self._lo, "birth_lo"), (self._hi, "birth_hi"), (self._sex, "sex")):
            whole.append(gathered([(getattr(c, part), rows) for c, rows in pieces], n))
        self.size += n

    def parsed_names(self, row: int) -> tuple[Any, ...]:
        family, given, patronymic, initials, meta_col = self._part_cols
        meta = meta_col.values[meta_col.codes[row]]
        out: tuple[Any, ...] = ()
        if meta is not None:
            script, language, sex, order = meta
            out = (
                _names.ParsedName(
                    self._names[row],
                    family.values[family.codes[row]],
                    given.values[given.codes[row]],
                    patronymic.values[patronymic.codes[row]],
                    initials.values[initials.codes[row]],
                    script,
                    language,
                    sex,
                    order,
                ),
            )
        other = self._parsed_other.get(row)
        return out + other if other else out

    def _settled_facts(self, row: int) -> tuple[Any, str | None] | None:
        """A row of one name: its settled key and family name (`Prepared.settled_facts`), read from its
        columns without making its parsed name, which most candidates are bounded out without (issue 19).
        The key is remembered by the codes of all `names.settled_key` reads (given names, initials,
        patronymic, and the order in the name's meta); None for a row of several names or none."""
        family, given, patronymic, initials, meta_col = self._part_cols
        meta = meta_col.codes[row]
        if meta_col.values[meta] is None or row in self._parsed_other:
            return None
        codes = (given.codes[row], initials.codes[row], patronymic.codes[row], meta)
        key = self._settled_keys.get(codes, UNSEEN)
        if key is UNSEEN:
            key = self._settled_keys[codes] = nb.settled_key(self.parsed_names(row))
        return key, family.values[family.codes[row]]

    def tf_keys(self, row: int) -> tuple[str | None, str | None, str | None]:
        a, b, c = self._tf_cols
        return a.values[a.codes[row]], b.values[b.codes[row]], c.values[c.codes[row]]

    def _finish(self) -> None:
        hashes = np.concatenate(self._post_hashes) if self._post_hashes else np.empty(0, dtype=np.int64)
        self._post_hashes = []
        rows = np.frombuffer(self._post_rows, dtype=np.uint32)
        # Stable: each posting list keeps its rows in order (each chunk's postings come sorted so, and
        # chunks in order: the sort merges their runs).
        order = np.argsort(hashes, kind="stable")
        self.rows = rows[order]
        hashes = hashes[order]
        del order
        self._post_rows = array("I")
        new = np.ones(len(hashes), dtype=bool)  # where a distinct key's rows start
        np.not_equal(hashes[1:], hashes[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        self._key_hash = hashes[starts]
        self.offsets = np.append(starts, len(hashes)).astype(np.int64)
        for c in (*self._cols.values(), *self._parsed.values(), *self._tf_cols, *self._value_cols):
            c.freeze()
        self._service.freeze()
        self._count_names()
        # A candidate's codes side by side, in one cache line: read from a column each, a candidate cost a
        # cache miss per comparison, a fifth of a search's time. The value columns' own codes are dropped.
        cols = (*self._value_cols, *self._tf_cols)
        self._row_objects = [np.fromiter(c.values, dtype=object, count=len(c.values)) for c in cols]
        self._row_lists = [c.values for c in cols]  # the same, as lists: a search reads a few values a row
        self._row_codes = np.stack([np.frombuffer(c.codes, dtype=np.int32) for c in cols], axis=1)
        for c in self._value_cols:
            c.codes = array("i")
        self.scorer = Scorer(self.model, self.tf, population=self.size)
        self._name_bound = self._name_bounds()
        # Each row's (first day of birth, (last day - first day) * 4 + sex code) as two int32s.
        pair = np.empty((self.size, 2), dtype=np.int32)
        pair[:, 0] = self.birth_lo
        pair[:, 1] = (self.birth_hi - self.birth_lo) * 4 + self.sex
        self._pre = pair.view(np.int64).ravel()

    def _count_names(self) -> None:
        """The term frequencies, from the name keys' columns: each key counted once, in the order keys first
        appear (the order counting chunk by chunk gave), not once a chunk that holds it (issue 19)."""
        for table, col in zip(_TF_TABLES, self._tf_cols, strict=True):
            counts = np.bincount(np.frombuffer(col.codes, dtype=np.int32), minlength=len(col.values))
            self.tf.add_counts(table, zip(col.values, counts.tolist(), strict=True))

    def _name_bounds(self) -> np.ndarray:
        """Every record's name bound (`Scorer.name_bound`), summed once from its distinct name keys:
        searching otherwise works it out again for every candidate it bounds."""
        bound = np.full(self.size, self.scorer.name_bound_term(None))
        for table, col in zip(_TF_TABLES, self._tf_cols, strict=True):
            terms = np.array(self.scorer.name_bound_terms(table, col.values))
            bound += terms[np.frombuffer(col.codes, dtype=np.int32)]
        return bound

    # --- reading -------------------------------------------------------------------------------------

    def record(self, row: int) -> MatchRecord:
        # Its fields in MatchRecord's order, by position: a batch's parent reads every hit's record so
        # (`searcher.Searcher._received`), and by name they cost twice as much (issue 19).
        return MatchRecord(
            self._ids[row],
            self._names[row],
            self._other_names.get(row, ()),
            self._srids[row],
            *[c.values[c.codes[row]] for c in self._record_cols],
        )

    def __len__(self) -> int:
        return self.size

    def memory_bytes(self) -> int:
        """The numpy part only (postings, birth ranges); Python objects are measured by the caller."""
        return int(
            self.rows.nbytes
            + self.offsets.nbytes
            + self._key_hash.nbytes
            + self.birth_lo.nbytes * 2
            + self.sex.nbytes
            + self._pre.nbytes
        )

    def posting(self, key: str) -> np.ndarray:
        return self.postings([key])[0]

    def postings(self, keys: list[str]) -> list[np.ndarray]:
        """Each key's rows (empty for a key no record has), looked up together."""
        if not len(self._key_hash):
            return [self.rows[:0] for _k in keys]
        h = np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys))
        at = np.minimum(np.searchsorted(self._key_hash, h), len(self._key_hash) - 1)
        found = (self._key_hash[at] == h).tolist()
        lo, hi = self.offsets[at].tolist(), self.offsets[at + 1].tolist()
        rows = self.rows
        return [rows[a:b] if f else rows[:0] for f, a, b in zip(found, lo, hi, strict=True)]

    # --- querying ------------------------------------------------------------------------------------

    def shortlist(self, query: MatchRecord, size: int = 30) -> np.ndarray:
        """Rows worth scoring: found under the query's keys, pre-ranked by keys shared, birth and sex."""
        # Keys in sorted order, so that of two equally common keys the same one is kept in every process
        # (a set's order changes with the string hash seed) and on Spark (kinlink.engines.spark).
        keys = sorted(query_keys(query))
        found = [(k, p) for k, p in zip(keys, self.postings(keys), strict=True) if len(p)]
        if not found:
            return self.rows[:0]
        selective = [p for _k, p in found if len(p) <= MAX_POSTING]
        postings = selective or [min(found, key=lambda kp: len(kp[1]))[1]]
        if len(postings) == 1:  # a posting list holds each row once, in order
            rows, shared = postings[0], np.ones(len(postings[0]), dtype=np.int64)
        else:
            # Stable: a merge sort (timsort) that finds each posting list's sorted run, a third of the
            # default sort's time on thousands of rows (issue 19); the same sorted rows.
            rows, shared = shared_counts(np.sort(np.concatenate(postings), kind="stable"))
            if len(rows) > _WORTH_PRUNING:
                rows, shared = self._worth_ranking(query, rows, shared, size)
        neg = np.negative(prerank(query, shared, *self._pre_facts(rows)))
        if len(rows) > size:
            # Of equal pre-ranks at the cut, the lowest rows (= record ids: the index holds records in id
            # order) go in, as on Spark; argpartition alone would pick any of them.
            cut = neg.copy()
            cut.partition(size - 1)
            top = (neg <= cut[size - 1]).nonzero()[0]  # in row order
            if len(top) > size:  # ties at the cut: the lowest rows of them
                at = (neg.take(top) == cut[size - 1]).nonzero()[0]
                keep = np.ones(len(top), dtype=bool)
                keep[at[size - (len(top) - len(at)) :]] = False
                top = top[keep]
            rows, neg = rows.take(top), neg.take(top)
        # Best first (ties by row), so that the bound in `search` prunes the rest early.
        return rows.take(neg.argsort(kind="stable"))

    def _worth_ranking(
        self, query: MatchRecord, rows: np.ndarray, shared: np.ndarray, size: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The rows (and their keys shared) that may enter a shortlist of `size`: at a million records a
        query's keys find thousands, nearly all through one key, and the best share five or more.

        A row's pre-rank is at most its keys shared (the birth and sex costs are never negative), so a row
        sharing fewer keys than the size-th best pre-rank cannot enter. That pre-rank is at least the
        size-th best of any of the rows: of those that share the most keys, pre-ranked first (a few
        hundred: their birth ranges read, not thousands; issue 19). The rows left keep their order."""
        counts = np.bincount(shared)  # rows by keys shared
        # The most keys that `size` rows share: those rows are pre-ranked first.
        most = int(np.flatnonzero(np.cumsum(counts[::-1]) >= size)[0])
        least = len(counts) - 1 - most
        if least <= 1:  # every row shares a key: none could be left out
            return rows, shared
        first = (shared >= least).nonzero()[0]
        if 2 * len(first) > len(rows):
            return rows, shared
        ranked = prerank(query, shared.take(first), *self._pre_facts(rows.take(first)))
        floor = np.partition(ranked, len(ranked) - size)[len(ranked) - size]
        keep = (shared >= floor).nonzero()[0]
        return rows.take(keep), shared.take(keep)

    def _pre_facts(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows' first and last days of birth and sex codes, read from `_pre` (take, not rows as an
        index: half the time)."""
        pair = self._pre.take(rows).view(np.int32).reshape(-1, 2)
        lo, packed = pair[:, 0], pair[:, 1]
        return lo, lo + (packed >> 2), packed & 3  # the sex codes as int32: a table's index all the same

    def score_rows_for(self, query: Any, row: int) -> Scored:
        """Score a prepared query against one row (no pruning)."""
        return self.scorer.score(query, self._prepared_row(row))

    def score_rows(self, query_row: int, row: int) -> Scored:
        return self.scorer.score(self._prepared_row(query_row), self._prepared_row(row))

    def _prepared_row(self, row: int) -> Prepared:
        return self._prepared_rows(np.array([row], dtype=np.int64))[0]

    def _prepared_rows(self, rows: np.ndarray) -> list[Prepared]:
        """The rows as the scorer takes them, their codes gathered in one numpy step; names are parsed
        only if a candidate passes the bound (`Prepared.parsed`)."""
        n_values = len(self._value_cols)
        codes = self._row_codes[rows]
        # Column by column in numpy (object arrays of each column's distinct values), then zipped into
        # each row's tuples in C: no Python step a value.
        cols = [arr[codes[:, j]].tolist() for j, arr in enumerate(self._row_objects)]
        values = zip(*cols[:n_values], strict=True) if n_values else (() for _r in range(len(rows)))
        out = [
            Prepared(None, None, v, tf, bound, partial(self.parsed_names, row))  # type: ignore[arg-type]
            for row, v, tf, bound in zip(
                rows.tolist(),
                values,
                zip(*cols[n_values:], strict=True),
                self._name_bound[rows].tolist(),
                strict=True,
            )
        ]
        return out

    def search(
        self, query: MatchRecord, limit: int = 10, shortlist: int = 30, min_probability: float = 0.0
    ) -> list[Hit]:
        """The best matches for one query, best first, each with its probability and explanation."""
        found = self.found(query, limit, shortlist, min_probability)
        return [Hit(row, self.record(row), scored) for row, scored in found]

    def found(
        self, query: MatchRecord, limit: int = 10, shortlist: int = 30, min_probability: float = 0.0
    ) -> list[tuple[int, Scored]]:
        """`search`'s hits as rows and scores: a batch's workers send them so, and the record is read
        where the hit is received (`searcher.Searcher`)."""
        return index_hits.found(self, self.shortlist(query, shortlist), query, limit, min_probability)


# Rows found from which a shortlist is worth pruning before pre-ranking (`_worth_ranking`): its own numpy
# steps cost about what pre-ranking a thousand rows does (at 200k records, where fewer are found, pruning
# every query's rows made searching 5 % dearer; at 1M, 11 % cheaper).
_WORTH_PRUNING = 2048


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def record_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(MatchRecord))
