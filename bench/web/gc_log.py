"""The web bench's reading of the server workers' log of their full collections (`KINLINK_GC_LOG`, which
`kinlink.server.worker_gc` honours): which fell in a profile's measured window, and how long each took.
A worker's full collection stops its event loop, so a latency tail is read against these."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def worker_collections(gc_log: Path, window: tuple[float, float]) -> dict[int, list[dict[str, Any]]] | None:
    """Each server worker's full collections that overlapped the window, by process id, from the log its
    workers append to (none logged a start: the server's tree does not log them)."""
    if not gc_log.exists():
        return None
    lines = [json.loads(line) for line in gc_log.read_text().splitlines() if line.strip()]
    workers: dict[int, list[dict[str, Any]]] = {e["pid"]: [] for e in lines if e.get("event") == "start"}
    if not workers:
        return None
    for e in lines:
        if "ms" in e and e["t"] <= window[1] and e["t"] + e["ms"] / 1000 >= window[0]:
            workers.setdefault(e["pid"], []).append(e)
    return workers


def describe_collections(collections: dict[int, list[dict[str, Any]]] | None, listed: int = 6) -> str:
    """A worker's full collection stops its event loop, and every request queued on it, for its length
    (wall ms; CPU ms is the collection's own work, the rest other processes' share of the cores): a latency
    tail is read against these. Each is listed, or with more than `listed`, the longest and the total."""
    if collections is None:
        return "full collections in the window: not reported (this server's tree does not log them)"

    def one(e: dict[str, Any]) -> str:
        sweep = ", a sweep" if e["sweep"] else ""
        return f"{e['ms']:.0f} ms ({e['cpu_ms']:.0f} CPU, freed {e['collected']:,}{sweep})"

    parts = []
    for i, (_pid, made) in enumerate(sorted(collections.items()), 1):
        if len(made) <= listed:
            each = ", ".join(one(e) for e in made)
        else:
            longest = max(made, key=lambda e: e["ms"])
            total = sum(e["ms"] for e in made), sum(e["cpu_ms"] for e in made)
            each = f"longest {one(longest)}, in all {total[0]:.0f} ms ({total[1]:.0f} CPU)"
        parts.append(f"worker {i}: {len(made)}{': ' + each if made else ''}")
    return "full collections in the window: " + "; ".join(parts)
