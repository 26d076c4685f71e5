"""A Spark session for kinlink: plain PySpark (no jars fetched), modest by default, stopped after use."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def spark_session(
    master: str = "local[2]",
    *,
    shuffle_partitions: int | None = None,
    driver_memory: str = "1g",
    app: str = "kinlink-match",
    conf: dict[str, str] | None = None,
) -> Iterator[Any]:
    """A SparkSession on this master (local[N], spark://host:port, yarn...), stopped when the block ends.

    In local mode the executors' Python is this one (the venv kinlink runs in) and the driver binds to
    the loopback; on a cluster, spark-submit's settings decide (docs/spark.md)."""
    from pyspark.sql import SparkSession

    local = master.startswith("local")
    if local:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.python.worker.reuse", "true")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions or (2 if local else 200)))
    )
    if local:
        builder = (
            builder.config("spark.driver.memory", driver_memory)
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
        )
    for k, v in (conf or {}).items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()
