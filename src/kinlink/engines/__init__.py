"""Batch linkage engines: the same declared model and scorer run in process (`local`, forked workers) or on
Apache Spark (`spark`). Doors, like the CLI and the web: they translate, and the domain (`kinlink.tracing`)
writes every candidate, so both engines store the same rows the same way."""
