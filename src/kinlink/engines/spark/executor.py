"""What runs on Spark's executors, batch by batch (`mapInPandas`): keys and scores, each by the matching
core's own function, so that the Spark engine cannot disagree with the in-process one (the pre-rank between
them runs in the JVM: `linkage.prerank`).

Nothing here holds a connection or an index: the model crosses as its JSON and the name counts as a
broadcast, and each Python worker rebuilds its `Scorer` once and keeps it for the tasks that follow
(`spark.python.worker.reuse`, on by default). Pure: no database, no PySpark (a contract checks it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from itertools import groupby
from typing import Any

import numpy as np
import pandas as pd

from kinlink.engines.spark.frames import records_from_columns, scored_to_json
from kinlink.matching import names_bridge as nb
from kinlink.matching.comparators import birth_range, sex_key
from kinlink.matching.keys import MISSING_DAY, key_record, query_keys
from kinlink.matching.model import Model, model_from_dict
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Scorer
from kinlink.matching.score_values import Prepared, TermFrequencies

# A record's keys and what its pre-rank and term frequencies read (the index keeps the same per row).
RECORD_KEYS_SCHEMA = (
    "id long, keys array<string>, tf_family string, tf_given string, tf_patronymic string, "
    "lo int, hi int, sex_code byte"
)
# A request's lookup key, and what the pre-rank reads of the request beside it (its birth range, MISSING_DAY
# where it has none, and the sex code a record must not clash with, 0 for none): the pre-rank itself runs
# in the JVM (`linkage.prerank`), so that only each request's shortlist crosses to Python.
QUERY_KEYS_SCHEMA = "rid long, key string, q_lo int, q_hi int, q_sex byte"
SCORE_SCHEMA = "rid long, id long, weight double, probability double"
EXPLAIN_SCHEMA = "rid long, id long, weight double, probability double, scored string, n int"
PAIR_SCHEMA = "rid long, id long, scored string"
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
    """Each request's lookup keys (its record keys and typo keys), one row a key, with the request's birth
    range and sex code as `keys.prerank` reads them."""
    for df in batches:
        rids, keys, lo, hi, sex = [], [], [], [], []
        for q in records_from_columns(_columns(df)):
            br = birth_range(q.birth_date, q.age, q.age_as_of, q.birth_year_to) or (MISSING_DAY, MISSING_DAY)
            code = _SEX_CODES.get(sex_key(q.sex) or "", 0)
            for k in sorted(query_keys(q)):
                rids.append(q.id)
                keys.append(k)
                lo.append(br[0])
                hi.append(br[1])
                sex.append(code)
        yield pd.DataFrame(
            {
                "rid": pd.Series(rids, dtype="int64"),
                "key": pd.Series(keys, dtype=object),
                "q_lo": pd.Series(lo, dtype="int32"),
                "q_hi": pd.Series(hi, dtype="int32"),
                "q_sex": pd.Series(sex, dtype="int8"),
            }
        )


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


def _lazy_record(scorer: Scorer, r: MatchRecord, tf_keys: tuple[str | None, ...]) -> Prepared:
    """A candidate as the index hands it to `Scorer.best`: its values now, its names parsed only if it
    passes the bound (most do not), its name-frequency keys from the registry's keying pass."""
    return Prepared(r, None, scorer.values(r), tf_keys, None, partial(_parse_names, r))  # type: ignore[arg-type]


def _parse_names(r: MatchRecord) -> tuple[Any, ...]:
    return tuple(nb.parse(n) for n in r.all_names if n and n.strip())  # as `Scorer.prepare`


def _best_of_frame(scorer: Scorer, df: pd.DataFrame, limit: int, floor: float) -> pd.DataFrame:
    """Each request's best candidates by `Scorer.best` (the in-process search's own pruning): rows are a
    request's shortlist, consecutive, best pre-rank first."""
    cols = _columns(df)
    queries = records_from_columns(cols, "q_")
    records = records_from_columns(cols, "r_")
    tfs = list(zip(cols["r_tf_family"], cols["r_tf_given"], cols["r_tf_patronymic"], strict=True))
    cache: dict[int, Prepared] = {}  # a record met by several requests of the batch is prepared once
    out: dict[str, list[Any]] = {k: [] for k in ("rid", "id", "weight", "probability", "scored", "n")}
    for rid, group in groupby(range(len(queries)), key=cols["rid"].__getitem__):
        at = list(group)
        ids = [records[i].id for i in at]
        cands = []
        for i in at:
            pr = cache.get(records[i].id)
            if pr is None:
                pr = cache[records[i].id] = _lazy_record(scorer, records[i], tuple(_none(k) for k in tfs[i]))
            cands.append(pr)
        best = scorer.best(scorer.prepare(queries[at[0]]), cands, limit, floor, tie=ids.__getitem__)
        for n, (pos, s) in enumerate(best, 1):
            out["rid"].append(rid)
            out["id"].append(ids[pos])
            out["weight"].append(s.weight)
            out["probability"].append(s.probability)
            out["scored"].append(scored_to_json(s))
            out["n"].append(n)
    frame = pd.DataFrame(out).astype({"rid": "int64", "id": "int64", "n": "int32"})
    frame["scored"] = frame["scored"].astype(object)
    return frame


def _none(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and v != v) else v


def best_candidates(
    model_json: str, population: int, tf_id: int, tf: Any, limit: int, min_probability: float
) -> Any:
    """A mapInPandas function giving each request's `limit` best candidates at or above min_probability,
    explained (EXPLAIN_SCHEMA), by `Scorer.best` as the in-process search does: a candidate whose bound
    (names at their best) cannot reach the best found so far is never compared by name.

    Its input is sorted by request (each request's rows consecutive, best pre-rank first); a request
    whose rows straddle two Arrow batches is carried over to the next."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        scorer = scorer_for(model_json, population, tf_id, tf)
        carry: pd.DataFrame | None = None
        for df in batches:
            if carry is not None and len(carry):
                df = pd.concat([carry, df], ignore_index=True)
            if not len(df):
                continue
            rids = df["rid"].to_numpy()
            cut = int(np.flatnonzero(rids == rids[-1])[0])  # the last request may go on in the next batch
            carry = df.iloc[cut:]
            if cut:
                yield _best_of_frame(scorer, df.iloc[:cut], limit, min_probability)
        if carry is not None and len(carry):
            yield _best_of_frame(scorer, carry, limit, min_probability)

    return run


def explain_pairs(model_json: str, population: int, tf_id: int, tf: Any) -> Any:
    """A mapInPandas function giving each (request, record) pair's explained score (`Scorer.score`) as
    JSON: the record pairs found from the other side, scored again in the one direction both engines use."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        scorer = scorer_for(model_json, population, tf_id, tf)
        for df in batches:
            rows: dict[str, list[Any]] = {"rid": [], "id": [], "scored": []}
            for q, r, pq, pr in _prepared_pairs(scorer, df):
                rows["rid"].append(q.id)
                rows["id"].append(r.id)
                rows["scored"].append(scored_to_json(scorer.score(pq, pr)))
            frame = pd.DataFrame(rows).astype({"rid": "int64", "id": "int64"})
            frame["scored"] = frame["scored"].astype(object)
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
