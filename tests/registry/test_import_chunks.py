"""Imports larger than one chunk (kinlink.registry.imports.CHUNK): a source's first import, which looks up
no existing records, and a later one, which does (kinlink.registry.known), on SQLite and PostgreSQL."""

from __future__ import annotations

from kinlink.registry.imports import CHUNK
from tests.support import counts

HEADER = "record_id,full_name,sex,birth_date,status,status_date\n"


def _row(i: int, status: str = "captured") -> str:
    return f"R{i},Иванов Пётр Сергеевич,m,1990,{status},2022-03-0{1 + i % 9}\n"


def test_first_import_over_chunks_refuses_an_id_repeated_in_a_later_chunk(cli, write, engine) -> None:
    n = CHUNK + 100
    rows = [_row(i) for i in range(n)] + [_row(5, "missing")]  # R5 again, in the second chunk
    out = cli.json(
        "import", "registry", str(write("a.csv", HEADER + "".join(rows))), "--source", "b", "--skip-invalid"
    )
    assert (out["created"], out["invalid"]) == (n, 1)
    assert "appears twice in the file" in out["errors"][0]
    assert counts(engine)["persons"] == n
    assert cli("audit", "verify").exit_code == 0


def test_later_import_over_chunks_finds_the_source_records(cli, write, engine) -> None:
    n = CHUNK + 100
    first = write("a.csv", HEADER + "".join(_row(i) for i in range(n)))
    cli("import", "registry", str(first), "--source", "b")
    # Every record again: one changed in each chunk, the rest unchanged, and new ones after them.
    rows = [_row(i, "released" if i in (7, CHUNK + 7) else "captured") for i in range(n)]
    rows += [_row(i) for i in range(n, n + 50)]
    out = cli.json("import", "registry", str(write("b.csv", HEADER + "".join(rows))), "--source", "b")
    assert (out["created"], out["updated"], out["unchanged"]) == (50, 2, n - 2)
    assert counts(engine)["persons"] == n + 50
    assert cli("audit", "verify").exit_code == 0
