"""Estimating m and u from the data, as Splink does: u from random pairs, m by expectation-maximisation.

u (how often a level occurs between two different people) is counted on random pairs of records, which
are almost all non-matches. m (how often it occurs for the same person) is estimated by EM over the
candidate pairs the index proposes, with u held fixed: each pair's match probability (E step) weights the
level counts (M step). A field missing on one side takes no part. The result is a new model version.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from kinlink.matching.index import CandidateIndex
from kinlink.matching.model import Comparison, Model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Scorer

_FLOOR = 1e-6  # no level is impossible: a zero would veto a match outright


@dataclass
class Estimate:
    model: Model
    random_pairs: int
    candidate_pairs: int
    iterations: int
    match_share: float  # share of candidate pairs EM takes to be matches


def random_pair_vectors(
    scorer: Scorer, records: Sequence[MatchRecord], pairs: int, seed: int = 1
) -> np.ndarray:
    rng = random.Random(seed)
    prepared: dict[int, object] = {}

    def prep(i: int):  # type: ignore[no-untyped-def]
        p = prepared.get(i)
        if p is None:
            p = prepared[i] = scorer.prepare(records[i])
        return p

    rows = []
    n = len(records)
    for _ in range(pairs):
        i, j = rng.randrange(n), rng.randrange(n)
        if i != j:
            rows.append(scorer.levels(prep(i), prep(j)))  # type: ignore[arg-type]
    return np.asarray(rows, dtype=np.int16).reshape(-1, len(scorer.model.comparisons))


def candidate_pair_vectors(index: CandidateIndex, queries: Sequence[int], shortlist: int = 10) -> np.ndarray:
    """Comparison vectors of each sampled record against its shortlist (itself excluded)."""
    rows = []
    for row in queries:
        rec = index.record(row)
        # Shortlisted on the name alone: a shortlist ranked by birth too would make near birth dates look
        # like evidence of a match.
        blind = replace(rec, birth_date=None, birth_year_to=None, age=None, age_as_of=None, sex=None)
        for other in index.shortlist(blind, shortlist).tolist():
            if other != row:
                rows.append(index.scorer.levels(index._prepared_row(row), index._prepared_row(other)))
    return np.asarray(rows, dtype=np.int16).reshape(-1, len(index.model.comparisons))


def patterns(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Comparison vectors folded into their distinct patterns and how many pairs show each (as Splink
    counts them before EM): EM then runs over a few thousand patterns, whatever the number of pairs."""
    if not len(vectors):
        return vectors, np.zeros(0)
    distinct, counts = np.unique(vectors, axis=0, return_counts=True)
    return distinct, counts.astype(np.float64)


def _frequencies(
    vectors: np.ndarray,
    comps: Sequence[Comparison],
    weights: np.ndarray | None = None,
    counts: np.ndarray | None = None,
) -> list[list[float]]:
    out = []
    for k, c in enumerate(comps):
        col = vectors[:, k]
        known = col >= 0
        w = np.ones(len(col)) if weights is None else weights
        if counts is not None:
            w = w * counts
        total = float(w[known].sum())
        freqs = []
        for li in range(len(c.levels)):
            f = float(w[known & (col == li)].sum()) / total if total > 0 else c.levels[li].m
            freqs.append(max(f, _FLOOR))
        s = sum(freqs)
        out.append([f / s for f in freqs])
    return out


def expectation_maximisation(
    model: Model,
    vectors: np.ndarray,
    u: list[list[float]],
    use: Sequence[bool],
    m_start: list[list[float]] | None = None,
    iterations: int = 20,
    tol: float = 1e-4,
    lam: float = 0.05,
    counts: np.ndarray | None = None,
) -> tuple[list[list[float]], float, int]:
    """m probabilities (and the share of matches) that best explain the pairs, u held fixed.

    Only comparisons with use[k] take part: those the pairs were blocked on agree by construction, so
    (as in Splink) they can tell nothing about m in this session and are left out of it.
    """
    comps = model.comparisons
    m = [list(x) for x in (m_start or [[lv.m for lv in c.levels] for c in comps])]
    done = 0
    for it in range(1, iterations + 1):
        done = it
        logit = np.full(len(vectors), math.log(lam / (1 - lam)))
        for k in range(len(comps)):
            if not use[k]:
                continue
            col = vectors[:, k]
            ratio = np.log(np.asarray(m[k]) / np.asarray(u[k]))
            logit += np.where(col >= 0, ratio[np.clip(col, 0, None)], 0.0)
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -50, 50)))
        estimated = _frequencies(vectors, comps, p, counts)
        new_m = [estimated[k] if use[k] and (vectors[:, k] >= 0).any() else m[k] for k in range(len(comps))]
        share = float(np.average(p, weights=counts)) if len(p) else 0.0
        new_lam = float(min(max(share, 1e-6), 0.99))
        delta = max(abs(a - b) for mk, nk in zip(m, new_m, strict=True) for a, b in zip(mk, nk, strict=True))
        m, lam = new_m, new_lam
        if delta < tol:
            break
    return m, lam, done


def same_birthday_pairs(
    index: CandidateIndex, rows: Sequence[int], per_row: int = 5
) -> list[tuple[int, int]]:
    """Pairs blocked on an exact date of birth (nothing about their names), for the names' m."""
    lo, hi = index.birth_lo, index.birth_hi
    exact = np.flatnonzero((lo == hi) & (lo != np.iinfo(np.int32).min))
    order = exact[np.argsort(lo[exact], kind="stable")]
    days = lo[order]
    pairs = []
    for row in rows:
        if lo[row] != hi[row]:
            continue
        a, b = np.searchsorted(days, lo[row], "left"), np.searchsorted(days, lo[row], "right")
        same = [int(x) for x in order[a:b][: per_row + 1] if x != row][:per_row]
        pairs.extend((row, other) for other in same)
    return pairs


def estimate(
    model: Model,
    records: Sequence[MatchRecord],
    *,
    random_pairs: int = 200_000,
    sample: int = 20_000,
    iterations: int = 20,
    seed: int = 1,
    index: CandidateIndex | None = None,
) -> Estimate:
    """A new model version with m and u estimated from these records (`estimate_from_patterns`)."""
    index = index or CandidateIndex.build(model, records)
    comps = model.comparisons
    u_vectors = random_pair_vectors(index.scorer, records, random_pairs, seed)
    rng = random.Random(seed)
    rows = rng.sample(range(len(records)), min(sample, len(records)))
    by_name = candidate_pair_vectors(index, rows)
    by_birth = np.asarray(
        [
            index.scorer.levels(index._prepared_row(a), index._prepared_row(b))
            for a, b in same_birthday_pairs(index, rows)
        ],
        dtype=np.int16,
    ).reshape(-1, len(comps))
    return estimate_from_patterns(
        model,
        patterns(u_vectors),
        patterns(by_name),
        patterns(by_birth),
        records=len(records),
        random_pairs=random_pairs,
        iterations=iterations,
    )


Patterns = tuple[np.ndarray, np.ndarray]  # distinct comparison vectors, and how many pairs show each


def estimate_from_patterns(
    model: Model,
    random: Patterns,
    by_name: Patterns,
    by_birth: Patterns,
    *,
    records: int,
    random_pairs: int,
    iterations: int = 20,
) -> Estimate:
    """The new model from counted agreement patterns (`patterns`), wherever they were counted (here from
    the index, or by Spark: kinlink.engines.spark.estimate).

    Two EM sessions, as Splink trains: pairs blocked on names estimate every other field's m; pairs
    blocked on the date of birth estimate the names' m (and the rest again, starting from the first)."""
    comps = model.comparisons
    u = _frequencies(random[0], comps, counts=random[1])
    is_name = [c.comparator == "name_part" for c in comps]
    is_birth = [c.field == "birth" for c in comps]
    m1, lam1, it1 = expectation_maximisation(
        model, by_name[0], u, [not x for x in is_name], iterations=iterations, counts=by_name[1]
    )
    m2, _lam2, it2 = expectation_maximisation(
        model,
        by_birth[0],
        u,
        [not x for x in is_birth],
        m_start=m1,
        iterations=iterations,
        lam=0.01,
        counts=by_birth[1],
    )
    name_pairs, birth_pairs = int(by_name[1].sum()), int(by_birth[1].sum())
    # Names from the birth-blocked session, everything else from the name-blocked one.
    m = [m2[k] if is_name[k] and birth_pairs else m1[k] for k in range(len(comps))]
    new_comps = tuple(
        replace(
            c,
            levels=tuple(
                replace(lv, m=round(m[k][li], 6), u=round(u[k][li], 8)) for li, lv in enumerate(c.levels)
            ),
        )
        for k, c in enumerate(comps)
    )
    trained = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "records": records,
        "random_pairs": int(random_pairs),
        "candidate_pairs": name_pairs,
        "birth_pairs": birth_pairs,
        "iterations": [it1, it2],
        "from_version": model.version,
    }
    new = model.with_comparisons(new_comps, version=model.version + 1, trained=trained)
    return Estimate(new, random_pairs, name_pairs, it1 + it2, lam1)
