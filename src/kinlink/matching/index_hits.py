"""A query's hits from its shortlist, read from the candidate index's columns (`CandidateIndex.found`).

The shortlist is bounded column by column (`best.bounded_best`): each candidate's settled parts and score
worked out from its columns' codes, and a candidate's `Prepared` made only for those the bounds leave in.
Split from `index.py`, which builds the index and finds the shortlist.
"""

from __future__ import annotations

from functools import partial
from operator import add
from typing import TYPE_CHECKING, Any

import numpy as np

from kinlink.matching import names_bridge as nb
from kinlink.matching.best import bounded_best
from kinlink.matching.record import MatchRecord
from kinlink.matching.score_names import UNSEEN
from kinlink.matching.score_values import Others, Prepared, Scored

if TYPE_CHECKING:
    from kinlink.matching.index import CandidateIndex


# Bits added to a bound less its unearned name parts (`found`): far above the rounding of the subtraction
# (~1e-14 bits), far below any two weights' difference that matters (a bound only decides what is scored).
_SLACK = 1e-6


def found(
    index: CandidateIndex, rows: np.ndarray, query: MatchRecord, limit: int, min_probability: float
) -> list[tuple[int, Scored]]:
    """The best of the shortlist `rows` for `query`, as rows and scores, best first."""
    if not len(rows):
        return []
    row_list = rows.tolist()
    scorer = index.scorer
    q = scorer.prepare(query)
    # The shortlist bounded column by column (`best.bounded_best`); a candidate is prepared only if
    # its bound leaves it in (most are ruled out unread).
    # Each row's codes in the value and name-key columns: the bounds read them column by column, a
    # candidate's Prepared (only those the bounds leave in) row by row, in Python (a shortlist is
    # small: numpy's cost a call, a call a column, was more than the work).
    n_values = len(index._value_cols)
    codes = index._row_codes.take(rows, axis=0).tolist()
    distinct = index._row_lists
    weights = scorer.others_weights(q, codes, distinct, index._by_value)
    name_bounds = index._name_bound.take(rows).tolist()
    prior = scorer.prior_weight
    value_lists, tf_lists = distinct[:n_values], distinct[n_values:]
    if q.parsed():
        bounds = [prior + w + b for w, b in zip(weights, name_bounds, strict=True)]
        unearned = scorer.unearned(q.parsed())
        if unearned:
            # A name part the query lacks (a patronymic, for most two-word queries) weighs nothing
            # against any candidate, yet each one's name bound counts it at its best: taken out, fewer
            # candidates' bounds reach the best found, and fewer are settled (issue 19). What is taken
            # out is the term the bound summed for the candidate's key (the same memos), so what is left
            # is still a bound; `_SLACK` covers the subtraction's rounding, to keep it one to the last bit.
            cuts = [0.0] * len(bounds)
            for i, comparison, slot in unearned:
                if slot is None:
                    term = scorer.unearned_term(i, comparison, None)
                    cuts = [cut + term for cut in cuts]
                    continue
                at, keys = n_values + slot, tf_lists[slot]
                column = [c[at] for c in codes]
                terms = {
                    code: scorer.unearned_term(i, comparison, keys[code]) for code in dict.fromkeys(column)
                }
                cuts = list(map(add, cuts, map(terms.__getitem__, column)))
            bounds = [b - cut + _SLACK for b, cut in zip(bounds, cuts, strict=True)]
    else:
        bounds = [prior + w for w in weights]
    prepared: dict[int, Prepared] = {}
    # Each candidate's settled facts (`_settled_facts`), once read by `settle`.
    facts_at: dict[int, tuple[Any, str | None] | None] = {}

    # The three name-key columns (family, given, patronymic: `index._tf_cols`) read by position: a
    # candidate's keys are asked two or three times, and a slice and map a time cost 3 % of a search.
    fam_keys, given_keys, pat_keys = tf_lists
    fam_at, given_at, pat_at = n_values, n_values + 1, n_values + 2

    def tf_keys_at(n: int) -> tuple[str | None, str | None, str | None]:
        c = codes[n]
        return fam_keys[c[fam_at]], given_keys[c[given_at]], pat_keys[c[pat_at]]

    def candidate(n: int) -> Prepared:
        got = prepared.get(n)
        if got is None:
            facts = facts_at[n] if n in facts_at else index._settled_facts(row_list[n])
            # Without its other fields' values (None until `complete`): bounding reads its names and
            # name keys alone, and each value read is a cache miss on a million records.
            got = prepared[n] = Prepared(
                None,
                None,
                None,  # type: ignore[arg-type]
                tf_keys_at(n),  # type: ignore[arg-type]
                name_bounds[n],
                partial(index.parsed_names, row_list[n]),
                facts,
            )
        return got

    def complete(n: int) -> Prepared:
        got = candidate(n)
        if got.values is None:
            got.values = tuple(map(list.__getitem__, value_lists, codes[n]))
        return got

    q_names = q.parsed()
    one_name = len(q_names) == 1

    def settle(n: int) -> tuple[dict[str, Any] | None, float] | None:
        # `Scorer.settled` and `settled_weight` of a row of one name, from its columns' codes: no
        # Prepared, no parsed name unless the pair is new (issue 19). None: taken the general way.
        row = row_list[n]
        facts = facts_at[n] = index._settled_facts(row)
        if facts is None or not one_name:
            return None
        settled = scorer.settled_known(q_names, facts[0])
        if settled is UNSEEN:
            settled = scorer.settled_new(q_names, facts[0], index.parsed_names(row))
        if settled is None:  # not settled (a name's order a guess): scored, not asked again
            return None, 0.0
        return settled, scorer.settled_total(tf_keys_at(n), weights[n], settled, None)  # type: ignore[arg-type]

    def weigh_settled(n: int, settled: dict[str, Any]) -> float:
        # `Scorer.settled_score` of a candidate `settle` settled (one name a side), from its family name
        # and name keys alone.
        facts = facts_at.get(n)
        if facts is None or not scorer.settles_parts(settled):
            return scorer.settled_score(q, candidate(n), Others(weights[n], ()), settled)
        family = nb.compare_families(q_names[0].family, facts[1])
        return scorer.settled_total(tf_keys_at(n), weights[n], settled, {"family": family})  # type: ignore[arg-type]

    best = bounded_best(
        scorer,
        q,
        bounds,
        weights,
        candidate,
        limit,
        min_probability,
        row_list.__getitem__,
        complete=complete,
        settle=settle,
        weigh_settled=weigh_settled,
    )
    return [(row_list[n], s) for n, s in best]
