"""The Spark engine's part of bench/matching: the same generated data, linked on Spark in local mode.

Time is the whole run from the Parquet snapshot (the registry's keys, name counts, join, pre-rank, scoring,
windows); peak memory is the largest sum of the RSS of the bench process, its JVM and Spark's Python
workers, sampled every 0.2 s. Pairs scored (the shortlists) give the per-pair cost the cluster estimate in
docs/spark.md starts from.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path


def _tree(root: int) -> list[int]:
    """A process and all its descendants (the JVM, Spark's Python daemon and workers), from /proc."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return out


def _tree_rss_mib(root: int) -> float:
    total = 0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def tree_cpu_s(root: int) -> float:
    """CPU seconds used by the process tree (its waited-for children included): on a machine shared with
    other jobs, the figure the cost per pair is worked out from, since the wall clock measures the load."""
    ticks = 0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
        except OSError:
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


class _Every:
    """Runs `tick` every `every` seconds in a thread, for as long as the `with` block lasts."""

    every = 0.2

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def tick(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.tick()

    def __enter__(self):  # type: ignore[no-untyped-def]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class PeakSampler(_Every):
    def __init__(self) -> None:
        super().__init__()
        self.peak = 0.0

    def tick(self) -> None:
        self.peak = max(self.peak, _tree_rss_mib(os.getpid()))


def found_per_request(reg, requests, n_requests: int) -> dict:  # type: ignore[no-untyped-def]
    """How many records the join on keys finds per request (distinct pairs, keys chosen as the index
    chooses them): the pairs a shortlist is cut from. Requests that find nothing count as 0."""
    import numpy as np
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from kinlink.engines.spark import executor as ex
    from kinlink.engines.spark import linkage
    from kinlink.matching.keys import MAX_POSTING

    posted, sizes = linkage.postings(reg)
    qkeys = requests.mapInPandas(ex.key_queries, ex.QUERY_KEYS_SCHEMA).select("rid", "key").join(sizes, "key")
    by_request = Window.partitionBy("rid")
    chosen = (
        qkeys.withColumn("selective", F.max((F.col("size") <= MAX_POSTING).cast("int")).over(by_request))
        .withColumn("n", F.row_number().over(by_request.orderBy("size", "key")))
        .where((F.col("size") <= MAX_POSTING) | ((F.col("selective") == 0) & (F.col("n") == 1)))
        .select("rid", "key")
    )
    counts = chosen.join(posted, "key").select("rid", "id").distinct().groupBy("rid").count().collect()
    found = np.zeros(n_requests, dtype=np.int64)
    found[: len(counts)] = sorted(int(r["count"]) for r in counts)
    return {
        "total": int(found.sum()),
        "mean": float(found.mean()),
        "p50": float(np.percentile(found, 50)),
        "p90": float(np.percentile(found, 90)),
        "p99": float(np.percentile(found, 99)),
        "max": int(found.max()),
        "over_30": int((found > 30).sum()),
    }


class ProgressLog(_Every):
    """Every `every` seconds, to stderr (the bench lets the Spark child's stderr through, so a long run's
    log shows how far it got): Spark's tasks done, and the CPU and RSS of the process tree so far."""

    def __init__(self, spark, every: float = 60.0) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.spark, self.every = spark, every
        self._tracker = spark.sparkContext.statusTracker()
        self._t0 = time.perf_counter()
        self._cpu0 = tree_cpu_s(os.getpid())

    def tick(self) -> None:
        import sys

        done = total = 0
        for sid in self._tracker.getActiveStageIds():
            info = self._tracker.getStageInfo(sid)
            if info is not None:
                done += info.numCompletedTasks
                total += info.numTasks
        print(
            f"[spark progress] {time.perf_counter() - self._t0:.0f}s: "
            f"active stages' tasks {done}/{total}; "
            f"CPU {tree_cpu_s(os.getpid()) - self._cpu0:.0f}s; RSS {_tree_rss_mib(os.getpid()):.0f} MiB; "
            f"load {os.getloadavg()[0]:.2f}",
            file=sys.stderr,
            flush=True,
        )


def _write_snapshot(snap: Path, n_records: int, n_requests: int, requests: list) -> None:  # type: ignore[type-arg]
    """The snapshot as `kinlink match --engine spark` writes it: records/, sightings/ (none here),
    requests/, Parquet part files."""
    import pyarrow.parquet as pq
    from generate import stream_records

    from kinlink.engines.spark.frames import records_table

    for part in ("records", "sightings", "requests"):
        (snap / part).mkdir()
    batch, n = [], 0
    for r in stream_records(n_records, n_requests):
        batch.append(r)
        if len(batch) == 50_000:
            pq.write_table(records_table(batch), snap / "records" / f"part-{n:05d}.parquet")
            batch, n = [], n + 1
    if batch:
        pq.write_table(records_table(batch), snap / "records" / f"part-{n:05d}.parquet")
    pq.write_table(records_table([]), snap / "sightings" / "part-00000.parquet")
    for i in range(0, len(requests), 50_000):
        part = records_table(requests[i : i + 50_000])
        pq.write_table(part, snap / "requests" / f"part-{i // 50_000:05d}.parquet")


def run_spark(
    n_records: int,
    n_requests: int,
    master: str,
    partitions: int,
    metrics,
    threshold: float,
    plan: str = "index",
) -> dict:  # type: ignore[no-untyped-def]
    import pyarrow.dataset as pads
    from generate import queries

    from kinlink.engines.spark import indexed, linkage
    from kinlink.engines.spark.session import spark_session
    from kinlink.matching.model import load_model

    qs = queries(n_records, n_requests)
    requests = [replace(q, id=i + 1) for i, q in enumerate(qs.requests)]
    model = load_model()
    out: dict = {"master": master, "partitions": partitions, "plan": plan}
    with tempfile.TemporaryDirectory(prefix="kinlink-bench-spark-") as tmp:
        snap = Path(tmp)
        t = time.perf_counter()
        _write_snapshot(snap, n_records, n_requests, requests)
        out["snapshot_s"] = time.perf_counter() - t
        load_before = os.getloadavg()
        with PeakSampler() as peak:
            t0 = time.perf_counter()
            with spark_session(master, shuffle_partitions=partitions, driver_memory="2g") as spark:
                out["session_s"] = time.perf_counter() - t0
                cpu0 = tree_cpu_s(os.getpid())
                reqs = spark.read.parquet(str(snap / "requests"))
                if plan == "index":
                    # The registry is indexed inside the Python workers, on their first batch: its cost
                    # is in link_s and cpu_s (once per worker), not apart.
                    t = time.perf_counter()
                    out["registry_s"] = 0.0
                    cpu_registry = cpu0
                    with ProgressLog(spark):
                        found = indexed.link_requests(reqs, indexed.registry_paths(snap), model, partitions)
                        found.write.parquet(str(snap / "candidates"))
                    best = pads.dataset(str(snap / "candidates")).to_table(
                        columns=["rid", "id", "probability"], filter=pads.field("n") == 1
                    )
                    rows = best.to_pylist()
                else:
                    t = time.perf_counter()
                    reg = linkage.registry(spark, spark.read.parquet(str(snap / "records")))
                    out["registry_s"] = time.perf_counter() - t
                    cpu_registry = tree_cpu_s(os.getpid())
                    t = time.perf_counter()
                    found = linkage.link_requests(reg, reqs, model)
                    rows = found.where("n = 1").select("rid", "id", "probability").collect()
                out["link_s"] = time.perf_counter() - t
                out["total_s"] = time.perf_counter() - t0
                out["cpu_s"] = tree_cpu_s(os.getpid()) - cpu0  # keys, counts, join, scoring: all of it
                out["registry_cpu_s"] = cpu_registry - cpu0
                out["peak_rss_mib"] = peak.peak
                if plan == "join":
                    # Counted apart, off the clock: the pairs the run scored (each request's shortlist), and
                    # those the join on keys finds before the pre-rank keeps 30 of them. (The index plan
                    # works per request; its found pairs are `spark_pairs.py`'s count, the index's own.)
                    out["pairs_scored"] = linkage.shortlist(reg, reqs).count()
                    out["found"] = found_per_request(reg, reqs, n_requests)
                    # Where the pre-rank runs decides what crosses from the JVM to Python: every pair
                    # found, or (pre-ranked in the JVM) only each request's shortlist.
                    in_jvm = getattr(linkage, "PRERANK_IN_JVM", False)
                    out["prerank_in_jvm"] = in_jvm
                    out["pairs_to_python"] = out["pairs_scored"] + (0 if in_jvm else out["found"]["total"])
        out["load"] = [load_before, os.getloadavg()]  # the shared machine's 1/5/15-min load, before and after
    top = {r["rid"]: r["id"] for r in rows if r["probability"] >= threshold}
    out["batch"] = metrics([top.get(q.id) for q in requests], qs.truth)
    return out
