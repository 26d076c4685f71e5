"""Copy a loaded SQLite bench database into an empty PostgreSQL one, table by table with COPY.

The registry import writes PostgreSQL rows at a few hundred a second: a million records would take the
benchmark an hour or more before it measures anything. The web benchmark measures serving, not importing,
so `run.py --copy-from` loads PostgreSQL with the very rows (records, keys, audit chain) a SQLite run
imported, which also makes the two backends' figures comparable: the same data on both.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import JSON, Engine, func, select, text
from sqlalchemy.dialects.postgresql import JSONB

from kinlink.store import (
    all_models,  # noqa: F401 (every table in the metadata)
    schema,
)
from kinlink.store.db import analyze
from kinlink.store.models import Base


def copy_database(source: Engine, target: Engine, chunk: int = 20_000) -> int:
    """Every table's rows from `source` into `target` (migrated here, empty); the rows copied."""
    schema.upgrade(target)
    tables = [t for t in Base.metadata.sorted_tables if t.name != "alembic_version"]
    total = 0
    raw = target.raw_connection()
    try:
        from psycopg.types.json import Jsonb

        pg: Any = raw.driver_connection
        with pg.cursor() as cur:
            # Foreign keys are not checked row by row: the rows are a consistent database's already.
            cur.execute("SET session_replication_role = replica")
            # The migrations seed a few rows (the audit chain's head...): the source's replace them.
            cur.execute("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables))
            for table in tables:
                t = time.perf_counter()
                cols = [c.name for c in table.columns]
                jsons = [isinstance(c.type, JSON | JSONB) for c in table.columns]
                names = ", ".join(f'"{c}"' for c in cols)
                n = 0
                with source.connect() as src:
                    result = src.execution_options(yield_per=chunk).execute(select(table))
                    with cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                        for row in result:
                            values = zip(row, jsons, strict=True)
                            copy.write_row([Jsonb(v) if j and v is not None else v for v, j in values])
                            n += 1
                total += n
                if n:
                    print(f"  {table.name}: {n} rows in {time.perf_counter() - t:.1f} s")
            cur.execute("SET session_replication_role = DEFAULT")
        pg.commit()
    finally:
        raw.close()
    with target.begin() as conn:
        for table in tables:
            pk = [c for c in table.primary_key.columns if c.autoincrement is not False]
            if len(table.primary_key.columns) == 1 and pk and pk[0].type.python_type is int:
                col = pk[0].name
                top = conn.scalar(select(func.max(table.c[col])))
                if top:
                    conn.execute(
                        text("SELECT setval(pg_get_serial_sequence(:t, :c), :v)"),
                        {"t": table.name, "c": col, "v": top},
                    )
    analyze(target, [t.name for t in tables])
    return total
