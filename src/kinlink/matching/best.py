"""Choosing a query's best candidates by branch and bound: each candidate's upper bound first, and the
costly name comparison only for those a bound leaves in (`Scorer.best`; an index's search calls it with the
bounds it worked out column by column)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kinlink.matching.score_values import Others, Prepared, Scored

if TYPE_CHECKING:
    from kinlink.matching.score import Scorer


def bounded_best(
    scorer: Scorer,
    q: Prepared,
    bounds: Sequence[float],
    weights: Sequence[float],
    candidate: Callable[[int], Prepared],
    limit: int,
    min_probability: float = 0.0,
    tie: Callable[[int], Any] | None = None,
    reasons: bool = True,
    complete: Callable[[int], Prepared] | None = None,
    settle: Callable[[int], tuple[dict[str, Any] | None, float] | None] | None = None,
    weigh_settled: Callable[[int, dict[str, Any]], float] | None = None,
) -> list[tuple[int, Scored]]:
    """`Scorer.best` of candidates whose `bound` and other fields' weight (`others(q, r).weight`) are known,
    each given by its position (`candidate(n)`: asked only for those the bound does not rule out).

    Until the last step only a candidate's names and name keys are read (its other fields' weight is
    known): `complete(n)`, where given, is the candidate with its other fields' values too, for the few
    that are scored in full at the end.

    settle, weigh_settled: where given (an index's search), a candidate's settled parts and settled bound
    (`Scorer.settled`, `settled_weight`), and then its `settled_score`, worked out from what the caller
    holds of it, without making its `Prepared` (most candidates are ruled out by their settled bound, and
    making each one's cost more than bounding it; issue 19): settle(n) is (None, 0.0) for a pair that settles
    nothing, None for a candidate taken the general way (`candidate(n)`); weigh_settled(n, settled) must
    give `settled_score`'s weight."""
    floor = (
        math.log2(min_probability / (1 - min_probability)) - 1e-9 if 0 < min_probability < 1 else -math.inf
    )
    # (-upper bound or -weight, position, stage: 0 bound, 1 settled bound, 2 scored; the settled parts)
    heap: list[tuple[float, int, int, Any]] = [(-b, n, 0, None) for n, b in enumerate(bounds) if b >= floor]
    heapq.heapify(heap)
    found: list[tuple[float, int]] = []
    kth = -math.inf  # the weight a candidate must reach to enter the top `limit`
    while heap and -heap[0][0] >= kth:
        neg, n, stage, settled = heapq.heappop(heap)
        if stage == 2:
            found.append((-neg, n))
            if len(found) >= limit:
                kth = sorted((x[0] for x in found), reverse=True)[limit - 1]
            continue
        if stage == 0:
            # Most candidates share the family name's keys but not the given name or patronymic:
            # those parts, cheap to compare, often settle it before the family names (and then, when
            # it is scored, leave only the family names to compare).
            got = None if settle is None else settle(n)
            b = 0.0
            if got is not None:
                settled, b = got
            else:
                r = candidate(n)
                settled = scorer.settled(q, r)
                if settled is not None:
                    b = scorer.settled_total(r.tf_keys, weights[n], settled, None)  # settled_weight's
            if settled is not None and b < -neg:
                if b >= floor:
                    heapq.heappush(heap, (-b, n, 1, settled))
                continue
        if settled is not None:
            if weigh_settled is not None:
                w = weigh_settled(n, settled)
            else:
                w = scorer.settled_score(q, candidate(n), Others(weights[n], ()), settled)
        else:
            w = scorer.score(q, candidate(n), explain=False, others=Others(weights[n], ())).weight
        if w >= floor:
            heapq.heappush(heap, (-w, n, 2, None))
    order = tie or (lambda n: n)
    found.sort(key=lambda t: (-t[0], order(t[1])))
    out = []
    full = complete or candidate
    for _w, n in found[:limit]:
        s = scorer.score(q, full(n), reasons=reasons)
        if s.probability >= min_probability:
            out.append((n, s))
    return out
