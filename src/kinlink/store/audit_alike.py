"""An import's audit entries: changes of text under the same keys, one entry a row (`AuditLog.add_many`).

Each entry's changes are encoded as `add_many` encodes any (the hash's JSON, keys sorted, and the text SQLite
stores, json.dumps's), here a key's column at a time by the JSON encoder's C functions, and only the hash
chain goes an entry at a time (issue 19). The hashes are `entry_hash`'s: tests and `verify` hold them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import repeat
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any


def alike_entries(
    keyed: Any, prev: str | None, middle: str, tail: str, ids: list[Any], changes: list[Any]
) -> tuple[list[str | None], list[str], list[str], list[str]] | None:
    """(Each entry's id as text, its hash, its changes' JSON as hashed, as SQLite stores it) when every
    entry's changes are text under the same keys; else None. keyed: the HMAC to copy; middle and tail: the
    body's parts around the entity id and the changes that every entry shares (`add_many`'s)."""
    alike = _alike(changes)
    if alike is None:
        return None
    hashed, kept = alike
    eids: list[str | None]
    if _INT.issuperset(map(type, ids)):  # ids' JSON as their digits quoted
        eids = list(map(str, ids))
        eid_json = list(map('"{}"'.format, eids))
    else:
        eids = [None if i is None else str(i) for i in ids]
        eid_json = [encode_basestring(e) if e is not None else "null" for e in eids]
    hashes = []
    prev_json = encode_basestring(prev) if prev is not None else "null"
    # The HMAC's own C object where hmac has one (OpenSSL's): the same hash, without the Python wrapper's
    # copy and hexdigest around it an entry (0.31 -> 0.23 CPU-s for 100,000 entries, issue 19).
    keyed = getattr(keyed, "_hmac", None) or keyed
    for eid, text in zip(eid_json, hashed, strict=True):
        mac = keyed.copy()
        mac.update(f"[{prev_json}{middle}{eid}, {text}{tail}".encode())
        h = mac.hexdigest()
        hashes.append(h)
        prev_json = f'"{h}"'  # a hash's hex digits: JSON as they are, quoted
    return eids, hashes, hashed, kept


def _alike(changes: list[Any]) -> tuple[list[str], list[str]] | None:
    """When every entry's changes are a dict of text under the same keys in the same order: each one's
    JSON as the hash takes it (keys sorted) and as SQLite stores it (json.dumps's), what `add_many` encodes
    an entry at a time, here a key's column at a time by the encoder's C functions; else None."""
    if not changes:
        return None
    first = changes[0]
    if type(first) is not dict or not first or not all(type(k) is str for k in first):
        return None
    keys = tuple(first)
    if not _DICT.issuperset(map(type, changes)) or not all(map(keys.__eq__, map(tuple, changes))):
        return None
    columns = list(zip(*map(dict.values, changes), strict=True))
    if not all(_STR.issuperset(map(type, column)) for column in columns):
        return None
    by_name = sorted(range(len(keys)), key=keys.__getitem__)
    return (
        _joined([(keys[i], columns[i]) for i in by_name], encode_basestring),
        _joined(list(zip(keys, columns, strict=True)), encode_basestring_ascii),
    )


def _joined(columns: list[tuple[str, tuple[str, ...]]], encode: Callable[[str], str]) -> list[str]:
    """Each row's JSON object of these (key, its column of values): "{" + "key": value, ... + "}", the
    pieces of a row joined in C."""
    pieces: list[Iterable[str]] = []
    for n, (key, column) in enumerate(columns):
        pieces.append(repeat(("{" if n == 0 else ", ") + encode(key) + ": "))
        pieces.append(map(encode, column))
    pieces.append(repeat("}"))
    return list(map("".join, zip(*pieces)))  # noqa: B905 (the repeats are endless)


_STR = frozenset({str})
_INT = frozenset({int})
_DICT = frozenset({dict})
