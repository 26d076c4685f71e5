"""A large file's first import has its rows read and checked by a child process (kinlink.registry.
checking_process): the same batches, errors and rows as when checked in the importing process, on SQLite and
PostgreSQL; an error while reading is raised as it would be without the child, and no child outlives its
import."""

from __future__ import annotations

import os
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kinlink.person.chunk import FIELD_INDEX
from kinlink.registry.checked_rows import CHUNK, Records, checked_batches
from kinlink.registry.checking_process import (
    LARGE_FILE,
    RecordsAhead,
    checked_in_child,
    checks_elsewhere,
)
from kinlink.registry.files import FileFormatError, open_list
from kinlink.registry.imports import import_registry, validate_file
from kinlink.registry.record_names import NAME_FIELDS, joined_ahead
from kinlink.store import audit
from kinlink.store.models import Person, PersonName, Source
from tests.support import counts

TODAY = date(2026, 12, 7)
HEADER = "record_id,full_name,sex,birth_date,status,status_date,notes,alternate_names\n"
# Cells an import must refuse or keep as they are: a bad date, a bad sex, a bidi control, a lone quote at the
# start (kept as text), a tab and a newline in quoted cells, an empty record id, alternates.
ODD = [
    'B{i},Петренко Іван,x,1990-02-30,captured,2022-03-01,"a\tb",\n',
    'B{i},"Іван\nПетренко",m,1990,captured,2022-03-01,\u202e,\n',
    ",Іван Петренко,m,1990,captured,2022-03-01,,\n",
    "B{i},'=cmd,f,1990,missing,,'note,\n",
    'B{i},Коваль Олена,f,1985,captured,2022-04-02,,"Ковальова Олена; Kowal Olena"\n',
]


def _rows(n: int) -> str:
    """n rows, one in every 50 an odd one, and one record id repeated two chunks on."""
    rows = []
    for i in range(n):
        if i % 50 == 7:
            rows.append(ODD[i // 50 % len(ODD)].format(i=i))
        else:
            rows.append(f"R{i},Иванов Пётр Сергеевич,m,19{50 + i % 50},captured,2022-03-0{1 + i % 9},n{i},\n")
    rows.append("R3,Иванов Пётр,m,1990,released,2023-01-01,,\n")  # R3 again, in the last chunk
    return HEADER + "".join(rows)


def _all_children() -> list[str]:
    me = os.getpid()
    return Path(f"/proc/{me}/task/{me}/children").read_text().split()


_before: list[str] = []


@pytest.fixture(autouse=True)
def _children_before() -> None:
    # A process other tests started in this worker (a server, a browser) is not one of ours.
    _before[:] = _all_children()


def _children() -> list[str]:
    """This process's children started since the test began."""
    return [c for c in _all_children() if c not in _before]


def test_the_child_gives_the_batches_checked_here(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(_rows(3 * CHUNK + 10), encoding="utf-8")
    here = list(checked_batches(open_list(path, "csv")[1], TODAY, None))
    there = list(checked_in_child(open_list(path, "csv")[1], TODAY))
    assert there == here
    assert len(here) == 4 and any(isinstance(b, list) for b in here)  # bad rows among them
    assert _children() == []


def test_a_file_that_stops_being_utf8_raises_as_without_the_child(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(_rows(2 * CHUNK + 10).encode() + b"R9999,\xff\xfe,m,1990,,,,\n")
    here: list[object] = []
    with pytest.raises(FileFormatError) as raised_here:
        here.extend(checked_batches(open_list(path, "csv")[1], TODAY, None))
    there: list[object] = []
    with pytest.raises(FileFormatError) as raised_there:
        there.extend(checked_in_child(open_list(path, "csv")[1], TODAY))
    assert str(raised_there.value) == str(raised_here.value)
    assert there == here and len(here) == 1  # the batches before the bad block, once each
    assert _children() == []


def test_a_child_no_longer_read_is_stopped(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(_rows(6 * CHUNK), encoding="utf-8")
    batches = checked_in_child(open_list(path, "csv")[1], TODAY)
    next(batches)
    assert len(_children()) == 1
    batches.close()
    assert _children() == []


def _new_names(path: Path, n: int, start: int) -> None:
    """n rows of names in parts, each part never seen before in this process (letters for digits)."""
    letters = str.maketrans("0123456789", "абвгдежзик")

    def word(i: int) -> str:
        return str(i).translate(letters)

    rows = [f"N{i},Ков{word(i)},Ол{word(i)},Петр{word(i)}ович\n" for i in range(start, start + n)]
    path.write_text("record_id,family_name,given_names,patronymic\n" + "".join(rows), encoding="utf-8")


def _name_fields(batches: list[object]) -> list[list[object]]:
    return [[b.columns[FIELD_INDEX[f]] for f in NAME_FIELDS] for b in batches if isinstance(b, Records)]


def test_the_names_the_child_worked_out_are_not_worked_out_again(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    _new_names(path, 2 * CHUNK, 10_000)
    fields = _name_fields(list(checked_in_child(open_list(path, "csv")[1], TODAY)))
    assert len(fields) == 2
    assert [joined_ahead(f)[0] for f in fields] == [([], []), ([], [])]  # learned from the child
    # Checked here instead, names never seen are worked out when first written.
    _new_names(path, CHUNK, 20_000)
    fields = _name_fields(list(checked_batches(open_list(path, "csv")[1], TODAY, None)))
    assert len(joined_ahead(fields[0])[0][0]) == 3 * CHUNK


def test_a_large_first_import_checked_by_a_child_writes_what_the_check_finds(
    tmp_path: Path, engine: Engine
) -> None:
    path = tmp_path / "a.csv"
    n = 14_000
    path.write_text(_rows(n), encoding="utf-8")
    assert path.stat().st_size >= LARGE_FILE  # checked by a child where there are two cores
    checked = list(validate_file(path, "csv", TODAY))
    errors = [e for _line, result in checked if isinstance(result, list) for e in result]
    good = sorted(r.record_id for _line, r in checked if not isinstance(r, list))
    report = import_registry(engine, path, "a", "t", skip_invalid=True, today=TODAY)
    bad = sum(isinstance(result, list) for _line, result in checked)
    assert report.written and (report.created, report.invalid) == (len(good), bad) and 0 < bad < n
    assert report.errors == [f"a.csv:{e.line}: {e.column}: {e.text}" for e in errors]
    with Session(engine) as s:
        assert sorted(s.scalars(select(Person.source_record_id))) == good
        assert audit.verify(s) == []
    assert counts(engine)["audit_log"] == len(good) + 2  # an entry a record, the source's and the run's
    assert _children() == []


def _statuses_and_names(engine: Engine, source: str) -> list[tuple[object, ...]]:
    with Session(engine) as s:
        rows = s.execute(
            select(
                Person.source_record_id,
                Person.status,
                Person.status_date,
                *(getattr(PersonName, c) for c in ("folded", "position", "full_name", "family_name")),
                *(getattr(PersonName, c) for c in ("given_names", "patronymic", "script", "language")),
            )
            .join(PersonName, PersonName.person_id == Person.id)
            .join(Source, Source.id == Person.source_id)
            .where(Source.name == source)
            .order_by(Person.source_record_id, PersonName.position)
        )
        return [tuple(r) for r in rows]


def test_the_statuses_and_names_the_child_worked_out_are_written_as_worked_out_here(
    tmp_path: Path, engine: Engine
) -> None:
    path = tmp_path / "a.csv"
    statuses = [("captured", "2022-03-0{d}"), ("released", "2023-0{d}-01"), ("missing", ""), ("", "")]
    rows = []
    for i in range(20_000):  # names in parts (one in 7 its language given), statuses of four kinds
        status, when = statuses[i % 4]
        family = ["Коваль", "Шевченко", "Ким", "Paktishev"][i % 4] + str(i % 13)
        rows.append(f"R{i},{family},Олена{i % 11},Петрівна,{status},{when.format(d=1 + i % 9)},")
        rows[-1] += "uk\n" if i % 7 == 0 else "\n"
    path.write_text(
        "record_id,family_name,given_names,patronymic,status,status_date,name_language\n" + "".join(rows),
        encoding="utf-8",
    )
    assert path.stat().st_size >= LARGE_FILE
    batches = list(checked_in_child(open_list(path, "csv")[1], TODAY))
    ahead = [b.ahead for b in batches if isinstance(b, RecordsAhead)]
    assert len(ahead) == len(batches) and all(a.names is not None for a in ahead)
    import_registry(engine, path, "child", "t", today=TODAY)  # worked out by the child, where it runs
    import_registry(engine, path, "here", "t", today=TODAY, rows=open_list(path, "csv")[1])
    child, here = _statuses_and_names(engine, "child"), _statuses_and_names(engine, "here")
    assert len(child) == 20_000 and child == here
    assert {r[1] for r in child} == {"captured", "released", "missing", None}
    assert len({r[-1] for r in child}) >= 2


def test_a_process_on_one_core_checks_its_rows_itself() -> None:
    cores = os.sched_getaffinity(0)
    alone = threading.active_count() == 1  # (a thread another test left running in this process counts too)
    assert checks_elsewhere(LARGE_FILE) == (len(cores) >= 2 and alone)
    os.sched_setaffinity(0, {min(cores)})
    try:
        assert not checks_elsewhere(LARGE_FILE)
    finally:
        os.sched_setaffinity(0, cores)
    assert not checks_elsewhere(LARGE_FILE - 1)


def test_a_process_with_another_thread_checks_its_rows_itself() -> None:
    # A fork would copy a lock another thread may hold: with a second thread, no child is used.
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not checks_elsewhere(LARGE_FILE)
    finally:
        release.set()
        other.join()
