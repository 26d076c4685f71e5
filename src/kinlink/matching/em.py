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


def random_pair_vectors(scorer: Scorer, records: Sequence[MatchRecord], pairs: int, seed: int = 1) -> np.ndarray:
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
        for other in index.shortlist(index.record(row), shortlist).tolist():
            if other != row:
                rows.append(index.scorer.levels(index._prepared_row(row), index._prepared_row(other)))
    return np.asarray(rows, dtype=np.int16).reshape(-1, len(index.model.comparisons))


def _frequencies(vectors: np.ndarray, comps: Sequence[Comparison], weights: np.ndarray | None = None) -> list[list[float]]:
    out = []
    for k, c in enumerate(comps):
        col = vectors[:, k]
        known = col >= 0
        w = np.ones(len(col)) if weights is None else weights
        total = float(w[known].sum())
        freqs = []
        for li in range(len(c.levels)):
            f = float(w[known & (col == li)].sum()) / total if total > 0 else c.levels[li].m
            freqs.append(max(f, _FLOOR))
        s = sum(freqs)
        out.append([f / s for f in freqs])
    return out


def expectation_maximisation(
    model: Model, vectors: np.ndarray, u: list[list[float]], iterations: int = 20, tol: float = 1e-4
) -> tuple[list[list[float]], float, int]:
    """m probabilities (and the share of matches) that best explain the candidate pairs, u held fixed."""
    comps = model.comparisons
    m = [[lv.m for lv in c.levels] for c in comps]
    lam = 0.1
    it = 0
    for it in range(1, iterations + 1):
        # E step: log-odds of each pair being a match.
        logit = np.full(len(vectors), math.log(lam / (1 - lam)))
        for k in range(len(comps)):
            col = vectors[:, k]
            ratio = np.log(np.asarray(m[k]) / np.asarray(u[k]))
            logit += np.where(col >= 0, ratio[np.clip(col, 0, None)], 0.0)
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -50, 50)))
        # M step.
        new_m = _frequencies(vectors, comps, p)
        new_lam = float(min(max(p.mean(), 1e-6), 0.99))
        delta = max(abs(a - b) for mk, nk in zip(m, new_m, strict=True) for a, b in zip(mk, nk, strict=True))
        m, lam = new_m, new_lam
        if delta < tol:
            break
    return m, lam, it


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
    """A new model version with m and u estimated from these records."""
    index = index or CandidateIndex.build(model, records)
    u = _frequencies(random_pair_vectors(index.scorer, records, random_pairs, seed), model.comparisons)
    rng = random.Random(seed)
    rows = rng.sample(range(len(records)), min(sample, len(records)))
    vectors = candidate_pair_vectors(index, rows)
    m, lam, its = expectation_maximisation(model, vectors, u, iterations)
    comps = tuple(
        replace(c, levels=tuple(replace(lv, m=round(m[k][li], 6), u=round(u[k][li], 8)) for li, lv in enumerate(c.levels)))
        for k, c in enumerate(model.comparisons)
    )
    trained = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "records": len(records),
        "random_pairs": int(random_pairs),
        "candidate_pairs": len(vectors),
        "iterations": its,
        "from_version": model.version,
    }
    new = model.with_comparisons(comps, version=model.version + 1, trained=trained)
    return Estimate(new, random_pairs, len(vectors), its, lam)
