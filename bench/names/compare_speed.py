"""Pairs of parsed names compared a second (`kinlink.names.compare`), warm per-word caches, as a long-running
engine compares a query with its candidates: the matcher's budget is ~100 candidates in 20 ms, so at least
20,000 pairs a second. A figure for this machine, printed; the tests check what a comparison says, never how
fast (it was a timed test until issue 19's review).

    python -m bench.names.compare_speed [--rounds 20]
"""

from __future__ import annotations

import argparse
import time

from kinlink.names import compare, parse_name

GOAL = 20_000  # pairs a second

FAMILY = ["Иванов", "Петренко", "Шевчук", "Калашникова", "Пактышев", "Сидоренко", "Ковальчук", "Щербаков"]
GIVEN = ["Иван", "Олена", "Михаил", "Надія", "Леонид", "Сергій", "Ольга", "Taras"]
PATRONYMIC = ["Петрович", "Іванівна", "Андреевич", "Сергеевна", ""]
QUERIES = ("Leonid Paktyschew", "Nadiya Savchenko", "Михайло Калашніков", "O. Shevchuk")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    rounds = ap.parse_args().rounds
    cands = [parse_name(f"{f} {g} {p}".strip()) for f in FAMILY for g in GIVEN for p in PATRONYMIC]
    queries = [parse_name(q) for q in QUERIES]
    for q in queries:  # warm the per-word caches, as a long-running engine's are
        for c in cands:
            compare(q, c)
    n, cpu, t = 0, time.process_time(), time.perf_counter()
    for _ in range(rounds):
        for q in queries:
            for c in cands:
                compare(q, c)
                n += 1
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    rate = n / wall
    print(
        f"{n:,} pairs compared in {wall:.3f} s ({cpu:.3f} CPU-s): {rate:,.0f} pairs/s "
        f"(goal >= {GOAL:,}: {'MET' if rate >= GOAL else 'NOT MET'})"
    )


if __name__ == "__main__":
    main()
