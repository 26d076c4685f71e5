"""Remains matching speed: one record of remains against N missing persons (every one is compared: remains
carry no name to block on), with the remains model's comparisons (marks, age when found, height, sex,
where and when found).

    .venv/bin/python bench/matching/remains.py --persons 20000
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta

from kinlink.matching.model import load_model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Scorer

MOTIFS = ["орёл", "eagle", "роза", "rose", "крест", "череп", "тризуб", "якорь", "dragon", "wolf", "лев"]
PLACES = [
    "на левом предплечье",
    "on the right shoulder",
    "на грудях",
    "на спине",
    "on the left hand",
    "на шее",
]
TOWNS = ["Буча", "Ирпень", "Bucha", "Гостомель", "Бородянка", "Izium", "Мариуполь", "Херсон"]


def persons(n: int, rng: random.Random) -> list[MatchRecord]:
    out = []
    for i in range(n):
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 45))
        seen = date(2022, 2, 24) + timedelta(days=rng.randrange(700))
        marks = "; ".join(f"{rng.choice(MOTIFS)} {rng.choice(PLACES)}" for _ in range(rng.randrange(3)))
        extra = {"last_seen_date": seen.isoformat(), "last_seen_place": rng.choice(TOWNS)}
        if marks:
            extra["marks"] = marks + (f"; рост {rng.randrange(160, 195)} см" if rng.random() < 0.5 else "")
        out.append(MatchRecord(i, f"P{i}", sex=rng.choice("mmmmf"), birth_date=born.isoformat(), extra=extra))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=20000)
    args = ap.parse_args()
    rng = random.Random(7)
    model = load_model().remains
    assert model is not None
    people = persons(args.persons, rng)
    remains = MatchRecord(
        "u", "", sex="m", kind="remains",
        extra={"age_range": "30-40", "height": "176-184", "marks": "tattoo: eagle, left forearm",
               "found_date": "2022-09-10", "found_place": "Bucha"},
    )  # fmt: skip
    scorer = Scorer(model, population=len(people))
    t0 = time.perf_counter()
    prepared = [scorer.prepare(p) for p in people]
    t1 = time.perf_counter()
    q = scorer.prepare(remains)
    found = sum(scorer.score(q, r, explain=False).probability >= model.candidate_threshold for r in prepared)
    t2 = time.perf_counter()
    print(f"{len(people):,} missing persons: prepared in {t1 - t0:.2f}s; one record of remains against all "
          f"in {t2 - t1:.2f}s ({len(people) / (t2 - t1):,.0f} pairs/s); {found} candidate(s) at or above "
          f"{model.candidate_threshold}")  # fmt: skip


if __name__ == "__main__":
    main()
