"""Requests against records on Spark: keys, join, pre-rank, score, top candidates by a window.

The plan is the in-process index's search, written as joins (docs/spark.md):
1. each record's blocking keys (`matching.keys`, in `mapInPandas`), and per key how many records share it;
2. each request's lookup keys; those shared by more than `MAX_POSTING` records are dropped where the
   request has a more selective one (else the least common is kept), as the index does;
3. the join on keys gives (request, record, keys shared); `keys.prerank`, written as Spark columns, ranks
   them in the JVM and a window keeps the 30 best per request (ties by record id): only those cross to
   Python;
4. each request's shortlist, its rows together, goes to `Scorer.best` (the in-process search's own: the
   cheap bound first, names compared only where the bound can still reach the best found), with the name
   counts and the prior of the whole registry (one aggregation pass, then a broadcast); it keeps the best
   `limit` at or above the model's candidate threshold (ties by record id), explained.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from kinlink.engines.spark import executor as ex
from kinlink.matching.keys import MAX_POSTING, MISSING_DAY
from kinlink.matching.model import Model

SHORTLIST = 30  # the index's default shortlist (`CandidateIndex.search`)
# The pre-rank runs in Spark SQL (`prerank`): only shortlists cross to Python (the bench reads this flag to
# count the pairs that cross).
PRERANK_IN_JVM = True
LIMIT = 20  # candidates kept per request (`tracing.batch`)
RECORD_LIMIT = 6  # hits kept per record linked to the others (`tracing.batch`, --dedup), itself included
_TF_TABLES = ("family", "given", "patronymic")


@dataclass
class Registry:
    """The records as Spark sees them: their keys (cached), their number and name counts (broadcast)."""

    records: Any  # DataFrame of the snapshot's record columns
    keyed: Any  # DataFrame: id, keys, tf_*, lo, hi, sex_code
    population: int
    tf: Any  # Broadcast of TermFrequencies
    tf_id: int  # tells one run's counts from another's in an executor's scorer cache


def model_json(model: Model) -> str:
    return json.dumps(model.to_dict(), ensure_ascii=False, sort_keys=True)


def registry(spark: Any, records: Any) -> Registry:
    """Key the records once, and count them and their names in one aggregation pass."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    keyed = records.select(*records.columns).mapInPandas(ex.key_records, ex.RECORD_KEYS_SCHEMA)
    keyed = keyed.persist(StorageLevel.MEMORY_AND_DISK)
    tables = [
        keyed.select(F.lit(t).alias("t"), F.col(f"tf_{t}").alias("k"))
        for t in ("family", "given", "patronymic")
    ]
    counted = tables[0].unionByName(tables[1]).unionByName(tables[2]).where(F.col("k").isNotNull())
    rows = counted.groupBy("t", "k").count().collect()
    population = keyed.count()
    tf = ex.tf_from_rows(population, [(r["t"], r["k"], r["count"]) for r in rows])
    return Registry(records, keyed, population, spark.sparkContext.broadcast(tf), secrets.randbits(62))


def postings(reg: Registry) -> tuple[Any, Any]:
    """(key, id) for every key of every record, and each key's number of records."""
    from pyspark.sql import functions as F

    posted = reg.keyed.select("id", F.explode("keys").alias("key"))
    return posted, posted.groupBy("key").agg(F.count("*").alias("size"))


def shortlist(reg: Registry, requests: Any, size: int = SHORTLIST) -> Any:
    """(rid, id, pre): each request's best `size` records by pre-rank, as `CandidateIndex.shortlist`.

    All in the JVM: the join on keys finds, for a common name, thousands of records per request (every one
    the index pre-ranks in numpy), so they are pre-ranked here (`prerank`, `keys.prerank` in Spark SQL)
    and cut to the shortlist by a window before any pair crosses to Python."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    posted, sizes = postings(reg)
    qkeys = requests.mapInPandas(ex.key_queries, ex.QUERY_KEYS_SCHEMA).join(sizes, "key")
    by_request = Window.partitionBy("rid")
    chosen = (
        qkeys.withColumn("selective", F.max((F.col("size") <= MAX_POSTING).cast("int")).over(by_request))
        .withColumn("n", F.row_number().over(by_request.orderBy("size", "key")))
        .where((F.col("size") <= MAX_POSTING) | ((F.col("selective") == 0) & (F.col("n") == 1)))
        .select("rid", "key", "q_lo", "q_hi", "q_sex")
    )
    # The request's birth range and sex are the same on each of its keys' rows: grouped on, not joined.
    found = (
        chosen.join(posted, "key")
        .groupBy("rid", "id", "q_lo", "q_hi", "q_sex")
        .agg(F.count("*").alias("shared"))
        .join(reg.keyed.select("id", "lo", "hi", "sex_code"), "id")
    )
    ranked = found.select("rid", "id", prerank().alias("pre"))
    best = Window.partitionBy("rid").orderBy(F.col("pre").desc(), F.col("id").asc())
    return ranked.withColumn("n", F.row_number().over(best)).where(F.col("n") <= size).drop("n")


def prerank() -> Any:
    """`keys.prerank` as a Spark column, bit for bit: keys shared (float32), less the birth gap in years
    (at most 6; 0.5 where the record's birth is unknown) where the request has a birth range, less 2 for a
    sex clash; each term rounded to float32 and subtracted in float32 as numpy does (Spark's FloatType
    is IEEE single precision too), so the window cuts and orders the shortlist as the index does.

    Reads shared, lo, hi, sex_code (the record's) and q_lo, q_hi, q_sex (the request's)."""
    from pyspark.sql import functions as F

    rank = F.col("shared").cast("float")
    known = F.col("lo") != F.lit(MISSING_DAY)
    after = F.col("lo").cast("long") - F.col("q_hi").cast("long")
    before = F.col("q_lo").cast("long") - F.col("hi").cast("long")
    gap = F.greatest(F.lit(0).cast("long"), after, before)
    birth = F.when(known, F.least(gap / F.lit(365.0), F.lit(6.0))).otherwise(F.lit(0.5)).cast("float")
    rank = F.when(F.col("q_lo") != F.lit(MISSING_DAY), rank - birth).otherwise(rank)
    clash = (F.col("sex_code") != 0) & (F.col("sex_code") != F.col("q_sex"))
    sex = F.when(clash, F.lit(2.0)).otherwise(F.lit(0.0)).cast("float")
    return F.when(F.col("q_sex") != 0, rank - sex).otherwise(rank)


def with_sides(pairs: Any, records: Any, requests: Any) -> Any:
    """The pairs (and their other columns) with both sides' fields: the request's as q_*, the record's as
    r_*."""
    from pyspark.sql import functions as F

    r = records.select(*[F.col(c).alias(f"r_{c}") for c in records.columns])
    q = requests.select(*[F.col(c).alias(f"q_{c}") for c in requests.columns])
    return pairs.join(r, F.col("id") == F.col("r_id")).join(q, F.col("rid") == F.col("q_id"))


def link_requests(reg: Registry, requests: Any, model: Model, limit: int = LIMIT) -> Any:
    """(rid, id, weight, probability, scored, n): each request's best candidates, best first (n from 1),
    at or above the model's candidate threshold; `scored` is the explained score as JSON.

    One pass over the shortlists, by `Scorer.best` as the in-process search: the pairs of a request come
    together (partitioned and sorted by request, best pre-rank first), and a candidate whose bound cannot
    reach the best found so far is never compared by name; only the kept ones are explained."""
    from pyspark.sql import functions as F

    short = shortlist(reg, requests).join(
        reg.keyed.select("id", *[F.col(f"tf_{t}").alias(f"r_tf_{t}") for t in _TF_TABLES]), "id"
    )
    best = ex.best_candidates(
        model_json(model), reg.population, reg.tf_id, reg.tf, limit, model.candidate_threshold
    )
    return (
        with_sides(short, reg.records, requests)
        .repartition("rid")
        .sortWithinPartitions("rid", F.col("pre").desc(), "id")
        .mapInPandas(best, ex.EXPLAIN_SCHEMA)
    )


def record_hits(reg: Registry, model: Model, limit: int = RECORD_LIMIT) -> Any:
    """(rid, id, scored): each record's best other records, found as the in-process engine's --dedup finds
    them: the record taken as a query, its `limit` best hits (itself among them) at or above the threshold."""
    from pyspark.sql import functions as F

    found = link_requests(reg, reg.records, model, limit)
    return found.where(F.col("rid") != F.col("id")).select("rid", "id", "scored")


def record_pairs(reg: Registry, hits: Any, model: Model) -> Any:
    """(left, right, scored, seen): the pairs of `record_hits` (written and read back, so that it is not
    worked out twice), each once and scored with the lower id as the query, as the in-process engine stores
    them: a pair found only from its higher side is scored again the other way. seen: from how many of its
    two sides the pair was found (1 or 2); the in-process engine stores a pair at each sighting, and its
    summary counts the second one as unchanged, so the write-back does too."""
    from pyspark.sql import functions as F

    forward = hits.where(F.col("rid") < F.col("id"))
    back = hits.where(F.col("rid") > F.col("id")).select(F.col("id").alias("rid"), F.col("rid").alias("id"))
    seen = forward.select("rid", "id").unionByName(back).groupBy("rid", "id").agg(F.count("*").alias("seen"))
    back = back.join(forward.select("rid", "id"), ["rid", "id"], "left_anti")  # found both ways: kept once
    explain = ex.explain_pairs(model_json(model), reg.population, reg.tf_id, reg.tf)
    rescored = with_sides(back, reg.records, reg.records).mapInPandas(explain, ex.PAIR_SCHEMA)
    both = forward.select("rid", "id", "scored").unionByName(rescored).join(seen, ["rid", "id"])
    return both.select(F.col("rid").alias("left"), F.col("id").alias("right"), "scored", "seen")
