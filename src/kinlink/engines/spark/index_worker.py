"""The index plan's executor side: each Python worker builds the in-process engine's `CandidateIndex` from
the snapshot's records once, keeps it, and searches the requests Spark hands it, batch by batch
(`mapInPandas`), with the in-process engine's own search (`Searcher`: shortlist, `Scorer.best`, ties by
row, that is by record id). No second search code: both engines run the same functions on the same index.

Requests are what Spark partitions; the registry is the broadcast side, read by every worker from the
snapshot on shared storage. Pure: the matching core, pyarrow and pandas only (no database, no PySpark).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kinlink.engines.spark.frames import records_from_columns, scored_to_json
from kinlink.matching.index import CandidateIndex
from kinlink.matching.model import Model, model_from_dict
from kinlink.matching.record import MatchRecord
from kinlink.matching.searcher import Searcher

_BATCH = 20_000  # records handed to the index build at a time (its own chunking takes it from there)


@dataclass(frozen=True)
class Built:
    index: CandidateIndex
    ids: np.ndarray  # the records' ids in index row order (ascending)


# (snapshot paths, model JSON, run token) -> the built index: one per Python worker, reused by every task
# of the run that worker takes (`spark.python.worker.reuse`). One at a time: a new run's replaces it.
_BUILT: dict[tuple[tuple[str, ...], str, int], Built] = {}


def registry_records(paths: Sequence[str]) -> tuple[np.ndarray, Iterator[MatchRecord]]:
    """The snapshot's records and sightings in id order, as the database streams them to the in-process
    index (`store.match_records.person_records`): the index's rows, and so its ties, are in id order."""
    import pyarrow as pa
    import pyarrow.dataset as pads

    tables = [pads.dataset(p, format="parquet").to_table() for p in paths]
    table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
    table = table.sort_by("id")
    ids = table.column("id").to_numpy()

    def rows() -> Iterator[MatchRecord]:
        for batch in table.to_batches(max_chunksize=_BATCH):
            yield from records_from_columns(batch.to_pydict())

    return ids, rows()


def built_for(paths: Sequence[str], model_json: str, token: int) -> Built:
    """This worker's index of the snapshot, built on its first batch and then reused."""
    import json

    key = (tuple(paths), model_json, token)
    built = _BUILT.get(key)
    if built is None:
        _BUILT.clear()  # an older run's index goes before this one is built
        model: Model = model_from_dict(json.loads(model_json))
        cpu = time.process_time()
        ids, records = registry_records(paths)
        built = _BUILT[key] = Built(CandidateIndex.build(model, records), ids)
        # One line a worker and run, no personal data: what sizing an executor needs (the build is paid
        # once per Python worker), in the executor's log.
        print(
            f"kinlink: index of {len(ids)} records built in {time.process_time() - cpu:.1f} CPU-s "
            f"(worker {os.getpid()})",
            file=sys.stderr,
            flush=True,
        )
    return built


def _columns(df: pd.DataFrame) -> dict[str, list[Any]]:
    return {c: df[c].tolist() for c in df.columns}


def search_requests(paths: Sequence[str], model_json: str, token: int, limit: int, floor: float) -> Any:
    """A mapInPandas function: each request's `limit` best candidates at or above floor, explained
    (executor.EXPLAIN_SCHEMA), found as `tracing.batch` finds them (`Searcher.search`)."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        searcher = Searcher(built_for(paths, model_json, token).index)
        for df in batches:
            queries = records_from_columns(_columns(df))
            out: dict[str, list[Any]] = {k: [] for k in ("rid", "id", "weight", "probability", "scored", "n")}
            for q, hits in zip(queries, searcher.search(queries, limit, min_probability=floor), strict=True):
                for n, hit in enumerate(hits, 1):
                    out["rid"].append(q.id)
                    out["id"].append(int(hit.record.id))  # type: ignore[arg-type]
                    out["weight"].append(hit.scored.weight)
                    out["probability"].append(hit.scored.probability)
                    out["scored"].append(scored_to_json(hit.scored))
                    out["n"].append(n)
            frame = pd.DataFrame(out).astype({"rid": "int64", "id": "int64", "n": "int32"})
            frame["scored"] = frame["scored"].astype(object)
            yield frame

    return run


def link_records(paths: Sequence[str], model_json: str, token: int, limit: int, floor: float) -> Any:
    """A mapInPandas function over record ids: each record's hits among the others, as
    `tracing.batch._link_record_chunk` finds them (`Searcher.search_rows`, `limit` hits with itself among
    them), each pair as (left, right, scored) with the lower id on the left and scored in that direction
    (the lower row as the query: rows are in id order), whichever side it was found from."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        built = built_for(paths, model_json, token)
        index, searcher = built.index, Searcher(built.index)
        for df in batches:
            rows = np.searchsorted(built.ids, df["id"].to_numpy()).tolist()
            out: dict[str, list[Any]] = {"left": [], "right": [], "scored": []}
            for row, hits in zip(rows, searcher.search_rows(rows, limit, floor), strict=True):
                for hit in hits:
                    if hit.row == row:
                        continue
                    scored = hit.scored if row < hit.row else index.score_rows(hit.row, row)
                    lo, hi = sorted((int(built.ids[row]), int(built.ids[hit.row])))
                    out["left"].append(lo)
                    out["right"].append(hi)
                    out["scored"].append(scored_to_json(scored))
            frame = pd.DataFrame(out).astype({"left": "int64", "right": "int64"})
            frame["scored"] = frame["scored"].astype(object)
            yield frame

    return run


SEARCH_SCHEMA = "rid long, id long, weight double, probability double, scored string, n int"
RECORD_PAIR_SCHEMA = "left long, right long, scored string"
