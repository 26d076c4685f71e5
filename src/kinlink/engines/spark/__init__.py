"""The Spark engine (`kinlink match --engine spark`): the matching core's keys, pre-rank and scorer run on
Apache Spark's executors over a Parquet snapshot of the registry (docs/spark.md)."""
