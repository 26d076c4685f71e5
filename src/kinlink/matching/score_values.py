"""The values a Scorer reads and gives: a population's name counts, a record prepared for scoring, the
other fields' outcome, a field's evidence and a scored pair with its probability."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kinlink.matching import evidence as ev
from kinlink.matching.comparators import COMPARATORS
from kinlink.matching.model import Model
from kinlink.matching.physical import REMAINS_COMPARATORS
from kinlink.matching.record import MatchRecord, pickled_by_slots
from kinlink.messages import Message
from kinlink.names.frozen import quick_init

TF_INDEX = {"family": 0, "given": 1, "patronymic": 2}  # a name-count key's slot in tf_keys


@dataclass
class TermFrequencies:
    """How many records carry each family name, given name and patronymic."""

    population: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=lambda: {k: {} for k in TF_INDEX})

    def add(self, name_keys: tuple[str | None, str | None, str | None]) -> None:
        self.population += 1
        for table, i in TF_INDEX.items():
            key = name_keys[i]
            if key:
                d = self.counts[table]
                d[key] = d.get(key, 0) + 1

    def add_many(self, columns: tuple[list[str | None], list[str | None], list[str | None]]) -> None:
        """Many records at once: their family, given and patronymic keys, column by column."""
        self.population += len(columns[0])
        for table, i in TF_INDEX.items():
            d = self.counts[table]
            for key in columns[i]:
                if key:
                    d[key] = d.get(key, 0) + 1

    def add_counts(self, table: str, counts: Iterable[tuple[str | None, int]]) -> None:
        """Keys of one table with how many more records carry each (the population is the caller's)."""
        d = self.counts[table]
        for key, n in counts:
            if key:
                d[key] = d.get(key, 0) + n

    def count(self, table: str, key: str) -> int:
        return self.counts.get(table, {}).get(key, 0)


@dataclass(slots=True)
class Prepared:
    """A record with its per-field values worked out once."""

    record: MatchRecord | None  # None where the index keeps the record column by column
    # Parsed names (kinlink.names.ParsedName), the primary first; None until `parsed` reads them with
    # `read_names` (an index's rows: most candidates are bounded out without their names).
    names: tuple[Any, ...] | None
    values: tuple[Any, ...]  # aligned with model.comparisons; None = missing (name parts: the names)
    tf_keys: tuple[str | None, str | None, str | None]
    name_bound: float | None = None  # the best weight its names could earn (worked out when first needed)
    read_names: Callable[[], tuple[Any, ...]] | None = None
    # Where known without parsing its names (an index's row of one name): that name's settled key
    # (`names_bridge.settled_key`) and its family name, all that bounding and a settled score read of them.
    settled_facts: tuple[Any, str | None] | None = None

    def parsed(self) -> tuple[Any, ...]:
        if self.names is None:
            self.names = self.read_names() if self.read_names else ()
        return self.names


@quick_init
@dataclass(frozen=True, slots=True)
class Others:
    """A pair's comparisons other than names: total weight; (comparison, level, weight, tf count, feats)."""

    weight: float
    compared: tuple[tuple[int, int, float, int | None, dict[str, Any]], ...]


@quick_init
@pickled_by_slots
@dataclass(frozen=True, slots=True)
class Evidence:
    field: str
    label: str
    level: str | None  # None: not known on one side (neutral)
    weight: float  # bits; log2(m/u)
    message: Message  # what it says, for each door to render in its reader's language

    @property
    def text(self) -> str:
        """The message in English."""
        return self.message.text()

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, **self.stored()}

    def stored(self) -> dict[str, Any]:
        # The English text stays beside the message, for what reads the stored JSON without rendering it.
        return {
            "level": self.level,
            "weight": round(self.weight, 2),
            "text": self.text,
            "message": self.message.to_data(),
        }


@quick_init
@pickled_by_slots
@dataclass(frozen=True, slots=True)
class Scored:
    probability: float
    weight: float  # total match weight, prior included
    evidence: tuple[Evidence, ...]
    note: Message | None = None  # a word on the pair as a whole (a family name alone, shared by many)

    def explanation(self) -> dict[str, dict[str, Any]]:
        """Per field: level, weight, English text and message (the JSON stored with a candidate)."""
        return {e.field: e.stored() for e in self.evidence}

    @property
    def band(self) -> Message:
        """The probability in words ("very likely the same person (97.3 %)")."""
        return ev.probability_band(self.probability)


def probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** (-weight))


# The remains model's comparators (marks, height, age when found, where and when found) beside the ordinary.
_COMPARATORS = {**COMPARATORS, **REMAINS_COMPARATORS}


def model_facts(model: Model) -> dict[str, Any]:
    """The attributes of a `Scorer` that follow from its model alone (see `Scorer.__init__`)."""
    comparisons = model.comparisons
    comparators = [None if c.comparator == "name_part" else _COMPARATORS[c.comparator] for c in comparisons]
    name_idx = tuple(i for i, c in enumerate(comparisons) if c.comparator == "name_part")
    name_parts = tuple((i, comparisons[i], comparisons[i].params["part"]) for i in name_idx)
    # A comparison's level follows from the features its levels test alone (a birth range's gap and
    # width, not the two ranges, which seldom repeat across pairs): remembered by those.
    tested = tuple(tuple(sorted({k for lv in c.levels for k in lv.when})) for c in comparisons)
    # Where a comparator gives just the features a comparison's levels test (`Comparator.tested`),
    # those, not all its features, when only the level is wanted (bounding a shortlist).
    tested_fast = tuple(
        comp.tested[1] if comp is not None and comp.tested and comp.tested[0] == t else None
        for comp, t in zip(comparators, tested, strict=True)
    )
    return {
        "_comparators": comparators,
        "_has_names": bool(name_idx),
        "_name_idx": name_idx,
        "_other_idx": tuple(i for i, c in enumerate(comparisons) if c.comparator != "name_part"),
        # Level weights without TF (the TF-adjusted weights are memoised per comparison, level and key).
        "_weights": [[lv.weight for lv in c.levels] for c in comparisons],
        # Each comparison's name part (None: not a name part's), as `_sides` reads it.
        "_part_of": tuple(c.params["part"] if c.comparator == "name_part" else None for c in comparisons),
        "_name_parts": name_parts,
        # The name parts a pair must settle to be scored by its family names alone (`settles_parts`).
        "_settling_parts": frozenset(p for _i, _c, p in name_parts if p != "family"),
        # Values that repeat across records (places, units, ranks, sex): a pair's outcome (level, weight,
        # features) is remembered rather than compared again for every candidate that shares them.
        "_repeats": tuple(
            comp is not None and comp.repeats and not c.tf
            for c, comp in zip(comparisons, comparators, strict=True)
        ),
        "_tested": tested,
        "_tested_fast": tested_fast,
        # Those of them whose levels have no term frequencies: their weight is that for any candidate.
        "_plain_fast": tuple(
            fast if fast is not None and not any(lv.tf for lv in c.levels) and not c.tf else None
            for fast, c in zip(tested_fast, comparisons, strict=True)
        ),
    }
