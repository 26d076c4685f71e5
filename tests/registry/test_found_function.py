"""On PostgreSQL a staff search's lookups and listed rows are read through the function of migration 0024,
which runs `_found_stmt`'s statement with its generic plan: the same rows as the statement, for every kind of
text and filter (issue 19)."""

from __future__ import annotations

from pathlib import Path

from bench.registry.data import generate
from sqlalchemy import Engine, text

from kinlink.registry.imports import import_registry
from kinlink.registry.search import _FOUND_FUNCTION, _found_stmt
from kinlink.store.models import fold_name

ROWS = 600


def test_the_found_function_gives_the_rows_of_the_statement(pg: Engine, tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    generate(path, ROWS)
    import_registry(pg, path, "bulk", "test")
    with pg.connect() as conn:
        rows = conn.execute(
            text("SELECT full_name, source_record_id, service_number FROM persons ORDER BY id LIMIT 40")
        ).all()
        kinds = [k for (k,) in conn.execute(text("SELECT DISTINCT kind FROM sources"))]
        texts = {t for name, rid, sn in rows for t in (name, name.split()[0], name[:4], rid, sn) if t}
        texts |= {"нет такого имени", "0"}
        compared = 0
        for q in sorted(texts):
            folded = fold_name(q)
            for status in (None, "missing"):
                for kind in (None, *kinds, "partner"):
                    for limit in (3, 50):
                        params = {"q": q, "lo": folded, "hi": folded + "\U0010ffff", "lim": limit}
                        params.update(ids=[1, 7, 300, ROWS + 5], status=status, kind=kind)
                        want = conn.execute(_found_stmt(bool(status), bool(kind), True), params).all()
                        got = conn.execute(_FOUND_FUNCTION, params).all()
                        assert sorted(map(tuple, got)) == sorted(map(tuple, want)), (q, status, kind, limit)
                        compared += bool(want)
    assert compared > 100
