"""What runs on Spark's executors, batch by batch (`mapInPandas`): keys, pre-rank and scores, each by the
matching core's own function, so that the Spark engine cannot disagree with the in-process one.

Nothing here holds a connection or an index: the model crosses as its JSON and the name counts as a
broadcast, and each Python worker rebuilds its `Scorer` once and keeps it for the tasks that follow
(`spark.python.worker.reuse`, on by default). Pure: no database, no PySpark (a contract checks it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from kinlink.engines.spark.frames import records_from_columns, scored_to_json
from kinlink.matching import names_bridge as nb
from kinlink.matching.comparators import birth_range, sex_key
from kinlink.matching.keys import MISSING_DAY, key_record, prerank, query_keys
from kinlink.matching.model import Model, model_from_dict
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Prepared, Scorer, TermFrequencies

# A record's keys and what its pre-rank and term frequencies read (the index keeps the same per row).
RECORD_KEYS_SCHEMA = (
    "id long, keys array<string>, tf_family string, tf_given string, tf_patronymic string, "
    "lo int, hi int, sex_code byte"
)
QUERY_KEYS_SCHEMA = "rid long, key string"
PRERANK_SCHEMA = "rid long, id long, pre float"
SCORE_SCHEMA = "rid long, id long, weight double, probability double"
EXPLAIN_SCHEMA = "rid long, id long, weight double, probability double, scored string, n int"
LEVELS_SCHEMA = "pattern string"

_SEX_CODES = {"m": 1, "f": 2}
# (model JSON, population, name counts' broadcast id) -> Scorer: rebuilt once per Python worker.
_SCORERS: dict[tuple[str, int, int], Scorer] = {}


def _columns(df: pd.DataFrame) -> dict[str, list[Any]]:
    return {c: df[c].tolist() for c in df.columns}


def scorer_for(model_json: str, population: int, tf_id: int, tf: Any) -> Scorer:
    """The scorer of this model and these name counts, built on a worker's first batch and then reused.

    tf: a Spark Broadcast of TermFrequencies (read only here, once per worker) or the counts themselves."""
    key = (model_json, population, tf_id)
    scorer = _SCORERS.get(key)
    if scorer is None:
        counts = tf.value if hasattr(tf, "value") else tf
        scorer = Scorer(model_of(model_json), counts, population=population)
        _SCORERS.clear()  # one model per run: an old one is not kept
        _SCORERS[key] = scorer
    return scorer


def model_of(model_json: str) -> Model:
    return model_from_dict(json.loads(model_json))


def key_records(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Each record's blocking keys, name-frequency keys, birth range and sex, as `index_build` has them."""
    for df in batches:
        out: dict[str, list[Any]] = {k: [] for k in ("id", "keys", "tf_family", "tf_given", "tf_patronymic")}
        lo, hi, sex = [], [], []
        for r in records_from_columns(_columns(df)):
            keys, parsed = key_record(r)
            tf = nb.tf_keys_parsed(parsed[0]) if parsed else (None, None, None)
            br = birth_range(r.birth_date, r.age, r.age_as_of, r.birth_year_to) or (MISSING_DAY, MISSING_DAY)
            out["id"].append(r.id)
            out["keys"].append(keys)
            out["tf_family"].append(tf[0])
            out["tf_given"].append(tf[1])
            out["tf_patronymic"].append(tf[2])
            lo.append(br[0])
            hi.append(br[1])
            sex.append(_SEX_CODES.get(sex_key(r.sex) or "", 0))
        frame = pd.DataFrame(out)
        frame["lo"] = np.asarray(lo, dtype=np.int32)
        frame["hi"] = np.asarray(hi, dtype=np.int32)
        frame["sex_code"] = np.asarray(sex, dtype=np.int8)
        yield frame


def key_queries(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Each request's lookup keys (its record keys and typo keys), one row a key."""
    for df in batches:
        rids, keys = [], []
        for q in records_from_columns(_columns(df)):
            for k in sorted(query_keys(q)):
                rids.append(q.id)
                keys.append(k)
        yield pd.DataFrame({"rid": pd.Series(rids, dtype="int64"), "key": pd.Series(keys, dtype=object)})


def prerank_pairs(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """`keys.prerank` of each request against its found records (keys shared, birth gap, sex clash).

    Rows: rid, id, shared, lo, hi, sex_code and the request's q_ fields that the pre-rank reads."""
    for df in batches:
        parts = []
        for _rid, g in df.groupby("rid", sort=False):
            q = records_from_columns(_columns(g.iloc[:1]), "q_")[0]
            rank = prerank(
                q,
                g["shared"].to_numpy(dtype=np.float32),
                g["lo"].to_numpy(dtype=np.int64),
                g["hi"].to_numpy(dtype=np.int64),
                g["sex_code"].to_numpy(dtype=np.int8),
            )
            parts.append(pd.DataFrame({"rid": g["rid"].to_numpy(), "id": g["id"].to_numpy(), "pre": rank}))
        if parts:
            yield pd.concat(parts, ignore_index=True)


def _prepared_pairs(
    scorer: Scorer, df: pd.DataFrame
) -> Iterator[tuple[MatchRecord, MatchRecord, Prepared, Prepared]]:
    """Each pair's request and record, prepared once per batch (a request meets some 30 records)."""
    cols = _columns(df)
    queries = records_from_columns(cols, "q_")
    records = records_from_columns(cols, "r_")
    cache: dict[tuple[str, int], Prepared] = {}
    for q, r in zip(queries, records, strict=True):
        pq = cache.get(("q", q.id))  # type: ignore[arg-type]
        if pq is None:
            pq = cache[("q", q.id)] = scorer.prepare(q)  # type: ignore[index]
        pr = cache.get(("r", r.id))  # type: ignore[arg-type]
        if pr is None:
            pr = cache[("r", r.id)] = scorer.prepare(r)  # type: ignore[index]
        yield q, r, pq, pr


def score_pairs(model_json: str, population: int, tf_id: int, tf: Any, explain: bool) -> Any:
    """A mapInPandas function scoring each (request, record) pair with `Scorer.score`, the in-process
    engine's own scorer: weight and probability, and with explain the whole explained score as JSON."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        scorer = scorer_for(model_json, population, tf_id, tf)
        for df in batches:
            rows: dict[str, list[Any]] = {"rid": [], "id": [], "weight": [], "probability": []}
            texts = []
            for q, r, pq, pr in _prepared_pairs(scorer, df):
                s = scorer.score(pq, pr, explain=explain)
                rows["rid"].append(q.id)
                rows["id"].append(r.id)
                rows["weight"].append(s.weight)
                rows["probability"].append(s.probability)
                if explain:
                    texts.append(scored_to_json(s))
            frame = pd.DataFrame(rows).astype({"rid": "int64", "id": "int64"})
            if explain:
                frame["scored"] = pd.Series(texts, dtype=object)
                frame["n"] = df["n"].to_numpy(dtype=np.int32)  # the pair's place, passed through
            yield frame

    return run


def level_patterns(model_json: str, population: int, tf_id: int, tf: Any) -> Any:
    """A mapInPandas function giving each pair's comparison vector (`Scorer.levels`) as a pattern string
    ("2,0,-1,..."), for Spark to count before EM."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        scorer = scorer_for(model_json, population, tf_id, tf)
        for df in batches:
            patterns = [
                ",".join(map(str, scorer.levels(pq, pr))) for _q, _r, pq, pr in _prepared_pairs(scorer, df)
            ]
            yield pd.DataFrame({"pattern": pd.Series(patterns, dtype=object)})

    return run


def tf_from_rows(population: int, rows: list[tuple[str, str, int]]) -> TermFrequencies:
    """The name counts one aggregation pass found: (table, key, count) rows."""
    tf = TermFrequencies(population=population)
    for table, key, count in rows:
        if key:
            tf.counts[table][key] = tf.counts[table].get(key, 0) + int(count)
    return tf
