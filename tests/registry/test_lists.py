"""Official lists as they arrive (issue 21, item 1): XLSX and ODS as well as CSV, headings in Russian,
Ukrainian or English, a column mapping saved per source and reused, every bad cell named by sheet, row,
column and reason; the importer's own rules (all or nothing, idempotent). Real files, real command, real
database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.person.fields import COLUMNS
from kinlink.person.headings import normalise, recognise, synonyms, table_fields
from kinlink.registry import lists
from kinlink.store.list_models import ColumnMapping
from kinlink.store.models import AuditEntry
from tests.registry.workbooks import write_ods, write_xlsx
from tests.support import counts

RU_HEADINGS = ["№ п/п", "Фамилия", "Имя", "Отчество", "Дата рождения", "Пол", "Воинское звание", "Статус",
               "Дата события", "Место"]  # fmt: skip
RU_ROWS = [
    [1001, "Пактышев", "Леонид", "Андреевич", date(1993, 4, 2), "муж", "рядовой", "captured",
     date(2022, 2, 27), "Київська область"],
    [1002, "Савченко", "Надежда", "Викторовна", "1981", "ж", "лейтенант", "missing", "2014-06", ""],
    [1003, "Коваль", "Игорь", "", "", "м", "", "", "", ""],
]  # fmt: skip


def test_heading_table_covers_every_field_and_no_other() -> None:
    assert table_fields() == set(COLUMNS)
    assert set(synonyms().values()) == set(COLUMNS)  # and no form means two fields (it raises)
    assert recognise("Дата рождения:") == "birth_date"
    assert recognise("ДАТА  НАРОДЖЕННЯ") == "birth_date"
    assert recognise("Ім'я") == "given_names"
    assert recognise("Date of birth") == "birth_date"
    assert recognise("Отчёство") == "patronymic"  # ё as е
    assert recognise("Любимый цвет") is None


@given(st.sampled_from(sorted(synonyms())), st.sampled_from(["", " ", ":", ".", " *"]), st.booleans())
def test_every_synonym_is_recognised_however_it_is_cased_and_punctuated(
    form: str, tail: str, upper: bool
) -> None:
    heading = (form.upper() if upper else form.title()) + tail
    assert recognise(heading) == synonyms()[form]
    assert normalise(normalise(heading)) == normalise(heading)


def test_xlsx_in_russian_imports_with_typed_cells_and_twice_changes_nothing(cli, tmp_path, engine) -> None:
    path = write_xlsx(tmp_path / "список.xlsx", {"Лист1": [RU_HEADINGS, *RU_ROWS]})
    out = cli.json("import", "registry", str(path), "--source", "ru-bureau")
    assert (out["created"], out["invalid"]) == (3, 0), out
    shown = cli.json("records", "show", "ru-bureau:1001")  # a whole number, never '1001.0'
    assert shown["birth_date"] == "1993-04-02" and shown["sex"] == "m"  # a date cell, as an ISO date
    assert shown["events"][0]["date"] == "2022-02-27" and shown["events"][0]["kind"] == "captured"
    assert shown["names"][0]["patronymic"] == "Андреевич"
    before = counts(engine)
    again = cli.json("import", "registry", str(path), "--source", "ru-bureau")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    after = counts(engine)
    assert {k: after[k] for k in ("persons", "events")} == {k: before[k] for k in ("persons", "events")}


def test_ods_in_ukrainian_imports(cli, tmp_path) -> None:
    headings = ["Номер", "Прізвище", "Ім'я", "По батькові", "Дата народження", "Стать", "Статус"]
    rows = [[7, "Савченко", "Надія", "Вікторівна", date(1981, 5, 11), "ж", "missing"]]
    path = write_ods(tmp_path / "перелік.ods", {"Аркуш1": [headings, *rows]})
    out = cli.json("import", "registry", str(path), "--source", "ua-bureau")
    assert out["created"] == 1, out
    shown = cli.json("records", "show", "ua-bureau:7")
    assert shown["birth_date"] == "1981-05-11" and shown["sex"] == "f" and shown["status"] == "missing"


def test_every_bad_cell_is_named_and_nothing_is_written(cli, tmp_path, engine) -> None:
    rows = [list(r) for r in RU_ROWS]
    rows[1][4] = "31.02.1981"  # no such day
    rows[2][5] = "X"  # not a sex
    path = write_xlsx(tmp_path / "bad.xlsx", {"Пленные": [RU_HEADINGS, *rows]})
    result = cli("import", "registry", str(path), "--source", "ru-bureau", "--json", ok=False)
    out = json.loads(result.stdout)
    assert result.exit_code == 1 and not out["written"] and out["invalid"] == 2
    cells = {(c["sheet"], c["row"], c["column"], c["heading"]) for c in out["bad_cells"]}
    assert cells == {("Пленные", 3, "E", "Дата рождения"), ("Пленные", 4, "F", "Пол")}
    assert any("'X' is not a sex" in c["reason"] for c in out["bad_cells"])
    assert counts(engine)["persons"] == 0
    # The preview names the same cells and writes nothing but its audit entry.
    with Session(engine) as s, s.begin():
        seen = lists.preview(s, "test", path, "ru-bureau")
    assert (seen.rows, seen.good, seen.bad_rows) == (3, 1, 2)
    assert {(c.sheet, c.row, c.letter, c.field) for c in seen.bad_cells} == {
        ("Пленные", 3, "E", "birth_date"),
        ("Пленные", 4, "F", "sex"),
    }
    assert counts(engine)["persons"] == 0


def test_an_unknown_heading_is_mapped_once_then_the_mapping_is_reused(cli, tmp_path, engine) -> None:
    headings = ["Код", "ФИО", "Откуда", "Любимый цвет"]
    rows = [["A-1", "Коваль Игорь Петрович", "Мариуполь", "синий"]]
    sheets = {"Данные": [["пусто"]], "Список": [headings, *rows]}
    path = write_xlsx(tmp_path / "new-layout.xlsx", sheets)
    refused = cli("import", "registry", str(path), "--source", "partner", "--sheet", "Список", ok=False)
    assert refused.exit_code == 1 and "Код" in refused.output and "Любимый цвет" in refused.output
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"Код": "record_id", "Откуда": "residence", "Любимый цвет": ""}))
    out = cli.json(
        "import", "registry", str(path), "--source", "partner", "--sheet", "Список", "--mapping", str(mapping)
    )
    assert out["created"] == 1, out
    assert cli.json("records", "show", "partner:A-1")["residence"] == "Мариуполь"
    with Session(engine) as s:
        saved = s.get(ColumnMapping, "partner")
        assert saved is not None and saved.mapping["Код"] == "record_id"
        assert s.scalar(select(AuditEntry).where(AuditEntry.entity == "column_mapping")) is not None
    # The source's next list, same layout, needs no mapping.
    rows2 = [["A-2", "Савченко Надія", "Київ", "зелёный"]]
    path2 = write_xlsx(tmp_path / "next.xlsx", {"Список": [headings, *rows2]})
    assert cli.json("import", "registry", str(path2), "--source", "partner")["created"] == 1


def test_a_mapping_naming_no_field_is_refused(cli, tmp_path) -> None:
    path = write_xlsx(tmp_path / "l.xlsx", {"S": [["id", "name"], ["1", "Коваль Игорь"]]})
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"name": "colour"}))
    result = cli("import", "registry", str(path), "--source", "s", "--mapping", str(mapping), ok=False)
    assert result.exit_code == 1 and "colour" in result.output


def test_csv_with_russian_headings(cli, write) -> None:
    path = write("ru.csv", "Номер записи,ФИО,Пол\nR-1,Коваль Игорь Петрович,м\n")
    assert cli.json("import", "registry", str(path), "--source", "csv-ru")["created"] == 1


# A row as a registrar's list may hold it: ids, names in any script, partial dates, yes/no, free text.
_letters = st.text(
    alphabet="абвгдеёжзиійїклмнопрстуфхцчшщьюяєґĂăÂâÎîȘșȚțabcxyzABC -'", min_size=1, max_size=30
)
_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85"),
    max_size=40,
)
_row = st.fixed_dictionaries(
    {
        "record_id": st.from_regex(r"[A-Z]{1,3}-[0-9]{1,6}", fullmatch=True),
        "full_name": _letters,
        "birth_date": st.one_of(
            st.just(""),
            st.dates(date(1930, 1, 1), date(2010, 12, 31)).map(str),
            st.integers(1930, 2010).map(str),
        ),
        "sex": st.sampled_from(["", "m", "f", "м", "ж"]),
        "consent_inform_family": st.sampled_from(["", "yes", "no", "да", "ні"]),
        "notes": _text,
        "unit": _text,
    }
)


@settings(deadline=None, max_examples=40)
@given(st.lists(_row, min_size=1, max_size=8, unique_by=lambda r: r["record_id"]))
def test_a_sheet_and_a_csv_of_the_same_rows_give_the_same_records_and_problems(rows: list[dict]) -> None:
    """Whatever the cells hold, the spreadsheet reader gives the validation what the CSV reader gives it:
    the same records, and the same problems."""
    import csv
    import tempfile
    from pathlib import Path

    from kinlink.cells import neutralised
    from kinlink.registry.files import open_list
    from kinlink.registry.imports import validate_rows

    columns = list(rows[0])
    with tempfile.TemporaryDirectory() as tmp:
        sheet = write_xlsx(Path(tmp) / "l.xlsx", {"S": [columns, *[[r[c] for c in columns] for r in rows]]})
        text = Path(tmp) / "l.csv"
        with text.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            # As kinlink writes CSV: a cell that a spreadsheet would run gets a leading quote (kinlink.cells);
            # an XLSX string cell is never run, so it is written as it is.
            writer.writerows([neutralised(r[c]) for c in columns] for r in rows)

        def checked(path: Path, fmt: str) -> list:
            out = []
            for _n, result in validate_rows(open_list(path, fmt)[1], date(2026, 1, 1)):
                out.append(sorted((e.column, e.text) for e in result) if isinstance(result, list) else result)
            return out

        from_sheet, from_csv = checked(sheet, "xlsx"), checked(text, "csv")
    assert from_sheet == from_csv
