"""Which requests a web bench profile's latency tail is made of, from `run.py --requests-log PATH`.

    .venv/bin/python bench/web/tail.py PATH.realistic [--costs COSTS.json] [--over 95]

Reads the profile's requests (kind, wall-clock start, ms, ok, the name searched) and its workers' full
collections (PATH.realistic.gc, when the server's tree logs them), and prints, for the requests at or over
the profile's p95 (--over) and p99:

- their kinds (against each kind's share of all requests);
- how many overlapped a worker's full collection;
- the requests in flight when each started (every client's request that had started and not yet been
  answered: the server's queue as the clients see it), and of them searches, against the median request's;
- for searches, whether the slow ones are the costly names: with --costs (a JSON map of name to its search's
  CPU-ms one at a time, `where_time_goes.py --name-costs`), the mean cost of the slow searches' names against
  all searches', and the share of the slow ones among searches of the costliest tenth of names.

A tail of requests that arrived when many searches were in flight, of every kind and name alike, is queueing
(the offered load near what the cores do); a tail of the costly names is the matcher's; one inside
collections is the collector's.
"""

from __future__ import annotations

import argparse
import bisect
import json
import statistics
from pathlib import Path
from typing import Any


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def in_flight(requests: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
    """For each request, how many requests (and of them searches) had started before it and were not yet
    answered: a sweep over starts and ends."""
    starts = sorted(r["t"] for r in requests)
    ends = sorted(r["t"] + r["ms"] / 1000 for r in requests)
    s_starts = sorted(r["t"] for r in requests if r["kind"] == "search")
    s_ends = sorted(r["t"] + r["ms"] / 1000 for r in requests if r["kind"] == "search")
    every, searches = [], []
    for r in requests:
        every.append(bisect.bisect_left(starts, r["t"]) - bisect.bisect_right(ends, r["t"]))
        searches.append(bisect.bisect_left(s_starts, r["t"]) - bisect.bisect_right(s_ends, r["t"]))
    return every, searches


def collections_of(path: Path) -> list[tuple[float, float]]:
    if not path.exists():
        return []
    spans = []
    for line in path.read_text().splitlines():
        e = json.loads(line) if line.strip() else {}
        if "ms" in e and "t" in e:
            spans.append((e["t"], e["t"] + e["ms"] / 1000))
    return spans


def _collected_ms(request: dict[str, Any], spans: list[tuple[float, float]]) -> float:
    """How much of a request's time (ms) a full collection of some worker overlapped."""
    start, end = request["t"], request["t"] + request["ms"] / 1000
    return 1000 * sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log", type=Path)
    ap.add_argument("--costs", type=Path, help="JSON: each name's search CPU-ms one at a time")
    ap.add_argument("--over", type=float, default=95)
    args = ap.parse_args()
    requests = [json.loads(line) for line in args.log.read_text().splitlines() if line.strip()]
    requests = [r for r in requests if r["kind"] != "family sign-in"]
    every, searches = in_flight(requests)
    spans = collections_of(Path(f"{args.log}.gc"))
    costs = json.loads(args.costs.read_text()) if args.costs else None
    kinds = sorted({r["kind"] for r in requests})
    ms = [r["ms"] for r in requests]
    print(
        f"{args.log}: {len(requests)} requests; "
        f"p50 {pct(ms, 50):.1f}, p95 {pct(ms, 95):.1f}, p99 {pct(ms, 99):.1f} ms"
    )
    for kind in kinds:
        k = [r["ms"] for r in requests if r["kind"] == kind]
        print(f"  {kind}: {len(k)}, p50 {pct(k, 50):.1f}, p95 {pct(k, 95):.1f}, p99 {pct(k, 99):.1f} ms")
    print(
        f"  in flight at a request's start: median {statistics.median(every):.0f} "
        f"(searches {statistics.median(searches):.0f})"
    )
    if costs:
        named = [costs[r["q"]] for r in requests if r["kind"] == "search" and r["q"] in costs]
        print(
            f"  searches' names' cost one at a time: mean {statistics.mean(named):.1f} CPU-ms, "
            f"p90 {pct(named, 90):.1f}"
        )
    for p in (args.over, 99.0):
        line = pct(ms, p)
        slow = [i for i, r in enumerate(requests) if r["ms"] >= line]
        print(f"\nat or over p{p:g} ({line:.1f} ms): {len(slow)} requests")
        for kind in kinds:
            n = sum(1 for i in slow if requests[i]["kind"] == kind)
            share = sum(1 for r in requests if r["kind"] == kind) / len(requests)
            print(f"  {kind}: {n} ({n / len(slow):.0%}; {share:.0%} of all)")
        inside = [_collected_ms(requests[i], spans) for i in slow]
        print(
            f"  overlapping a worker's full collection: {sum(1 for ms in inside if ms)} "
            f"({len(spans)} collections logged); of their time inside one (either worker's): "
            f"{sum(inside) / sum(requests[i]['ms'] for i in slow):.0%}"
        )
        print(
            f"  in flight at their start: median {statistics.median(every[i] for i in slow):.0f} "
            f"(searches {statistics.median(searches[i] for i in slow):.0f}), "
            f"max {max(every[i] for i in slow)}"
        )
        if costs:
            slow_costs = [costs[requests[i]["q"]] for i in slow if requests[i]["q"] in costs]
            if slow_costs:
                top = pct(list(costs.values()), 90)
                dear = [r for r in requests if r["kind"] == "search" and costs.get(r["q"], 0) >= top]
                dear_slow = sum(1 for r in dear if r["ms"] >= line)
                print(
                    f"  their names' cost one at a time: mean {statistics.mean(slow_costs):.1f} CPU-ms; "
                    f"of the searches of the costliest tenth of names (>= {top:.1f}), {dear_slow} of "
                    f"{len(dear)} at or over the line"
                )
        slow_searches = [requests[i]["ms"] for i in slow if requests[i]["kind"] == "search"]
        if slow_searches:
            print(f"  their searches' median {statistics.median(slow_searches):.1f} ms")


if __name__ == "__main__":
    main()
