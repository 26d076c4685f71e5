"""Does a correct first-ranked match reach the caseworker? (issue 17 item 5)

    .venv/bin/python bench/names/calibrate.py [--sizes 20000,100000] [--targets 414] [--absent 300]

A registry of N generated persons (drawn as in `run.py`: Faker's ru/uk name lists and the OpenCorpora
surnames, Zipf-like, so rare names are common in the tail) plus `--targets` persons sought, indexed by the
matching engine (`kinlink.matching.index.CandidateIndex`, the model in `model.json`, the scorer every engine
uses). Each target is sought by a request as families and the press write it: the name alone (family and
given name; or with the patronymic; or the given name's initial; or the family name alone), in Cyrillic or
one of the romanisations of `renderers.py`, a third with a birth year. Absent people (drawn the same
way, not in the registry, no namesake with the same full name) are sought likewise.

Printed per size: the share of targets found at rank 1, of those the share whose probability reaches the
candidate threshold (stored for a caseworker), the lowest such probabilities, the absent people's
highest probability (how many reach 0.05, 0.5 and 0.9), and a calibration table: the best candidate's match
probability against whether it is the person, by decile, over present and absent requests.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from faker import Faker

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from renderers import SCHEMES, render  # noqa: E402
from run import load_pools, make_person  # noqa: E402

import kinlink  # noqa: E402
from kinlink.matching.index import CandidateIndex  # noqa: E402
from kinlink.matching.model import load_model  # noqa: E402
from kinlink.matching.record import MatchRecord  # noqa: E402


def birth(rng: random.Random) -> str:
    return f"{rng.randint(1960, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


STYLES = ("family and given name", "with patronymic", "given name's initial", "family name alone")


def request_for(p, born: str, rng: random.Random, qid: str) -> tuple[MatchRecord, str]:
    style = rng.choices(STYLES, weights=(5, 2, 2, 1))[0]
    words = [p.family, p.given]
    if style == "with patronymic" and p.patronymic:
        words.append(p.patronymic)
    elif style == "family name alone":
        words = [p.family]
    if rng.random() < 0.5:
        schemes = [s for s, (_fn, langs) in SCHEMES.items() if p.lang in langs]
        words = render(rng.choice(schemes), words, p.lang)
    if style == "given name's initial":
        words[1] = words[1][0] + "."
    year = born[:4] if rng.random() < 1 / 3 else None
    return MatchRecord(id=qid, name=" ".join(words), birth_date=year, kind="request"), style


def calibration(rows: list[tuple[float, bool]]) -> list[str]:
    out = [f"{'probability':>12} {'n':>6} {'mean p':>8} {'observed':>9}"]
    for d in range(10):
        lo, hi = d / 10, (d + 1) / 10
        b = [(p, ok) for p, ok in rows if lo <= p < hi or (d == 9 and p == 1.0)]
        if b:
            mean = sum(p for p, _ in b) / len(b)
            obs = sum(ok for _, ok in b) / len(b)
            out.append(f"{lo:4.1f}-{hi:4.1f}    {len(b):>6} {mean:>8.3f} {obs:>9.3f}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="20000,100000")
    ap.add_argument("--targets", type=int, default=414)
    ap.add_argument("--absent", type=int, default=300)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--processes", type=int, default=2)
    args = ap.parse_args()
    model = load_model()
    threshold = model.candidate_threshold
    print(f"code: {Path(kinlink.__file__).parent}")
    rng = random.Random(args.seed)
    Faker.seed(args.seed)
    pools = load_pools(True, rng)
    for size in (int(s) for s in args.sizes.split(",")):
        rng = random.Random(args.seed + size)
        people = [make_person(i, pools, rng) for i in range(size + args.targets)]
        records = [
            MatchRecord(id=i, name=p.registry_text, sex=p.sex, birth_date=birth(rng))
            for i, p in enumerate(people)
        ]
        targets = list(range(size, size + args.targets))
        names = {r.name.lower() for r in records}
        absent = []
        while len(absent) < args.absent:
            p = make_person(-1, pools, rng)
            if p.registry_text.lower() not in names:
                absent.append(p)
        t0 = time.perf_counter()
        index = CandidateIndex.build(model, records, processes=args.processes)
        built = time.perf_counter() - t0
        t0 = time.perf_counter()
        found, cleared, low, cal = 0, 0, [], []
        by_style: dict[str, list[int]] = {s: [0, 0] for s in STYLES}
        for i in targets:
            q, style = request_for(people[i], records[i].birth_date or "", rng, f"q{i}")
            hits = index.search(q, limit=5)
            if hits and hits[0].record.id == i:
                found += 1
                p = hits[0].scored.probability
                cleared += p >= threshold
                by_style[style][0] += 1
                by_style[style][1] += p >= threshold
                if p < threshold:
                    low.append((round(p, 4), q.name))
            if hits:
                cal.append((hits[0].scored.probability, hits[0].record.id == i))
        maxima, worst = [], []
        for p in absent:
            q, _style = request_for(p, birth(rng), rng, "absent")
            hits = index.search(q, limit=1)
            best = hits[0].scored.probability if hits else 0.0
            maxima.append(best)
            if best >= 0.9:
                worst.append((round(best, 3), q.name, hits[0].record.name))
            if hits:
                cal.append((best, False))
        searched = time.perf_counter() - t0
        n = len(targets)
        print(f"\n== {size:,} distractors + {n} targets (index {built:.0f} s, searches {searched:.0f} s) ==")
        print(f"correct at rank 1: {found}/{n} ({found / n:.1%}); of those with probability >= {threshold}: "
              f"{cleared}/{found} ({cleared / max(found, 1):.1%})")  # fmt: skip
        for style, (f, c) in by_style.items():
            print(f"   {style:24} rank 1: {f:>4}  >= {threshold}: {c:>4}")
        for p, name in sorted(low)[:8]:
            print(f"   below: {p:.4f}  {name}")
        na = len(maxima)
        high = sum(m >= 0.9 for m in maxima)
        print(f"absent ({na}): highest probability max {max(maxima):.3f}; >= {threshold}: "
              f"{sum(m >= threshold for m in maxima)}, >= 0.5: {sum(m >= 0.5 for m in maxima)}, "
              f">= 0.9: {high} ({high / na:.2%})")  # fmt: skip
        for p, name, found_name in sorted(worst, reverse=True)[:5]:
            print(f"   absent: {p:.3f}  {name} -> {found_name}")
        print("calibration (best candidate's match probability against 'it is the person'):")
        for line in calibration(cal):
            print("  " + line)


if __name__ == "__main__":
    main()
