"""Records and scores as Arrow columns: what crosses between the database, the Parquet snapshot, Spark's
executors and the write-back. Pure (pyarrow, pandas and the matching core): executors import it."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import pandas as pd
import pyarrow as pa

from kinlink.matching.record import MatchRecord
from kinlink.matching.score_values import Evidence, Scored
from kinlink.messages import from_data

# The snapshot's columns: a MatchRecord's fields (its `extra` is not compared and stays out).
RECORD_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("name", pa.string()),
        ("other_names", pa.list_(pa.string())),
        ("source_record_id", pa.string()),
        ("sex", pa.string()),
        ("birth_date", pa.string()),
        ("birth_year_to", pa.int32()),
        ("age", pa.int32()),
        ("age_as_of", pa.string()),
        ("place_of_birth", pa.string()),
        ("unit", pa.string()),
        ("rank", pa.string()),
        ("service_number", pa.string()),
        ("capture_place", pa.string()),
        ("capture_date", pa.string()),
        ("kind", pa.string()),
    ]
)
FIELDS = tuple(RECORD_SCHEMA.names)
_INTS = {"id", "birth_year_to", "age"}


def records_table(records: Iterable[MatchRecord]) -> pa.Table:
    """Records as one Arrow table of the snapshot's schema."""
    cols: dict[str, list[Any]] = {f: [] for f in FIELDS}
    for r in records:
        for f in FIELDS:
            v = getattr(r, f)
            cols[f].append(list(v) if f == "other_names" else (int(v) if f == "id" else v))
    return pa.Table.from_pydict(cols, schema=RECORD_SCHEMA)


def _clean(name: str, v: Any) -> Any:
    # pandas hands nulls over as None, NaN or pd.NA (by version and dtype), integers as numpy or float
    # values, and lists as numpy arrays.
    if name == "other_names":
        return () if v is None or isinstance(v, float) else tuple(str(x) for x in v)
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return int(v) if name in _INTS else v


def records_from_columns(columns: dict[str, list[Any]], prefix: str = "") -> list[MatchRecord]:
    """MatchRecords from a frame's columns (`df[c].tolist()`), their names prefixed (`r_`, `q_`) or not."""
    n = len(columns[prefix + "id"])
    out = []
    for i in range(n):
        kw = {f: _clean(f, columns[prefix + f][i]) for f in FIELDS if prefix + f in columns}
        kw["id"] = int(kw["id"])
        kw.setdefault("other_names", ())
        kw["other_names"] = kw["other_names"] or ()
        kw["kind"] = kw.get("kind") or "record"
        out.append(MatchRecord(**kw))
    return out


def scored_to_json(s: Scored) -> str:
    """A pair's explained score as JSON (floats written exactly), for the write-back to store as scored."""
    return json.dumps(
        {
            "p": s.probability,
            "w": s.weight,
            "e": [[e.field, e.label, e.level, e.weight, e.message.to_data()] for e in s.evidence],
            "n": s.note.to_data() if s.note else None,
        },
        ensure_ascii=False,
    )


def scored_from_json(text: str) -> Scored:
    d = json.loads(text)
    evidence = tuple(Evidence(f, label, level, w, from_data(m)) for f, label, level, w, m in d["e"])  # type: ignore[arg-type]
    return Scored(d["p"], d["w"], evidence, from_data(d["n"]))
