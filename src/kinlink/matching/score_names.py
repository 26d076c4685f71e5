"""The name parts' side of a `Scorer` (its base): their weights under term frequencies (a rare family name
weighs more than Иванов), a record's best possible name weight (the bound of a pair whose names are not
compared yet), and the parts a pair settles before its family names are compared
(`names_bridge.settled_parts`)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import cached_property
from typing import Any

from kinlink.matching import names_bridge as nb
from kinlink.matching.model import Comparison, Model
from kinlink.matching.score_values import TF_INDEX, Others, Prepared, TermFrequencies
from kinlink.names import has_part


class NameWeights:
    """Set up by `Scorer.__init__`: the model, name counts and the memos these methods read."""

    model: Model
    memos: dict[str, Any]
    tf: TermFrequencies | None
    prior_weight: float
    _name_idx: tuple[int, ...]
    _name_parts: tuple[tuple[int, Comparison, str], ...]
    _weights: list[list[float]]
    _tf_memo: dict[tuple[int, int, str], tuple[float, int]]
    _bound_memo: dict[tuple[int, str | None], float]
    _settled_memo: dict[tuple[Any, ...], dict[str, Any] | None]
    _settled_q: tuple[Any, Any]
    _by_name_level: dict[int, dict[str, int]]
    _name_bound_memo: dict[tuple[str | None, ...], float]

    def name_bound(self, tf_keys: tuple[str | None, str | None, str | None]) -> float:
        """The most a record's names can add to a pair's weight: each name part at its best level."""
        # The sum of its keys' terms, each remembered a key: a record's three keys seldom repeat together
        # (a memo of them missed most of a search's candidates, each miss kept), each key alone nearly
        # always (issue 19). The same sum, in the same order, as of `name_bound_term`s worked out afresh.
        hit = self._name_bound_memo.get(tf_keys)
        if hit is not None:
            return hit
        terms = []
        for table, key, known in zip(TF_INDEX, tf_keys, self._bound_terms, strict=True):
            term = known.get(key)
            if term is None:
                term = self.name_bound_term(table, key)
                if len(known) < 500_000:
                    known[key] = term
            terms.append(term)
        hit = self._bound_untabled + sum(terms)
        if len(self._name_bound_memo) < 500_000:
            self._name_bound_memo[tf_keys] = hit
        return hit

    @cached_property
    def _bound_terms(self) -> tuple[dict[str | None, float], ...]:
        """`name_bound_term` by key, a dict a table (in `TF_INDEX`'s order), kept with the name counts and
        population it follows (the scorer's memos)."""
        return self.memos.setdefault("bound_terms", tuple({} for _t in TF_INDEX))  # type: ignore[no-any-return]

    @cached_property
    def _bound_untabled(self) -> float:
        """`name_bound_term` of the name comparisons without a term-frequency table."""
        return self.name_bound_term(None)

    def name_bound_term(self, table: str | None, key: str | None = None) -> float:
        """The part of `name_bound` that one term-frequency table's key decides (table None: the name
        comparisons without one), so that an index can sum it for every record from its distinct keys."""
        total = 0.0
        for i in self._name_idx:
            c = self.model.comparisons[i]
            if c.tf == table:
                total += self._best_name_weight(i, c, key if table else None)
        return total

    def name_bound_terms(self, table: str, keys: Iterable[str | None]) -> list[float]:
        """`name_bound_term(table, key)` for each key. A key's term reads the key only through its count
        and its known share (`_tf_weight`): keys of no known share are worked out once a count, not once a
        key (the index sums it for a million records' hundreds of thousands of distinct family names, after
        its workers are done; issue 19)."""
        known = self.model.tf_defaults.get(table, {})
        counts = self.tf.counts.get(table, {}) if self.tf is not None else {}
        by_count: dict[int, float] = {}
        out = []
        for key in keys:
            if key is None or key in known or self.tf is None:
                out.append(self.name_bound_term(table, key))
                continue
            n = counts.get(key, 0)
            term = by_count.get(n)
            if term is None:
                term = by_count[n] = self.name_bound_term(table, key)
            out.append(term)
        return out

    def settled_bound(self, q: Prepared, r: Prepared, others: Others) -> float | None:
        """A tighter bound than `bound` where the pair settles some name parts before its family names
        are compared (`names_bridge.settled_parts`): those parts count at the level they will get, the
        rest at their best. None where nothing is settled."""
        settled = self.settled(q, r)
        return None if settled is None else self.settled_weight(r, others, settled, None)

    def settled(self, q: Prepared, r: Prepared) -> dict[str, Any] | None:
        """`names_bridge.settled_parts` of the pair, remembered; None where nothing is settled."""
        q_names = q.parsed()
        if not q_names:
            return None
        facts = r.settled_facts
        if facts is None:
            r_names = r.parsed()
            if not r_names:
                return None
            # Worked out afresh: a search's candidates seldom share a given name and patronymic with one
            # another or an earlier query's (the pair memo below missed 96 % of a staff search's), and each
            # part's comparison is cached by its words (issue 19).
            return nb.settled_parts(q_names, r_names)
        r_key = facts[0]  # its names read only if the pair is new (most are not)
        settled = self.settled_known(q_names, r_key)
        if settled is UNSEEN:
            settled = self.settled_new(q_names, r_key, r.parsed())
        return settled  # type: ignore[no-any-return]

    def settled_known(self, q_names: tuple[Any, ...], r_key: Any) -> Any:
        """`settled` of a query's names and a record's settled key as remembered; UNSEEN where the pair is
        new (`settled_new` then works it out from the record's names)."""
        # What is settled follows from what settled_parts reads of each side (a search's candidates share
        # given names and patronymics far more often than whole names): remembered by that.
        last, q_key = self._settled_q  # a search asks it of one query's names for each candidate
        if q_names is not last:
            q_key = nb.settled_key(q_names)
            self._settled_q = (q_names, q_key)
        return self._settled_memo.get((q_key, r_key), UNSEEN)

    def settled_new(
        self, q_names: tuple[Any, ...], r_key: Any, r_names: tuple[Any, ...]
    ) -> dict[str, Any] | None:
        """`settled` of a pair `settled_known` did not know (called just after it: the query's key is
        the last one it worked out), remembered."""
        settled = nb.settled_parts(q_names, r_names)
        if len(self._settled_memo) < 500_000:
            self._settled_memo[(self._settled_q[1], r_key)] = settled
        return settled

    def settled_weight(
        self, r: Prepared, others: Others, settled: dict[str, Any], rest: dict[str, Any] | None
    ) -> float:
        """The pair's weight with its settled name parts at their level and the others (rest: their
        comparisons; None: each at its best level, a bound). Summed in `score`'s order, so that with
        every part given it is `score`'s weight to the last bit."""
        return self.settled_total(r.tf_keys, others.weight, settled, rest)

    def settled_total(
        self,
        tf_keys: tuple[str | None, str | None, str | None],
        others_weight: float,
        settled: dict[str, Any],
        rest: dict[str, Any] | None,
    ) -> float:
        """`settled_weight` of a record given by its name keys and its other fields' weight alone: an
        index's search bounds most candidates so, without a `Prepared` each (issue 19)."""
        total = self.prior_weight + others_weight
        by_level = self._part_weight_memo
        for i, c, part_name, slot in self._name_slots:
            key = None if slot is None else tf_keys[slot]
            if part_name in settled:
                part = settled[part_name]
            elif rest is None:
                w = self._bound_memo.get((i, key))
                total += self._best_name_weight(i, c, key) if w is None else w
                continue
            else:
                part = rest[part_name]
            if part is not None and part.level != "missing":
                # A search asks this of a dozen candidates: their parts' levels and name keys repeat.
                w = by_level.get((i, part.level, key))
                if w is None:
                    w = self._name_part_weight_keyed(i, c, part, tf_keys)[1]
                    if i in self._by_name_level and len(by_level) < 500_000:
                        by_level[(i, part.level, key)] = w
                total += w
        return total

    def unearned(self, q_names: tuple[Any, ...]) -> tuple[tuple[int, Comparison, int | None], ...]:
        """The name comparisons (each with its slot in a record's `tf_keys`) whose part no name of the
        query has, in full or as an initial (`kinlink.names.has_part`): every comparison of that part is
        then None (`compare_given_part`, `compare_patronymic_part`, no family name), so it weighs nothing
        against any record, yet a record's `name_bound` counts it at its best (`unearned_term`)."""
        out = []
        for i, c, part, slot in self._name_slots:
            for p in q_names:
                if has_part(p, part):
                    break
            else:
                out.append((i, c, slot))
        return tuple(out)

    def unearned_term(self, i: int, c: Comparison, key: str | None) -> float:
        """What comparison i adds to the `name_bound` of a record whose key in its table is `key`."""
        w = self._bound_memo.get((i, key))
        return self._best_name_weight(i, c, key) if w is None else w

    @cached_property
    def _name_slots(self) -> tuple[tuple[int, Comparison, str, int | None], ...]:
        """`_name_parts`, each with its slot in a record's `tf_keys` (None: no term frequencies)."""
        return tuple((i, c, part, TF_INDEX[c.tf] if c.tf else None) for i, c, part in self._name_parts)

    @cached_property
    def _part_weight_memo(self) -> dict[tuple[int, str, str | None], float]:
        """A name part's weight by its comparison, level and the record's name key, for the comparisons
        whose level follows from kinlink.names' level alone (`_by_name_level`): what `_name_part_weight`
        works out through its own memos, in one look-up."""
        return self.memos.setdefault("part_weight", {})  # type: ignore[no-any-return]

    def _name_part_weight(
        self, i: int, c: Comparison, part: Any, r: Prepared
    ) -> tuple[int, float, int | None]:
        """A name part's level (a `kinlink.names.PartComparison`), weight and term-frequency count."""
        return self._name_part_weight_keyed(i, c, part, r.tf_keys)

    def _name_part_weight_keyed(
        self, i: int, c: Comparison, part: Any, tf_keys: tuple[str | None, str | None, str | None]
    ) -> tuple[int, float, int | None]:
        """`_name_part_weight` of a record given by its name keys."""
        by_level = self._by_name_level.get(i)
        li = -1 if by_level is None else by_level.get(part.level, -1)
        if li < 0:
            li = c.level_index(part_features(part))
            if by_level is not None:
                by_level[part.level] = li
        if c.levels[li].tf and c.tf and self.tf is not None:
            w, count = self._tf_weight(i, li, c, tf_keys[TF_INDEX[c.tf]])
        else:
            w, count = self._weights[i][li], None
        return li, w, count

    def _best_name_weight(self, i: int, c: Comparison, key: str | None) -> float:
        hit = self._bound_memo.get((i, key))
        if hit is None:
            by_count = None
            if c.tf and self.tf is not None and key is not None and key not in self._known_shares[c.tf]:
                # A key of no known share is weighed through its count alone (`_tf_weight`): remembered
                # by count too. A batch meets thousands of family names new to its bound memo (a
                # candidate's settled bound asks its family name's best weight), nearly all of counts
                # met before (issue 19).
                by_count = (i, self.tf.count(c.tf, key))
                hit = self._bound_by_count.get(by_count)
            if hit is None:
                hit = max(self._weights[i])
                if c.tf and self.tf is not None:
                    for li, lv in enumerate(c.levels):
                        if lv.tf:
                            hit = max(hit, self._tf_weight(i, li, c, key)[0])
                if by_count is not None:
                    self._bound_by_count[by_count] = hit
            if len(self._bound_memo) < 500_000:
                self._bound_memo[(i, key)] = hit
        return hit

    @cached_property
    def _known_shares(self) -> dict[str, dict[str, float]]:
        """The keys of a known share (`Model.tf_defaults`) of each name comparison's term-frequency table."""
        return {c.tf: self.model.tf_defaults.get(c.tf, {}) for c in self.model.comparisons if c.tf}

    @cached_property
    def _bound_by_count(self) -> dict[tuple[int, int], float]:
        """`_best_name_weight` of keys of no known share by their comparison and count (a few thousand
        counts at most), kept with the name counts and population it follows (the scorer's memos)."""
        return self.memos.setdefault("bound_by_count", {})  # type: ignore[no-any-return]

    def _level_weight(self, i: int, li: int, c: Comparison, r: Prepared) -> tuple[float, int | None]:
        if c.levels[li].tf and c.tf and self.tf is not None:
            return self._tf_weight(i, li, c, tf_key(c, r))
        return self._weights[i][li], None

    def _tf_weight(self, i: int, li: int, c: Comparison, key: str | None) -> tuple[float, int | None]:
        if key is None or self.tf is None:
            return self._weights[i][li], None
        memo_key = (i, li, key)
        hit = self._tf_memo.get(memo_key)
        if hit is None:
            level = c.levels[li]
            count = self.tf.count(c.tf or "", key)
            # The name's share of the population, estimated as the mean of a Beta prior updated by its
            # count. A known share (tf_defaults) is a measurement worth tf_pseudocount records: with few
            # records the count says little; with many it decides. A name outside that list has no known
            # share: its prior has the level's average u as mean and the weight the model declares for
            # the table (tf_unknown_records; family names: one record). Weighted like a known share,
            # every rare family name counted as ~30 namesakes at any registry size, so an exact rare name
            # earned log2(N/31) bits against a prior of 1/N and a correct first match with the given name
            # as an initial or missing stayed below the candidate threshold (issue 17 item 5).
            # The record's own count included, as Splink does: a name borne once counts as borne by two
            # (less sure of a unique name than excluding it, which made absent people's namesakes 0.97).
            others, seen = count, self.tf.population
            known = self.model.tf_defaults.get(c.tf or "", {}).get(key)
            base = level.u if known is None else known
            if known is None:
                a = self.model.tf_unknown_records.get(c.tf or "", self.model.tf_pseudocount * base)
            else:
                a = self.model.tf_pseudocount * base
            # The prior counts a population of at least min_population (Model.prior); the share is measured
            # in the same one: the people beyond a small registry, unseen, bear the name at the prior mean.
            population = max(seen, self.model.min_population)
            u = (others + a + (population - seen) * base) / (population + a / base)
            hit = (math.log2(level.m / u), count)
            if len(self._tf_memo) < 500_000:
                self._tf_memo[memo_key] = hit
        return hit


UNSEEN: Any = object()  # a memo's miss, where None is a value


def tf_key(c: Comparison, r: Prepared) -> str | None:
    """The record's key in the comparison's term-frequency table (None: the comparison has none)."""
    return r.tf_keys[TF_INDEX[c.tf]] if c.tf else None


def part_features(part: Any) -> dict[str, Any]:
    """A name part's comparison (`kinlink.names.PartComparison`) as the features its levels test."""
    return {"level": part.level, "score": part.score, "reason": part.reason}
