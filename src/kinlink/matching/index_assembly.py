"""Putting a block of records together in the candidate index from the pieces its workers prepared.

The index build routes a block's records to its workers by name (`index_build.route`), so each worker
prepares a piece of the block's rows. These functions assemble the pieces into the index's columns and
postings exactly as one preparer would have made them from the whole block: values numbered in order of
first appearance over the block, postings sorted by key hash and then row.
"""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np

from kinlink.matching.index_build import Sent, first_rows, number_values


class Column:
    """A column of values, each distinct value (None included) stored once."""

    __slots__ = ("_sent", "codes", "lookup", "values")

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.lookup: dict[Any, int] = {}
        self.codes = array("i")
        self._sent: dict[int, np.ndarray] = {}  # per preparer (`Sender`): its numbers' codes here

    def extend(self, pieces: list[tuple[int, Sent, np.ndarray | None]], n: int) -> None:
        """Append a block's values as its preparers sent them (`Sender`), each a piece of its rows (None:
        all of them): only the values a preparer had not sent before are looked up, the others are known
        by its numbers for them. Values are numbered in order of first appearance over the block, as one
        preparer would have sent them, so routing records (`index_build.route`) changes nothing here."""
        if len(pieces) == 1 and pieces[0][2] is None:
            source, (new, distinct, codes), _rows = pieces[0]
            self._number(source, new)
            self.codes.frombytes(self._sent[source][distinct][codes].tobytes())
            return
        news = []
        for source, (new, distinct, codes), rows in pieces:
            if new:
                known = self._sent.get(source)
                # A preparer numbers its new values on from those it sent before, in their order.
                is_new = distinct >= (0 if known is None else len(known))
                news.append((new, rows[first_rows(codes)[is_new]]))  # type: ignore[index]
        if len(news) > 1:  # in order of their first row in the block, each once
            values = [v for new, _rows in news for v in new]
            firsts = np.concatenate([rows for _new, rows in news])
            ordered = [values[i] for i in np.argsort(firsts, kind="stable").tolist()]
            number_values(self.lookup, list(dict.fromkeys(ordered)))
        block = np.empty(n, dtype=np.int32)
        for source, (new, distinct, codes), rows in pieces:
            self._number(source, new)
            block[rows] = self._sent[source][distinct][codes]
        self.codes.frombytes(block.tobytes())

    def _number(self, source: int, new: list[Any]) -> None:
        # The values an earlier chunk held all come before: their order of first appearance.
        if new:
            added = number_values(self.lookup, new)[0]
            known = self._sent.get(source)
            self._sent[source] = added if known is None else np.concatenate([known, added])

    def get(self, row: int) -> Any:
        return self.values[self.codes[row]]

    def freeze(self) -> None:
        values: list[Any] = [None] * len(self.lookup)
        for v, code in self.lookup.items():
            values[code] = v
        self.values, self.lookup = values, {}  # the lookup is only needed while building
        self._sent = {}


def merged_postings(
    a_hashes: np.ndarray, a_rows: np.ndarray, b_hashes: np.ndarray, b_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two pieces' postings, each sorted by key hash and then row, merged so (a block's postings as one
    preparer would have sorted them) with binary searches: no sort (np.lexsort cost 4x as much)."""
    n_a = len(a_hashes)
    at = np.searchsorted(a_hashes, b_hashes)  # where each of b's would go among a's, but for rows
    shared = (at < n_a) & (a_hashes[np.minimum(at, n_a - 1)] == b_hashes)
    if shared.any():
        # Among a's postings of the same key, by row: a's keys' first places, then rows, in one int64.
        new = np.ones(n_a, dtype=bool)
        np.not_equal(a_hashes[1:], a_hashes[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        a_keys = (np.repeat(starts, np.diff(np.append(starts, n_a))) << 32) | a_rows.astype(np.int64)
        b_keys = (at[shared].astype(np.int64) << 32) | b_rows[shared].astype(np.int64)
        at[shared] = np.searchsorted(a_keys, b_keys)
    at += np.arange(len(b_hashes))  # b's places in the merged postings
    from_b = np.zeros(n_a + len(b_hashes), dtype=bool)
    from_b[at] = True
    hashes = np.empty(len(from_b), dtype=np.int64)
    rows = np.empty(len(from_b), dtype=np.int64)
    hashes[at], rows[at] = b_hashes, b_rows
    hashes[~from_b], rows[~from_b] = a_hashes, a_rows
    return hashes, rows


def gathered(pieces: list[tuple[np.ndarray, np.ndarray | None]], n: int) -> np.ndarray:
    """A block's array from its pieces' (each a piece of its rows; None: all of them)."""
    if len(pieces) == 1 and pieces[0][1] is None:
        return pieces[0][0]
    whole = np.empty(n, dtype=pieces[0][0].dtype)
    for part, rows in pieces:
        whole[rows] = part
    return whole
