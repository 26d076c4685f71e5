"""`kinlink match --estimate … --engine spark`: m and u estimated from the registry on Spark.

Spark forms the pairs and counts their agreement patterns (each pair's comparison vector by the scorer's
own `levels`); EM then runs on the driver over the counted patterns (`matching.em.estimate_from_patterns`,
the in-process engine's own), as Splink does. The pairs are those the in-process estimate takes:
- random pairs (u): drawn on the driver by position, as `em.random_pair_vectors` draws them;
- pairs blocked on names (m of every other field): a sample of records, blind to birth and sex, against
  their 10 best records by pre-rank (themselves left out);
- pairs blocked on an exact date of birth (m of the names): up to 5 records born the same day each.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from kinlink.engines.spark import executor as ex
from kinlink.engines.spark import linkage
from kinlink.engines.spark.run import read_registry
from kinlink.engines.spark.session import spark_session
from kinlink.engines.spark.snapshot import write_snapshot
from kinlink.matching.em import Estimate, Patterns, estimate_from_patterns
from kinlink.matching.model import Model

_BLIND = ("birth_date", "birth_year_to", "age", "age_as_of", "sex")


def estimate(
    engine: Engine,
    actor: str,
    model: Model,
    *,
    master: str = "local[2]",
    snapshot: Path | None = None,
    shuffle_partitions: int | None = None,
) -> Estimate | None:
    """The model's m and u estimated on Spark, or None with fewer than 100 records."""
    with tempfile.TemporaryDirectory(prefix="kinlink-spark-") as tmp:
        directory = snapshot or Path(tmp)
        exported = write_snapshot(engine, actor, directory)
        if exported.records + exported.sightings < 100:
            return None
        with spark_session(master, shuffle_partitions=shuffle_partitions) as spark:
            return estimate_records(spark, read_registry(spark, directory), model)


def estimate_records(
    spark: Any,
    records: Any,
    model: Model,
    *,
    random_pairs: int | None = None,
    sample: int | None = None,
    seed: int = 1,
) -> Estimate:
    """The estimate from records already in Spark (a DataFrame of the snapshot's columns)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    reg = linkage.registry(spark, records)
    n = reg.population
    random_pairs = random_pairs if random_pairs is not None else min(200_000, n * 20)
    sample = sample if sample is not None else min(20_000, n)
    mj = linkage.model_json(model)
    count = ex.level_patterns(mj, reg.population, reg.tf_id, reg.tf)

    def counted(pairs: Any, queries: Any) -> Patterns:
        sides = linkage.with_sides(pairs.select("rid", "id"), records, queries)
        rows = sides.mapInPandas(count, ex.LEVELS_SCHEMA).groupBy("pattern").count().collect()
        width = len(model.comparisons)
        if not rows:
            return np.zeros((0, width), dtype=np.int16), np.zeros(0)
        vectors = np.array([[int(x) for x in r["pattern"].split(",")] for r in rows], dtype=np.int16)
        return vectors, np.array([float(r["count"]) for r in rows])

    # Positions by id (zipWithIndex keeps partitions' order), for the random pairs drawn on the driver.
    ordered = records.orderBy("id").select("id")
    positions = spark.createDataFrame(
        ordered.rdd.zipWithIndex().map(lambda t: (int(t[0][0]), int(t[1]))), "id long, pos long"
    )
    rng = random.Random(seed)
    drawn = [(rng.randrange(n), rng.randrange(n)) for _ in range(random_pairs)]
    drawn = [(i, j) for i, j in drawn if i != j]
    pairs = spark.createDataFrame(drawn, "a long, b long")
    a, b = positions.alias("a"), positions.alias("b")
    random_ids = (
        pairs.join(a, F.col("a") == F.col("a.pos"))
        .join(b, F.col("b") == F.col("b.pos"))
        .select(F.col("a.id").alias("rid"), F.col("b.id").alias("id"))
    )
    unrelated = counted(random_ids, records)

    sampled = records.join(positions, "id").where(
        F.col("pos").isin(random.Random(seed).sample(range(n), sample))
    )
    blind = sampled.select(
        *[
            F.lit(None).cast(f.dataType).alias(f.name) if f.name in _BLIND else F.col(f.name)
            for f in records.schema.fields
        ]
    )
    by_name_pairs = linkage.shortlist(reg, blind, size=10).where(F.col("rid") != F.col("id"))
    by_name = counted(by_name_pairs, records)

    exact = reg.keyed.where((F.col("lo") == F.col("hi")) & (F.col("lo") != np.iinfo(np.int32).min))
    mine = exact.join(sampled.select("id"), "id").select(F.col("id").alias("rid"), "lo")
    same = mine.join(exact.select("id", "lo"), "lo").where(F.col("rid") != F.col("id"))
    first5 = Window.partitionBy("rid").orderBy("id")
    birth_pairs = same.withColumn("n", F.row_number().over(first5)).where(F.col("n") <= 5)
    by_birth = counted(birth_pairs, records)
    return estimate_from_patterns(model, unrelated, by_name, by_birth, records=n, random_pairs=random_pairs)
