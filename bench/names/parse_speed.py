"""Micro-bench of `parse_name` per distinct full name (issue 19), beside a baseline tree.

    python -m bench.names.parse_speed [--n 20000] [--baseline /path/to/tree]

Names are the generated registry's records and requests (bench/matching/generate.py): Cyrillic registry
order, press order, transliterated, declined. "cold" parses each name once in a fresh process (its words
are new the first time they appear); "warm" clears only the whole-name cache and parses them again, so
every per-word cache is full and what is left is the per-name work. Each tree runs in its own subprocess
(PYTHONPATH=<tree>/src), twice, alternately, and the best of the two is printed (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import json, sys, time
from bench.matching.generate import Generator
n = int(sys.argv[1])
g = Generator(7)
people = [g.person(i + 1) for i in range(n)]
names = list(dict.fromkeys(
    [g.record(p).name for p in people[: n // 2]] + [g.request(p).name or "" for p in people[n // 2 :]]
))
from kinlink.names.parse import parse_name
parse_name("Тестов Тест Тестович")  # load dictionaries outside the timing
def run():
    t = time.process_time()
    out = [parse_name(s) for s in names]
    return (time.process_time() - t) / len(names) * 1e6, out
cold, out = run()
# New full names of words already seen (as a registry's are): word k of each name is taken from the name
# m*k places on among those with as many words, for four m.
by_len = {}
for s in names:
    by_len.setdefault(len(s.split()), []).append(s.split())
seen = set(names)
fresh = []
for m, ws in ((m, ws) for m in (7919, 104729, 1299709, 15485863) for ws in by_len.values()):
    for i in range(len(ws)):
        s = " ".join(ws[(i + m * k) % len(ws)][k] for k in range(len(ws[i])))
        if s not in seen:
            seen.add(s)
            fresh.append(s)
names = fresh
warm, _ = run()
print(json.dumps({"n": len(out), "n_warm": len(names), "cold": cold, "warm": warm,
                  "digest": hash(tuple(repr(p) for p in out) + tuple(repr(parse_name(s)) for s in names))}))
"""


def _run(tree: Path, n: int) -> dict:
    env = dict(
        os.environ,
        PYTHONPATH=f"{tree / 'src'}{os.pathsep}{Path(__file__).resolve().parents[2]}",
        PYTHONHASHSEED="0",
    )
    res = subprocess.run([sys.executable, "-c", _CHILD, str(n)], env=env, capture_output=True, text=True)
    if res.returncode:
        sys.exit(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--baseline", type=Path)
    a = ap.parse_args()
    here = Path(__file__).resolve().parents[2]
    trees = {"this": here} | ({"baseline": a.baseline} if a.baseline else {})
    best: dict[str, dict] = {}
    for _ in range(2):
        for label, tree in trees.items():
            r = _run(tree, a.n)
            b = best.setdefault(label, r)
            b["cold"], b["warm"] = min(b["cold"], r["cold"]), min(b["warm"], r["warm"])
    n, nw = best["this"]["n"], best["this"]["n_warm"]
    print(
        f"load average {os.getloadavg()[0]:.2f}; µs CPU per distinct name: cold ({n} names, new words), "
        f"warm ({nw} new names of words seen)"
    )
    print(f"{'tree':<10}{'cold':>10}{'warm':>10}")
    for label, r in best.items():
        print(f"{label:<10}{r['cold']:>10.1f}{r['warm']:>10.1f}")
    if a.baseline:
        t, b = best["this"], best["baseline"]
        print(f"{'speed-up':<10}{b['cold'] / t['cold']:>9.2f}x{b['warm'] / t['warm']:>9.2f}x")
        print("same results as the baseline:", "yes" if t["digest"] == b["digest"] else "NO")


if __name__ == "__main__":
    main()
