"""Remains matching speed: one record of remains against N missing persons, with the remains model's
comparisons (marks, age when found, height, sex, where and when found). Remains carry no name to block on;
they are blocked by `matching.physical.window` (what the SQL read keeps: sex, birth years, last seen before
found; applied here to the records in memory as the query applies it to the columns) and then `plausible`.
`--baseline`: every person compared, as before blocking.

    .venv/bin/python bench/matching/remains.py --persons 20000 [--baseline]
    .venv/bin/python bench/matching/remains.py --persons 20000 --db   # through the database (a temporary
        SQLite): tracing.remains_matching.match_remains, and the read of every missing person it replaces
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta

from kinlink.matching.model import load_model
from kinlink.matching.physical import Window, plausible, window
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


def in_window(p: MatchRecord, w: Window) -> bool:
    """What the SQL of `tracing.remains_matching.missing_persons` keeps, on the same text values."""
    if w.sex and p.sex and p.sex != w.sex:
        return False
    born = p.birth_date
    if born and w.born_from_year is not None and w.born_before_year is not None:
        return f"{w.born_from_year:04d}" <= born < f"{w.born_before_year:04d}" and not _seen_after(p, w)
    return not _seen_after(p, w)


def _seen_after(p: MatchRecord, w: Window) -> bool:
    seen = p.extra.get("last_seen_date")
    return bool(w.seen_until and seen and seen > w.seen_until)


def through_db(people: list[MatchRecord]) -> None:
    """The same persons in a database; one record of remains matched as the registry matches it."""
    import tempfile
    from pathlib import Path

    from sqlalchemy import insert

    from kinlink.store import schema
    from kinlink.store.db import make_engine, unit_of_work
    from kinlink.store.models import Event, Person, Source
    from kinlink.store.remains_models import Remains
    from kinlink.tracing.remains_matching import match_remains, missing_persons

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        schema.upgrade(engine)
        with unit_of_work(engine) as s:
            s.add(Source(id=1, name="bench", kind="registry"))
            s.flush()
            s.execute(insert(Person), [
                {"id": i + 1, "source_id": 1, "source_record_id": str(i), "full_name": str(p.name),
                 "sex": p.sex, "birth_date": p.birth_date, "status": "missing",
                 "distinguishing_marks": p.extra.get("marks")} for i, p in enumerate(people)
            ])  # fmt: skip
            s.execute(insert(Event), [
                {"person_id": i + 1, "kind": "missing", "date": p.extra["last_seen_date"],
                 "place": p.extra["last_seen_place"]} for i, p in enumerate(people)
            ])  # fmt: skip
            rem = Remains(record_id="U-1", sex="m", age_min=30, age_max=40, height_min=176, height_max=184,
                          marks="tattoo: eagle, left forearm", found_date="2022-09-10", found_place="Bucha",
                          recovered_by="bench")  # fmt: skip
            s.add(rem)
            s.flush()
            rid = rem.id
        model = load_model()
        with unit_of_work(engine) as s:
            t0 = time.perf_counter()
            n = len(missing_persons(s))
            t1 = time.perf_counter()
            done = match_remains(s, "bench", [rid], model=model)
            t2 = time.perf_counter()
        engine.dispose()
    print(f"{n:,} missing persons in SQLite: reading them all (before blocking) {t1 - t0:.2f}s; "
          f"match_remains with blocking {t2 - t1:.2f}s, {done.compared:,} compared, "
          f"{len(done.candidates)} candidate(s)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=20000)
    ap.add_argument("--baseline", action="store_true", help="compare every person (no blocking)")
    ap.add_argument("--db", action="store_true", help="through the database (a temporary SQLite)")
    args = ap.parse_args()
    rng = random.Random(7)
    model = load_model().remains
    assert model is not None
    people = persons(args.persons, rng)
    if args.db:
        through_db(people)
        return
    remains = MatchRecord(
        "u", "", sex="m", kind="remains",
        extra={"age_range": "30-40", "height": "176-184", "marks": "tattoo: eagle, left forearm",
               "found_date": "2022-09-10", "found_place": "Bucha"},
    )  # fmt: skip
    scorer = Scorer(model, population=len(people))  # the population stays everyone, blocked or not
    t0 = time.perf_counter()
    if not args.baseline:
        w = window(remains)
        people = [p for p in people if in_window(p, w) and plausible(remains, p)]
    prepared = [scorer.prepare(p) for p in people]
    t1 = time.perf_counter()
    q = scorer.prepare(remains)
    found = sum(scorer.score(q, r, explain=False).probability >= model.candidate_threshold for r in prepared)
    t2 = time.perf_counter()
    print(f"{args.persons:,} missing persons ({'baseline: all compared' if args.baseline else 'blocked'}): "
          f"{len(people):,} read and prepared in {t1 - t0:.2f}s; one record of remains against them in "
          f"{t2 - t1:.2f}s; {t2 - t0:.2f}s in all; {found} candidate(s) at or above "
          f"{model.candidate_threshold}")  # fmt: skip


if __name__ == "__main__":
    main()
