"""Scoring a pair: comparison levels -> Bayes factors -> match weight -> probability, with the reasons.

Fellegi-Sunter as in Splink: each field's level contributes log2(m/u) bits; a missing value contributes
nothing; where a level is term-frequency adjusted its u is how common the record's value is (shrunk towards
the level's u when the population is small), so a rare family name weighs more than Иванов. The prior is
one expected match among the population searched.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from operator import add
from typing import Any

from kinlink.matching import evidence as ev
from kinlink.matching import names_bridge as nb
from kinlink.matching.best import bounded_best
from kinlink.matching.model import Model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score_names import NameWeights, part_features
from kinlink.matching.score_values import (
    Evidence,
    Others,
    Prepared,
    Scored,
    TermFrequencies,
    model_facts,
    probability,
)
from kinlink.messages import Message


class Scorer(NameWeights):
    """Scores pairs under one model. The single query and the batch both call `score`."""

    # Set from `model_facts` (with `_name_idx`, `_name_parts` and `_weights`, see NameWeights).
    _comparators: list[Any]
    _has_names: bool
    _other_idx: tuple[int, ...]
    _part_of: tuple[str | None, ...]
    _settling_parts: frozenset[str]
    _repeats: tuple[bool, ...]
    _tested: tuple[tuple[str, ...], ...]
    _tested_fast: tuple[Any, ...]
    _plain_fast: tuple[Any, ...]

    def __init__(
        self,
        model: Model,
        tf: TermFrequencies | None = None,
        population: int | None = None,
        memos: dict[str, Any] | None = None,
    ) -> None:
        """memos: the memo tables of an earlier scorer of the same model, name counts and population, to
        go on with (a server's searches, each with a scorer of its own while the registry is unchanged)."""
        self.model = model
        self.tf = tf
        self.population = population if population is not None else (tf.population if tf else 0)
        prior = model.prior(self.population)
        self.prior_weight = math.log2(prior / (1 - prior))
        self.memos: dict[str, Any] = memos if memos is not None else {}
        # What follows from the model alone, worked out once for the scorers of these memos (a server makes
        # a scorer a search: ~15 µs of ~4 ms; issue 19).
        made = self.memos.get("model facts")
        if made is None or made[0] is not model:
            made = self.memos["model facts"] = (model, model_facts(model))
        self.__dict__.update(made[1])
        self._tf_memo: dict[tuple[int, int, str], tuple[float, int]] = self.memos.setdefault("tf", {})
        self._bound_memo: dict[tuple[int, str | None], float] = self.memos.setdefault("bound", {})
        self._name_bound_memo: dict[tuple[str | None, ...], float] = self.memos.setdefault("name_bound", {})
        # A pair's settled parts by what each side's names settle (`settled_known`: an index's rows).
        self._settled_memo: dict[tuple[Any, ...], dict[str, Any] | None] = self.memos.setdefault(
            "settled", {}
        )
        self._missing_memo: dict[tuple[int, bool, bool], Evidence] = {}
        self._settled_q: tuple[Any, Any] = (None, None)  # the last query's names and their settled key
        self._pair_memo: dict[tuple[int, Any, Any], tuple[int, float, dict[str, Any]]] = (
            self.memos.setdefault("pair", {})
        )
        self._level_memo: dict[tuple[int, tuple[Any, ...]], int] = self.memos.setdefault("level", {})
        # The weight those features give, for a candidate whose names are not read (no term frequency).
        self._tested_weight: tuple[dict[tuple[Any, ...], float], ...] = tuple({} for _c in model.comparisons)
        # A name part's level follows from kinlink.names' level alone where the model tests nothing else.
        # (Built only when the memos lack it: a server makes a scorer a search, with memos kept.)
        if "name_level" not in self.memos:
            self.memos["name_level"] = {
                i: {}
                for i in self._name_idx
                if all(set(lv.when) <= {"level"} for lv in model.comparisons[i].levels)
            }
        self._by_name_level: dict[int, dict[str, int]] = self.memos["name_level"]

    # --- preparing ----------------------------------------------------------------------------------------

    def prepare(
        self,
        record: MatchRecord,
        parsed: tuple[Any, ...] | None = None,
        tf_keys: tuple[str | None, str | None, str | None] | None = None,
    ) -> Prepared:
        """parsed / tf_keys: already known (the index keeps them), else worked out from the names."""
        if parsed is None:
            parsed = (
                tuple(nb.parse(n) for n in record.all_names if n and n.strip()) if self._has_names else ()
            )
        values = self.values(record)
        if tf_keys is None:
            tf_keys = nb.tf_keys_parsed(parsed[0]) if parsed else (None, None, None)
        return Prepared(record, parsed, values, tf_keys)

    def values(self, record: MatchRecord) -> tuple[Any, ...]:
        """Each comparison's prepared value (None for name parts: they are compared from the parsed names)."""
        return tuple(
            None if comp is None else comp.prepare(record, c.field)
            for c, comp in zip(self.model.comparisons, self._comparators, strict=True)
        )

    # --- scoring ------------------------------------------------------------------------------------------

    def features(self, q: Prepared, r: Prepared) -> list[dict[str, Any] | None]:
        """What each comparison's comparator found for this pair; None where a side lacks the value."""
        out: list[dict[str, Any] | None] = []
        name_cmp = None
        for i, c in enumerate(self.model.comparisons):
            if c.comparator == "name_part":
                if not q.parsed() or not r.parsed():
                    out.append(None)
                    continue
                if name_cmp is None:
                    name_cmp = nb.best_comparison(q.parsed(), r.parsed())
                part = getattr(name_cmp, c.params["part"], None)
                out.append(None if part is None or part.level == "missing" else part_features(part))
            else:
                a, b = q.values[i], r.values[i]
                out.append(None if a is None or b is None else self._comparators[i].features(a, b))  # type: ignore[union-attr]
        return out

    def levels(self, q: Prepared, r: Prepared) -> list[int]:
        """The comparison vector: each comparison's level index, -1 where missing (for EM)."""
        return [
            -1 if f is None else c.level_index(f)
            for c, f in zip(self.model.comparisons, self.features(q, r), strict=True)
        ]

    def others(self, q: Prepared, r: Prepared) -> Others:
        """The comparisons other than names (cheap): their total weight and each one's outcome.

        Worked out once per pair: `bound` uses it to skip a candidate, and `score` reuses it.
        """
        total = 0.0
        compared: list[tuple[int, int, float, int | None, dict[str, Any]]] = []
        qv, rv = q.values, r.values
        for i in self._other_idx:
            a, b = qv[i], rv[i]
            if a is None or b is None:
                continue
            if self._repeats[i]:
                li, w, feats = self._remembered(i, a, b, r)
                count = None  # no term frequencies (see _repeats)
            else:
                li, w, feats, count = self._compare_values(i, a, b, r)
            total += w
            compared.append((i, li, w, count, feats))
        return Others(total, tuple(compared))

    def _others_weight(self, qv: tuple[Any, ...], r: Prepared, active: tuple[int, ...]) -> float:
        """`others(q, r).weight`, summed in the same order; active: the comparisons q has a value for."""
        total = 0.0
        rv, repeats, plain = r.values, self._repeats, self._plain_fast
        for i in active:
            b = rv[i]
            if b is None:
                continue
            a = qv[i]
            if repeats[i]:
                total += self._remembered(i, a, b, r)[1]
            elif (fast := plain[i]) is not None:
                # A birth range's weight by its gap and width alone, as `others_weights` weighs it: not
                # its features' dict (issue 19).
                total += self._tested_weight_of(i, fast(a, b))
            else:
                total += self._compare_values(i, a, b, r)[1]
        return total

    def _tested_weight_of(self, i: int, tested: tuple[Any, ...]) -> float:
        """Comparison i's weight, without term frequencies, from the features its levels test."""
        by_tested = self._tested_weight[i]
        w = by_tested.get(tested)
        if w is None:
            w = self._weights[i][self._level_by_tested(i, tested)]
            if len(by_tested) < 100_000:
                by_tested[tested] = w
        return w

    def _remembered(self, i: int, a: Any, b: Any, r: Prepared) -> tuple[int, float, dict[str, Any]]:
        """Comparison i's outcome (level, weight, features) for values that repeat across records, worked
        out once a pair of values."""
        hit = self._pair_memo.get((i, a, b))
        if hit is None:
            hit = self._compare_values(i, a, b, r)[:3]
            if len(self._pair_memo) < 100_000:
                self._pair_memo[(i, a, b)] = hit
        return hit

    def others_weights(
        self,
        q: Prepared,
        codes: Sequence[Sequence[int]],
        distinct: Sequence[Sequence[Any]],
        by_value: dict[tuple[int, Any], dict[int, float]] | None = None,
    ) -> list[float]:
        """`others(q, r).weight` of many candidates given by their codes (codes[k][i]: candidate k's
        position in distinct[i], comparison i's distinct values, as in its `Prepared.values`), without a
        `Prepared` each: an index's search bounds its whole shortlist so, and prepares only the candidates
        the bounds leave in. Each distinct value is weighed once a call (a shortlist's candidates share
        units, ranks, sexes, often birth years). Each candidate's weights are summed in `_others_weight`'s
        order, to the same last bit.

        by_value: the caller's memo, for as long as its codes number the same values (an index's), of
        the weight of each code against a query's value of a comparison whose values repeat (a sex, a
        unit): read by code, not by the pair of values (issue 19)."""
        totals = [0.0] * len(codes)
        if not codes:
            return totals
        qv, repeats = q.values, self._repeats
        columns = list(zip(*codes, strict=True))  # each comparison's codes, candidate by candidate
        for i in self._other_idx:
            a = qv[i]
            if a is None:
                continue
            values, column = distinct[i], columns[i]
            # Each distinct code weighed once, in order of first appearance (the memos fill as before);
            # then added to every candidate's total in C. A value a candidate lacks adds 0.0, which
            # leaves a total as it was to the last bit (a total starts at 0.0, never -0.0).
            if repeats[i]:
                seen = None if by_value is None else by_value.get((i, a))
                if seen is None:
                    seen = {}
                    if by_value is not None and len(by_value) < 4096:
                        by_value[(i, a)] = seen
                for code in column:
                    if code not in seen:
                        b = values[code]
                        seen[code] = 0.0 if b is None else self._remembered(i, a, b, _NO_NAMES)[1]
            else:
                seen = self._weighed(i, a, values, column)
            totals = list(map(add, totals, map(seen.__getitem__, column)))
        return totals

    def _weighed(self, i: int, a: Any, values: Sequence[Any], column: Sequence[int]) -> dict[int, float]:
        """`others_weights`' weight of each distinct code of a comparison whose values seldom repeat."""
        fast = self._tested_fast[i]
        by_tested = self._tested_weight[i]
        seen: dict[int, float] = {}
        for code in dict.fromkeys(column):
            b = values[code]
            if b is None:
                w = 0.0
            elif fast is not None:
                # `_tested_weight_of`'s memo read here: a birth range's weight, asked of each of a
                # shortlist's candidates, is nearly always known (its gap and width repeat; issue 19).
                tested = fast(a, b)
                w = by_tested.get(tested)
                if w is None:
                    w = self._tested_weight_of(i, tested)
            else:
                w = self._compare_values(i, a, b, _NO_NAMES)[1]
            seen[code] = w
        return seen

    def _compare_values(
        self, i: int, a: Any, b: Any, r: Prepared
    ) -> tuple[int, float, dict[str, Any], int | None]:
        c = self.model.comparisons[i]
        feats = self._comparators[i].features(a, b)  # type: ignore[union-attr]
        key = (i, tuple(map(feats.get, self._tested[i])))
        try:
            li = self._level_memo.get(key, -1)
        except TypeError:  # a tested feature that cannot be a key: worked out every time
            li, key = -1, None
        if li < 0:
            li = c.level_index(feats)
            if key is not None and len(self._level_memo) < 100_000:
                self._level_memo[key] = li
        w, count = self._level_weight(i, li, c, r)
        return li, w, feats, count

    def _level_by_tested(self, i: int, tested: tuple[Any, ...]) -> int:
        """Comparison i's level from the features its levels test, in `_tested[i]`'s order (as
        `_compare_values` remembers it)."""
        key = (i, tested)
        li = self._level_memo.get(key, -1)
        if li < 0:
            li = self.model.comparisons[i].level_index(dict(zip(self._tested[i], tested, strict=True)))
            if len(self._level_memo) < 100_000:
                self._level_memo[key] = li
        return li

    def bound(self, q: Prepared, r: Prepared, others: Others | None = None) -> float:
        """An upper bound of the pair's match weight, without comparing names (the costly part).

        The other fields are compared as in `score`; each name part counts at its best possible level
        (term frequency of this record's name included). A candidate whose bound is below the best found
        so far cannot enter the results, so it need not be scored.
        """
        others = others or self.others(q, r)
        total = self.prior_weight + others.weight
        # Names not yet read count as present: the bound stays a bound.
        if q.parsed() and r.names != ():
            if r.name_bound is None:
                r.name_bound = self.name_bound(r.tf_keys)
            total += r.name_bound
        return total

    def settled_score(
        self, q: Prepared, r: Prepared, others: Others, settled: dict[str, Any] | None = None
    ) -> float:
        """`score(q, r, explain=False).weight`, where the pair settles its other name parts (`settled`:
        its `names_bridge.settled_parts`, if known) compared by the family names alone
        (`names_bridge.settled_family`), not the whole names again."""
        settled = settled if settled is not None else self.settled(q, r)
        if settled is None or not self.settles_parts(settled):
            return self.score(q, r, explain=False, others=others).weight
        facts = r.settled_facts
        if facts is None:
            family = nb.settled_family(q.parsed(), r.parsed())
        else:  # a pair settled has one name a side
            family = nb.compare_families(q.parsed()[0].family, facts[1])
        return self.settled_weight(r, others, settled, {"family": family})

    def settles_parts(self, settled: dict[str, Any]) -> bool:
        """Whether the settled parts are every name part but the family name's (`settled_score` then
        compares the family names alone)."""
        return settled.keys() >= self._settling_parts

    def score(
        self,
        q: Prepared,
        r: Prepared,
        explain: bool = True,
        others: Others | None = None,
        reasons: bool = True,
    ) -> Scored:
        """explain: the evidence and note too; reasons False: the note alone (for a caller that shows no
        reasons, such as a staff search's list: the evidence's messages are a fifth of a search)."""
        others = others or self.others(q, r)
        total = self.prior_weight + others.weight
        # The outcomes are kept only to explain: `best` scores most candidates without.
        outcomes = {i: (li, w, count, feats) for i, li, w, count, feats in others.compared} if explain else {}
        if self._name_idx and q.parsed() and r.parsed():
            name_cmp = nb.best_comparison(q.parsed(), r.parsed())
            for i in self._name_idx:
                c = self.model.comparisons[i]
                part = getattr(name_cmp, c.params["part"], None)
                if part is None or part.level == "missing":
                    continue
                li, w, count = self._name_part_weight(i, c, part, r)
                total += w
                if explain:
                    outcomes[i] = (li, w, count, part_features(part))
        if not explain:
            return Scored(probability(total), total, ())
        if not reasons:
            return Scored(probability(total), total, (), self._note(q, r, outcomes))
        evidence: list[Evidence] = []
        population = self.tf.population if self.tf is not None else 0
        missing = self._missing_memo
        for i, c in enumerate(self.model.comparisons):
            got = outcomes.get(i)
            if got is None:
                # `_missing_evidence` with its memo read here, not a second call: most of a hit's
                # comparisons are missing on one side or both.
                key = self._sides(i, q, r)
                e = missing.get(key)
                evidence.append(self._missing_evidence(*key) if e is None else e)
                continue
            li, w, count, feats = got
            level = c.levels[li]
            said = ev.level_message(c, level.text, feats, count, population)
            evidence.append(Evidence(c.field, c.label, level.name, w, said))
        return Scored(probability(total), total, tuple(evidence), self._note(q, r, outcomes))

    def _missing_evidence(self, i: int, sought_has: bool, found_has: bool) -> Evidence:
        """A field not compared: one (immutable) Evidence per comparison and side lacking it, made once.

        Most of a hit's evidence is of this kind (capture place, service number...): shared, a batch's
        worker pickles each once per task's results and the parent unpickles it once, not once a hit
        (issue 19)."""
        key = (i, sought_has, found_has)
        got = self._missing_memo.get(key)
        if got is None:
            c = self.model.comparisons[i]
            got = self._missing_memo[key] = Evidence(
                c.field, c.label, None, 0.0, ev.missing(sought_has, found_has)
            )
        return got

    def _sides(self, i: int, q: Prepared, r: Prepared) -> tuple[int, bool, bool]:
        """Comparison i, and whether the person sought and the record found each have a value for it."""
        part = self._part_of[i]
        if part is None:
            return i, q.values[i] is not None, r.values[i] is not None
        return i, nb.has_part(q.parsed(), part), nb.has_part(r.parsed(), part)

    def _family_at(self) -> int | None:
        """The family name's comparison weighed by its counts, if the model has one."""
        return next((i for i in self._name_idx if self.model.comparisons[i].tf == "family"), None)

    def may_note(self, q: Prepared) -> bool:
        """Whether any record can get a note against q (`_note`), which the query alone decides: a family
        name alone (no given name or patronymic, in full or as an initial), under a model that weighs the
        family name by its counts."""
        names = q.parsed()
        if self._family_at() is None or not names:
            return False
        return not any(nb.has_part(names, p) for p in ("given", "patronymic"))

    def _note(self, q: Prepared, r: Prepared, outcomes: Mapping[int, Any]) -> Message | None:
        """A family name alone, shared by several records: how many, and which fields would tell them apart
        (those the record has and the person sought lacks: the other name parts first, then the fields the
        model weighs most)."""
        if not self.may_note(q):
            return None
        family = self._family_at()
        if family not in outcomes:
            return None
        count = outcomes[family][2]
        if count is None or count < 2:
            return None
        telling = sorted(
            (c.comparator != "name_part", -max(lv.weight for lv in c.levels), c.label)
            for i, c in enumerate(self.model.comparisons)
            if i not in outcomes and self._sides(i, q, r)[1:] == (False, True)
        )
        return ev.namesakes_note(count, [label for *_w, label in telling[:3]])

    def best(
        self,
        q: Prepared,
        candidates: Sequence[Prepared],
        limit: int,
        min_probability: float = 0.0,
        tie: Callable[[int], Any] | None = None,
        reasons: bool = True,
    ) -> list[tuple[int, Scored]]:
        """The `limit` best candidates for q, best first: (position in candidates, explained score; without
        its evidence, the note alone, where reasons is False).

        Best first by bound: every candidate gets a cheap upper bound of its weight (`bound`); the one
        with the highest is refined, to the tighter `settled_bound` and then to its score (the costly
        name comparison), and goes back among the rest; a scored candidate that comes out on top beats
        every bound left. Once `limit` are found, what is left cannot reach them: most candidates are
        never compared by name. The result is the one scoring every candidate would give; ties go by
        `tie(position)` (default: the position), which also orders equal bounds.
        """
        # Only the other fields' total weight is needed until the last step (which explains the best from
        # scratch): outcomes are not kept, and fields the query lacks are not looked at.
        qv = q.values
        active = tuple(i for i in self._other_idx if qv[i] is not None)
        weights = [self._others_weight(qv, r, active) for r in candidates]
        bounds = [self.bound(q, r, Others(w, ())) for r, w in zip(candidates, weights, strict=True)]
        return bounded_best(
            self, q, bounds, weights, candidates.__getitem__, limit, min_probability, tie, reasons
        )


# The record side of a comparison other than names: only a term-frequency level reads it (its name keys),
# and those are name comparisons'.
_NO_NAMES = Prepared(None, (), (), (None, None, None))
