"""Held-out name queries by class (oblique cases, double-barrelled family names, Belarusian and other
regular correspondences, ambiguous short forms), scored among distractors.

    .venv/bin/python bench/names/heldout.py [--distractors N] [--cases FILE] [--show]

`heldout_cases.jsonl` was written from the grammar of the classes (not from the examples of issue 17)
before any rule for them changed, and scored once on the code it was written against; it is not tuned
on. Each line: a query, the record it should find (a registry name, with `expected_alt`: the record's
other names, such as a maiden name) and near-miss distractor records. The registry is every line's
records plus N persons drawn as in `run.py` (same name pools), indexed by `kinlink.names`' blocking keys.

A query counts as found at rank 1 only when its record scores strictly above every other candidate
(ties count against), and as "clears" when that score reaches MATCH_THRESHOLD.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

from faker import Faker

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import load_pools, make_person  # noqa: E402

from kinlink.names import MATCH_THRESHOLD, BlockingIndex, compare, parse_name  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=Path, default=HERE / "heldout_cases.jsonl")
    ap.add_argument("--distractors", type=int, default=20_000, help="generated registry persons")
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--show", action="store_true", help="print every query's outcome")
    args = ap.parse_args()
    cases = [json.loads(line) for line in args.cases.read_text("utf-8").splitlines() if line.strip()]

    records: dict[str, tuple[str, ...]] = {}  # record key (its first name) -> all its names
    for c in cases:
        records.setdefault(c["expected"], (c["expected"], *c.get("expected_alt", ())))
        for d in c["distractors"]:
            records.setdefault(d, (d,))
    rng = random.Random(args.seed)
    Faker.seed(args.seed)
    pools = load_pools(True, rng)
    for i in range(args.distractors):
        text = make_person(i, pools, rng).registry_text
        records.setdefault(text, (text,))
    keys = list(records)
    parsed = {k: tuple(parse_name(n) for n in records[k]) for k in keys}
    index = BlockingIndex(max_posting=2000)
    for rid, k in enumerate(keys):
        for pn in parsed[k]:
            index.add(rid, pn)

    by_class: dict[str, list[dict[str, object]]] = defaultdict(list)
    for c in cases:
        qp = parse_name(c["query"])
        cands = index.candidates(qp)
        scores = {rid: max(compare(qp, pn).score for pn in parsed[keys[rid]]) for rid in cands}
        true = keys.index(c["expected"])
        ts = scores.get(true)
        others = [s for rid, s in scores.items() if rid != true]
        best_other = max(others, default=0.0)
        rank = (1 + sum(s >= ts for s in others)) if ts is not None else None
        top_rid = max(scores, key=lambda r: scores[r], default=None)
        row = {
            "query": c["query"],
            "expected": c["expected"],
            "found": ts is not None,
            "rank": rank,
            "score": ts,
            "best_other": best_other,
            "top": keys[top_rid] if top_rid is not None else "",
        }
        by_class[c["class"]].append(row)
        by_class["(all)"].append(row)

    print(f"registry: {len(keys):,} records ({args.distractors:,} generated); {len(cases)} held-out queries")
    head = f"{'class':12} {'n':>3} {'blocked':>8} {'rank 1':>7} {'top 5':>6} {'clears':>7} {'mean score':>10}"
    print(head)
    print("-" * len(head))
    for cls in sorted(by_class, key=lambda k: (k == "(all)", k)):
        rows = by_class[cls]
        n = len(rows)
        found = sum(bool(r["found"]) for r in rows)
        r1 = sum(r["rank"] == 1 for r in rows)
        r5 = sum(r["rank"] is not None and r["rank"] <= 5 for r in rows)  # type: ignore[operator]
        clears = sum(r["rank"] == 1 and r["score"] >= MATCH_THRESHOLD for r in rows)  # type: ignore[operator]
        mean = sum(float(r["score"] or 0.0) for r in rows) / n  # type: ignore[arg-type]
        print(f"{cls:12} {n:>3} {found:>8} {r1:>7} {r5:>6} {clears:>7} {mean:>10.3f}")
    if args.show:
        print()
        for cls in sorted(by_class):
            if cls == "(all)":
                continue
            for r in by_class[cls]:
                mark = "ok " if r["rank"] == 1 else "MISS"
                sc = f"{r['score']:.3f}" if r["score"] is not None else "  -  "
                print(f"{mark} [{cls}] {r['query']!r:36} -> {r['expected']!r:38} score {sc} "
                      f"rank {r['rank']} best other {r['best_other']:.3f} top {r['top']!r}")  # fmt: skip


if __name__ == "__main__":
    main()
