"""Blocking keys: a handful of strings per name such that two spellings of one person share
at least one, so an index finds candidates without scanning every name.

The scheme. Each family name is reduced to a *skeleton*: the consonant classes of its
plausible transliteration keys, vowels dropped, sibilants merged (ч ш щ ж ц с з and every
way of writing them), г/х/h merged, в/ф/w merged. Vowels carry the gender endings (Иванов,
Иванова) and most of what romanisations disagree on, so all spellings of one family name
share a skeleton. Each given name is reduced to its equivalence class (Алексей, Олексій,
Alexis, Лёша: "aleksei"), or to a skeleton when we do not know it. Keys:

- ``n:`` the unordered pair {family skeleton, given class}, and the same with each single
  consonant of the skeleton deleted (SymSpell's trick: any single typo in a consonant leaves
  the two names with one deletion variant in common). Unordered, so a name read with family
  and given swapped still meets.
- ``i:`` family skeleton + the Cyrillic letter the given name begins with (every one its
  class's Russian and Ukrainian forms begin with: Олександр/Александр give "о" and "а"; a Latin
  initial gives each letter it may render: "I." is и, е, ю or я): catches initials
  ("Пактышев Л.", "L. Paktishev") and given-name spellings we do not know.
- ``gp:`` given class + patronymic (father's name class), when there is a patronymic: catches
  a badly garbled family name.
- ``f:`` family skeleton alone. Broad for common names (Иванов is ~1% of Russians): an index
  should use it only when a query has nothing else, as `BlockingIndex` does.

When the order of the words was a guess (two given names, or neither known), the other
reading's family skeleton gets ``i:`` and ``n:`` keys (with its deletions) too.

A name written with initials only ("Боховичев А.Ф.") has no given-name class for ``n:`` keys:
its ``i:`` key gets typo variants, and as a query it also uses `typo_keys`.

Known blind spots: a typo inside a Latin digraph ("Terechtkhenko" for Terechtchenko) changes
two consonant classes and can escape every key; and a full-name query does not find a record
written with initials and a typo that drops or changes a consonant of the family name.

A Cyrillic name typically yields 6-10 keys; an ambiguous Latin spelling (a bare "ch" may be
ч, х or ш) up to ~16.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from functools import lru_cache
from itertools import chain

from kinlink.names.caching import WORD_CACHE
from kinlink.names.correspondence import belarusian_keys
from kinlink.names.gendered import patronymic_of
from kinlink.names.given import classes_with_initials, given_forms, initial_letters
from kinlink.names.parse import ParsedName, parse_name
from kinlink.names.translit import FIRST_GROUP, RUNS, readings, skeleton

_MAX_FAMILY_SKELETONS = 3
_MAX_GIVEN_SIGS = 3


@lru_cache(maxsize=WORD_CACHE)
def family_skeletons(token: str) -> tuple[str, ...]:
    parts = token.replace("-", " ").split()[:2] or [token]
    if len(parts) == 1:
        # One name (nearly every family name): its distinct skeletons, the first three (the loop below,
        # over one part; issue 19).
        return tuple(dict.fromkeys([skeleton(key) or "_" + key for key in _family_keys_of(parts[0])]))[
            :_MAX_FAMILY_SKELETONS
        ]
    per_part: list[list[str]] = []
    for part in parts:
        sks = [skeleton(key) or "_" + key for key in _family_keys_of(part)]
        per_part.append(list(dict.fromkeys(sks)))
    # A double-barrelled family name (Лисенко-Коваль) is keyed by each of its names, the most probable
    # reading of each first, so that either alone finds it.
    out: list[str] = []
    for rank in range(_MAX_FAMILY_SKELETONS):
        for sks in per_part:
            if rank < len(sks) and sks[rank] not in out:
                out.append(sks[rank])
    return tuple(out[: _MAX_FAMILY_SKELETONS + len(parts) - 1])


def _family_keys_of(part: str) -> list[str]:
    """The keys of one name of a family name that blocking keys it by: its most probable reading first
    (only the first two skeletons get typo variants and swapped-order keys), its Russian keys when it shows
    a Belarusian trait."""
    r = readings(part)
    return [*(dict.fromkeys((r.primary, *r.likely)) if r.primary else r.likely), *belarusian_keys(part)]


@lru_cache(maxsize=WORD_CACHE)
def given_signatures(token: str) -> tuple[str, ...]:
    classes: list[str] = []
    for g in given_forms(token):
        if g.class_id not in classes:
            classes.append(g.class_id)
    if classes:
        return tuple(classes[:_MAX_GIVEN_SIGS])
    r = readings(token)
    return tuple(dict.fromkeys("?" + (skeleton(k) or k) for k in r.likely[:2]))


@lru_cache(maxsize=WORD_CACHE)  # per skeleton: every record of one family name asks for the same
def _deletions(sk: str) -> tuple[str, ...]:
    # Collapsed like skeletons are: Антонова NTNV less T is NV, as "Anonova" reads.
    out = {RUNS.sub(FIRST_GROUP, sk[:i] + sk[i + 1 :]) for i in range(len(sk))} if len(sk) > 1 else set()
    out.discard(sk)
    return tuple(sorted(out))


def blocking_keys(name: str | ParsedName) -> set[str]:
    """Blocking keys of a name (see the module doc for the scheme)."""
    p = name if isinstance(name, ParsedName) else parse_name(name)
    return set().union(*key_parts(p))


def key_parts(p: ParsedName) -> tuple[tuple[str, ...], ...]:
    """`blocking_keys(p)` as the tuples it is the union of (keys may repeat across them).

    A name is nearly always new, the pieces it is keyed by are not: the family name's skeletons with the
    given name's classes and initials (a few hundred thousand combinations at a million records), the
    given name's class with the patronymic. Each piece's keys are worked out once and cached (issue 19);
    only the rare shapes (initials only, an order guessed, two given names and no family name) are
    keyed here."""
    fams = family_skeletons(p.family) if p.family else ()
    given = p.given
    givs: tuple[str, ...] = given_signatures(given[0]) if given else ()
    if given:
        inits = initial_letters(given[0])
    elif p.initials:
        inits = initial_letters(p.initials[0])
    else:
        inits = frozenset()
    parts: list[tuple[str, ...]] = []
    if fams:
        parts.append(_family_keys(fams, givs, inits))
        if not given and p.initials:
            parts.append(_initials_only_keys(fams[0], inits))
    if p.order == "unknown" and p.family and given:
        parts.append(_swapped_keys(p.family, given[0]))
    if givs and p.patronymic:
        parts.append(_patronymic_keys(givs, p.patronymic))
    if not fams and givs and len(given) >= 2:
        # Two given-looking words and no family name ("Roman Oleg"): pair them as a name.
        out = []
        for g2 in given_signatures(given[1]):
            a, b = sorted((givs[0], g2))
            out.append(f"n:{a}|{b}")
        parts.append(tuple(out))
    return tuple(parts)


def distinct_keys(p: ParsedName) -> tuple[str, ...]:
    """`blocking_keys(p)` as a tuple of distinct keys, in no particular order.

    Indexing a name needs its keys once each, not a set (a million names at an index build; issue 19). A
    family name's keys (which begin with ``f:``) and a patronymic's (``gp:``) are each distinct, and no key
    is in both: most names are keyed by these two alone, and their keys are joined without a look-up."""
    given = p.given
    if p.family and len(given) == 1 and p.patronymic and not p.initials and p.order != "unknown":
        # The usual registry name (family name, a given name, a patronymic, in a told order): `key_parts`
        # gives it these two pieces, found here in three look-ups (a million names at an index build).
        fams = family_skeletons(p.family)
        if fams:
            givs, inits, patronymic_keys = _given_pieces(given[0], p.patronymic)
            return _family_keys(fams, givs, inits) + patronymic_keys
    parts = key_parts(p)
    if len(parts) <= 2 and all(not k or k[0][:2] in ("f:", "gp") for k in parts):
        return parts[0] + parts[1] if len(parts) == 2 else (parts[0] if parts else ())
    return tuple(dict.fromkeys(chain.from_iterable(parts)))


@lru_cache(maxsize=WORD_CACHE)
def _given_pieces(given: str, patronymic: str) -> tuple[tuple[str, ...], frozenset[str], tuple[str, ...]]:
    """A given name's signatures and initials, and its patronymic keys, as `key_parts` reads them."""
    givs = given_signatures(given)
    return givs, initial_letters(given), _patronymic_keys(givs, patronymic) if givs else ()


@lru_cache(maxsize=WORD_CACHE)
def _family_keys(fams: tuple[str, ...], givs: tuple[str, ...], inits: frozenset[str]) -> tuple[str, ...]:
    """The f:, n: and i: keys of a family name's skeletons with a given name's classes and initials."""
    if len(fams) == 1 and len(givs) <= 1:
        # One skeleton and at most one given class (nearly every name): its f: key, n: keys (one a variant
        # of the skeleton: the variants are distinct) and i: keys (one an initial) are distinct already,
        # and are joined in the order the loop below finds them (issue 19).
        fs = fams[0]
        return (
            "f:" + fs,
            # (past `_pair_keys_one`'s cache: a skeleton and a class this cache missed are seldom known
            # there either, 861 hits in 94,781 at 200,000 records)
            *(_pair_keys_now(fs, True, givs[0]) if givs else ()),
            *[f"i:{fs}|{ini}" for ini in inits],
        )
    keys: dict[str, None] = {}
    for i, fs in enumerate(fams):
        keys["f:" + fs] = None
        if givs:
            keys.update(dict.fromkeys(_pair_keys(fs, i < 2, givs)))
        for ini in inits:
            keys[f"i:{fs}|{ini}"] = None
    return tuple(keys)


@lru_cache(maxsize=65536)
def _initials_only_keys(fs: str, inits: frozenset[str]) -> tuple[str, ...]:
    # A name written with initials only (a report's "Боховичев А.Ф."): its i: key with the
    # family skeleton's typo variants too, so that another such spelling with one typo, or
    # a full name with a consonant less, still meets it. Few records are written so: the
    # index hardly grows.
    return tuple(f"i:{d}|{ini}" for d in _typo_variants(fs) for ini in inits)


@lru_cache(maxsize=65536)
def _swapped_keys(family: str, given: str) -> tuple[str, ...]:
    # The order was a guess: also key the other reading's family name with its initial
    # and, with typo variants, its given name ("Петро Андрей" may be Петров with a typo).
    keys: list[str] = []
    other_givs = given_signatures(family)
    for fs in family_skeletons(given)[:2]:
        for ini in initial_letters(family):
            keys.append(f"i:{fs}|{ini}")
        if other_givs:
            keys.extend(_pair_keys(fs, True, other_givs))
    return tuple(keys)


@lru_cache(maxsize=WORD_CACHE)
def _patronymic_keys(givs: tuple[str, ...], patronymic: str) -> tuple[str, ...]:
    pat = patronymic_of(patronymic)
    if pat is None:
        return ()
    fathers = sorted(pat.fathers)[:2] or ["?" + skeleton(pat.stem)]
    return tuple(f"gp:{g}|{f}" for g in givs[:2] for f in fathers)


def _pair_keys(fs: str, typos: bool, givs: tuple[str, ...]) -> tuple[str, ...]:
    """The n: keys of a family skeleton (with its typo variants) paired with each given signature."""
    if len(givs) == 1:
        return _pair_keys_one(fs, typos, givs[0])
    out: list[str] = []
    for g in givs:
        out += _pair_keys_one(fs, typos, g)
    return tuple(out)


@lru_cache(maxsize=WORD_CACHE)
def _pair_keys_one(fs: str, typos: bool, g: str) -> tuple[str, ...]:
    """`_pair_keys` of one given signature. Cached by the skeleton and one signature, not the tuple of a
    name's signatures: a name's family skeletons with its given name's are mostly a new combination (93,770
    of 93,773 at 200,000 records), a skeleton with one signature half the time a known one (issue 19)."""
    return tuple(
        [f"n:{v}|{g}" if v <= g else f"n:{g}|{v}" for v in ((fs, *_deletions(fs)) if typos else (fs,))]
    )


_pair_keys_now = _pair_keys_one.__wrapped__


def _typo_variants(sk: str) -> tuple[str, ...]:
    # Skeletons of three consonants or fewer lose too much with one more deleted.
    return _deletions(sk) if len(sk) >= 4 else ()


def typo_keys(name: str | ParsedName) -> set[str]:
    """Keys to look a name up with besides its blocking keys, for a typo in a family name
    written with initials only ("Боховичев А.Ф.", "O. Baabasch"): the ``n:`` keys of every
    given name the initial may stand for, with the family skeleton and its typo variants,
    which meet the ``n:`` keys of every full-name record. Only queries use them, so they cost
    an index nothing (a query pays a few hundred look-ups for a common initial). Empty for
    other names, whose own keys already carry typo variants.

    Not covered: a full-name query against a record written with initials and a typo. The
    query would need the ``i:`` typo variants of its family name, which meet too many other
    records (a third more candidates per query).
    """
    p = name if isinstance(name, ParsedName) else parse_name(name)
    keys: set[str] = set()
    if not p.family:
        return keys
    fams = family_skeletons(p.family)
    if p.initials and not p.given:
        classes = classes_with_initials(initial_letters(p.initials[0]))
        for fs in fams[:2]:
            if len(fs) < 3:
                continue  # one or two consonants less would be a key for half the registry
            for v in (fs, *_deletions(fs)):
                for c in classes:
                    a, b = sorted((v, c))
                    keys.add(f"n:{a}|{b}")
    return keys


class BlockingIndex:
    """In-memory inverted index over blocking keys.

    `candidates()` unions the postings of a query's blocking and typo keys but skips keys
    whose posting list is longer than `max_posting` (the broad ``f:`` key of a common family
    name, say), unless nothing else was found; so a query never scans all names, and rarely
    more than a few hundred.
    """

    def __init__(self, max_posting: int = 2000) -> None:
        self.max_posting = max_posting
        self._postings: dict[str, list[Hashable]] = defaultdict(list)

    def add(self, record_id: Hashable, name: str | ParsedName) -> None:
        for k in blocking_keys(name):
            self._postings[k].append(record_id)

    def add_many(self, items: Iterable[tuple[Hashable, str | ParsedName]]) -> None:
        for rid, name in items:
            self.add(rid, name)

    def posting_size(self, key: str) -> int:
        return len(self._postings.get(key, ()))

    def candidates(self, name: str | ParsedName) -> set[Hashable]:
        p = name if isinstance(name, ParsedName) else parse_name(name)
        out: set[Hashable] = set()
        broad: list[str] = []
        for k in blocking_keys(p) | typo_keys(p):
            post = self._postings.get(k)
            if not post:
                continue
            if len(post) > self.max_posting or k.startswith("f:"):
                broad.append(k)
                continue
            out.update(post)
        if not out:
            for k in sorted(broad, key=self.posting_size)[:1]:
                out.update(self._postings[k][: self.max_posting * 5])
        return out

    def __len__(self) -> int:
        return len(self._postings)
