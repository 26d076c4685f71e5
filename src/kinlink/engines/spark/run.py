"""`kinlink match --engine spark`: snapshot the registry, link on Spark, write the candidates back.

The write-back goes partition file by partition file, a transaction per `chunk` requests, each written
in bulk by the domain's `tracing.batch_store` (the rows and audit entries the in-process engine's own write
stores, in a few statements a chunk, issue 23): candidates are upserted by their pair, so a rerun adds
nothing, and a run that stops half-way loses only the transaction in flight (a rerun completes it). The
driver writes, not the executors: docs/spark.md says why. With dedup, records are linked to each other
the same way (`tracing.batch`'s own write), and the clusters worked out again afterwards, as the
in-process engine does.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import Engine

from kinlink.engines.spark import indexed, linkage
from kinlink.engines.spark.frames import scored_from_json
from kinlink.engines.spark.session import spark_session
from kinlink.engines.spark.snapshot import request_ids, write_snapshot
from kinlink.matching.model import Model
from kinlink.matching.score_values import Scored
from kinlink.tracing.batch import key_records, recluster_all, refresh_stale_keys
from kinlink.tracing.batch_store import write_record_candidates, write_request_candidates_bulk
from kinlink.tracing.continuous import MatchSummary

Progress = Callable[[str, int, int], None]


def read_registry(spark, directory: Path):  # type: ignore[no-untyped-def]
    """Records and sightings (both are matched against requests) as one DataFrame."""
    return spark.read.parquet(str(directory / "records"), str(directory / "sightings"))


@dataclass(frozen=True)
class SparkOptions:
    master: str = "local[2]"
    shuffle_partitions: int | None = None
    driver_memory: str = "1g"
    # "index": each worker holds the registry's index and searches partitions of requests (the default);
    # "join": the registry split too, joined on keys pair by pair (docs/spark.md: when each fits).
    plan: str = "index"


def match(
    engine: Engine,
    actor: str,
    model: Model,
    *,
    options: SparkOptions | None = None,
    snapshot: Path | None = None,
    chunk: int = 500,
    progress: Progress | None = None,
    spark: Any = None,
    dedup: bool = False,
) -> MatchSummary:
    """Every open request against every record and sighting, on Spark; candidates stored as the in-process
        engine stores them. snapshot: where the Parquet snapshot and the found candidates go (on a cluster,
        storage every executor reads); default a temporary directory, removed afterwards. spark: a session to
        use (and leave running) rather than one started and stopped for this run. dedup: records linked to
    each other too (and reclustered)."""
    refresh_stale_keys(engine, progress)
    key_records(engine, chunk=chunk)  # keys for continuous matching, as `match_all` writes them
    options = options or SparkOptions()
    if snapshot is None:
        with tempfile.TemporaryDirectory(prefix="kinlink-spark-") as tmp:
            return _match(engine, actor, model, Path(tmp), options, chunk, progress, spark, dedup)
    return _match(engine, actor, model, snapshot, options, chunk, progress, spark, dedup)


def _match(
    engine: Engine,
    actor: str,
    model: Model,
    directory: Path,
    options: SparkOptions,
    chunk: int,
    progress: Progress | None,
    spark: Any,
    dedup: bool,
) -> MatchSummary:
    exported = write_snapshot(engine, actor, directory)
    if progress:
        progress("snapshot", 1, 1)
    summary = MatchSummary()
    registry = exported.records + exported.sightings
    requests = bool(exported.requests and registry)
    records = dedup and registry > 1
    if requests or records:
        if spark is not None:
            link(spark, directory, model, requests, records, options.plan)
        else:
            with spark_session(
                options.master,
                shuffle_partitions=options.shuffle_partitions,
                driver_memory=options.driver_memory,
            ) as session:
                link(session, directory, model, requests, records, options.plan)
    write_back(
        engine, actor, model, directory / "candidates", request_ids(directory), chunk, summary, progress
    )
    if dedup:
        write_back_records(engine, actor, model, directory / "record_candidates", chunk, summary, progress)
        recluster_all(engine, actor, model)
    return summary


PLANS = ("index", "join")


def link(
    spark: Any,
    directory: Path,
    model: Model,
    requests: bool = True,
    records: bool = False,
    plan: str = "index",
) -> None:
    """Spark's part: the snapshot's requests linked, their candidates written to <directory>/candidates,
    a Parquet file per partition of requests, each request's rows together and in place order; with
    records, the records linked to each other, their pairs written to <directory>/record_candidates.
    plan: "index" (each worker searches its requests in the registry's index) or "join" (the registry
    joined to the requests on keys)."""
    if plan not in PLANS:
        raise ValueError(f"plan: '{plan}' is not a plan; write index or join.")
    if plan == "index":
        _link_indexed(spark, directory, model, requests, records)
        return
    reg = linkage.registry(spark, read_registry(spark, directory))
    parts = int(spark.conf.get("spark.sql.shuffle.partitions"))
    if requests:
        found = linkage.link_requests(reg, spark.read.parquet(str(directory / "requests")), model)
        (
            found.repartition(parts, "rid")
            .sortWithinPartitions("rid", "n")
            .write.mode("overwrite")
            .parquet(str(directory / "candidates"))
        )
    if records:
        linkage.record_hits(reg, model).write.mode("overwrite").parquet(str(directory / "record_hits"))
        hits = spark.read.parquet(str(directory / "record_hits"))
        pairs = linkage.record_pairs(reg, hits, model)
        pairs.write.mode("overwrite").parquet(str(directory / "record_candidates"))
    reg.keyed.unpersist()


def _link_indexed(spark: Any, directory: Path, model: Model, requests: bool, records: bool) -> None:
    paths = indexed.registry_paths(directory)
    parts = int(spark.conf.get("spark.sql.shuffle.partitions"))
    token = secrets.randbits(62)  # one run: the requests and the records share each worker's index
    if requests:
        found = indexed.link_requests(
            spark.read.parquet(str(directory / "requests")), paths, model, parts, token=token
        )
        found.write.mode("overwrite").parquet(str(directory / "candidates"))
    if records:
        pairs = indexed.record_pairs(read_registry(spark, directory), paths, model, parts, token=token)
        pairs.write.mode("overwrite").parquet(str(directory / "record_candidates"))


def write_back(
    engine: Engine,
    actor: str,
    model: Model,
    found: Path,
    requests: list[int],
    chunk: int,
    summary: MatchSummary,
    progress: Progress | None = None,
) -> None:
    """The found candidates stored, a partition file at a time, `chunk` requests a transaction written
    in bulk (`tracing.batch_store`); then the open requests nothing was found for (their state and keys
    are refreshed all the same). Stored by their pairs: a rerun adds nothing, and one after a crash
    completes what the transaction in flight did not."""
    left = set(requests)
    done = 0
    files = sorted(found.glob("*.parquet")) if found.exists() else []
    for path in files:
        table = pq.read_table(path, columns=["rid", "id", "n", "scored"]).to_pylist()
        hits: dict[int, list[tuple[int, Scored]]] = {}
        for rid, rows in groupby(table, key=lambda row: row["rid"]):
            ordered = sorted(rows, key=lambda row: row["n"])
            hits[rid] = [(row["id"], scored_from_json(row["scored"])) for row in ordered]
            if len(hits) >= chunk:
                write_request_candidates_bulk(engine, actor, model, hits, summary)
                left -= hits.keys()
                done += len(hits)
                hits = {}
        if hits:
            write_request_candidates_bulk(engine, actor, model, hits, summary)
            left -= hits.keys()
            done += len(hits)
        if progress:
            progress("requests", done, len(requests))
    rest = sorted(left)
    for i in range(0, len(rest), chunk):
        write_request_candidates_bulk(engine, actor, model, {rid: [] for rid in rest[i : i + chunk]}, summary)
    if progress:
        progress("requests", len(requests), len(requests))


def write_back_records(
    engine: Engine,
    actor: str,
    model: Model,
    found: Path,
    chunk: int,
    summary: MatchSummary,
    progress: Progress | None = None,
) -> None:
    """The record pairs stored, a partition file at a time and `chunk` pairs a transaction.

    A pair found from both its sides is stored twice, as the in-process engine stores it at each sighting:
    the second store finds it unchanged, so both engines' summaries count the same (the second store only
    reads; a record erased meanwhile is skipped at both, as there)."""
    files = sorted(found.glob("*.parquet")) if found.exists() else []
    for n, path in enumerate(files, 1):
        rows = pq.read_table(path, columns=["left", "right", "scored", "seen"]).to_pylist()
        for i in range(0, len(rows), chunk):
            pairs = []
            for r in rows[i : i + chunk]:
                scored = scored_from_json(r["scored"])
                pairs += [(r["left"], r["right"], scored)] * r["seen"]
            write_record_candidates(engine, actor, model, pairs, summary)
        if progress:
            progress("records", n, len(files))
