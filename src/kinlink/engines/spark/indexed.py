"""The index plan (the default): requests are partitioned, the registry is the broadcast side.

Every Python worker builds the in-process engine's `CandidateIndex` from the snapshot's records once
(`index_worker`, on shared storage) and searches its partitions of requests with the in-process engine's
own search; nothing is joined pair by pair, and nothing is shuffled but the requests themselves. Each
worker holds a whole index (about 1 GiB per million records): where the registry outgrows one worker's
memory, the key-join plan (`linkage`, `--plan join`) splits the registry as well (docs/spark.md).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from kinlink.engines.spark import index_worker as iw
from kinlink.engines.spark.linkage import LIMIT, RECORD_LIMIT, model_json
from kinlink.matching.model import Model


def registry_paths(directory: Path) -> list[str]:
    """Where the workers read the registry: the snapshot's records and sightings (absolute, so that a
    worker started elsewhere finds them)."""
    return [str((directory / part).resolve()) for part in ("records", "sightings")]


def link_requests(
    requests: Any,
    paths: list[str],
    model: Model,
    partitions: int,
    limit: int = LIMIT,
    token: int | None = None,
) -> Any:
    """(rid, id, weight, probability, scored, n): each request's best candidates, best first (n from 1),
    at or above the model's candidate threshold, as the in-process engine finds them; each request's rows
    consecutive within its partition (what the write-back reads)."""
    run = iw.search_requests(
        paths, model_json(model), token or secrets.randbits(62), limit, model.candidate_threshold
    )
    return requests.repartition(partitions, "id").mapInPandas(run, iw.SEARCH_SCHEMA)


def record_pairs(
    records: Any, paths: list[str], model: Model, partitions: int, token: int | None = None
) -> Any:
    """(left, right, scored, seen): the records linked to each other as the in-process engine's --dedup
    links them, each pair once, scored with the lower id as the query; seen: from how many of its two
    records it was found (the write-back stores it that many times, as the in-process engine does)."""
    from pyspark.sql import functions as F

    run = iw.link_records(
        paths, model_json(model), token or secrets.randbits(62), RECORD_LIMIT, model.candidate_threshold
    )
    found = records.select("id").repartition(partitions, "id").mapInPandas(run, iw.RECORD_PAIR_SCHEMA)
    # Both copies of a pair found from its two sides were scored the same way (lower id as the query).
    return found.groupBy("left", "right").agg(F.min("scored").alias("scored"), F.count("*").alias("seen"))
