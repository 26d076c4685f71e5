"""The key table's rows of the records an index build prepares, handed out of the build on request.

A first keying of a registry (`kinlink.tracing.batch_keys`) writes every record's keys, which the index
build that precedes it has just derived, parsing every name: read and parsed again, they were half the
keying's CPU (issue 19). A build within `handing_keys` works each chunk's rows out in its preparers (the
forked workers) from what they derived for the index (`index_build._name_columns`), and hands each block's
to the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from kinlink.matching.keys import SERVICE_KEY


@dataclass(frozen=True, slots=True)
class KeysWanted:
    """What a caller asks of a build: the term-frequency keys' prefixes (family, given, patronymic) and the
    key column's width, as `kinlink.store.match_keys` writes them, and where each block of records goes
    with its pieces' rows: `take(records, [(index_build.Stored, rows) ...])` (rows as in a Piece)."""

    tf_prefixes: tuple[str, str, str]
    width: int
    take: Callable[[list[Any], list[tuple[Any, Any]]], None]


# Set while a build hands out rows; the forked workers inherit it.
WANTED: KeysWanted | None = None


@contextmanager
def handing_keys(wanted: KeysWanted) -> Iterator[None]:
    """A build within hands each block's key-table rows to `wanted.take` as it goes."""
    global WANTED
    WANTED = wanted
    try:
        yield
    finally:
        WANTED = None


def stored_rows(
    wanted: KeysWanted, infos: list[Any], at: list[int], services: list[str | None], first_slow: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A chunk's records' rows (`index_build.Stored`: the distinct keys, each row's key among them, records
    one after the other, and each record's number of rows, -1: none handed out), as
    `kinlink.store.match_keys` derives a record of one name's (its name's keys and term-frequency keys and
    its service number's key, each cut to the column's width, sorted), from what
    `index_build._name_columns` worked out: a record's name's `infos` (parsed, keys, term-frequency keys)
    at `at`, its service number's key. Those from `first_slow` on are records keyed one by one (several
    names, or none): left out, for the keying to derive.

    In C passes where it can: the distinct keys sorted once, then every row by (record, key), a key twice
    in a record's rows left once (a set and a sort a record, in Python, were half of this)."""
    (pf, pg, pp), width = wanted.tf_prefixes, wanted.width
    by_name: dict[int, tuple[str, ...]] = {}  # a name's rows, worked out once a name
    flat: list[str] = []
    counts = [-1] * len(at)
    for i, name in enumerate(at):
        if name >= first_slow:
            continue
        base = by_name.get(name)
        if base is None:
            _parsed, keys, (f, g, p) = infos[name]
            base = by_name[name] = (
                *keys,
                *((pf + f,) if f else ()),
                *((pg + g,) if g else ()),
                *((pp + p,) if p else ()),
            )
        flat.extend(base)
        if sn := services[i]:  # as `index_keyed`
            flat.append(SERVICE_KEY + sn)
            counts[i] = len(base) + 1
        else:
            counts[i] = len(base)
    if flat and max(map(len, flat)) > width:
        flat = [k[:width] for k in flat]
    distinct = sorted(set(flat))
    lookup = dict(zip(distinct, range(len(distinct)), strict=True))
    codes = np.fromiter(map(lookup.__getitem__, flat), dtype=np.int32, count=len(flat))
    runs = np.maximum(counts, 0)
    owner = np.repeat(np.arange(len(at)), runs)
    order = np.lexsort((codes, owner))
    codes, owner = codes[order], owner[order]
    repeated = np.flatnonzero((codes[1:] == codes[:-1]) & (owner[1:] == owner[:-1])) + 1
    found = np.array(counts, dtype=np.int32)
    if len(repeated):  # a key twice in a record's rows (cut to the width, or a name's and a service number's)
        codes = np.delete(codes, repeated)
        np.subtract.at(found, owner[repeated], 1)
    return distinct, codes, found
