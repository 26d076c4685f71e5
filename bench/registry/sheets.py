"""The benchmark's CSV as a bureau's XLSX list: Russian headings (recognised, not mapped), dates as date
cells, written with XlsxWriter in constant memory."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

# The headings a Russian bureau's list uses for the benchmark's columns (kinlink recognises them).
RUSSIAN = {
    "record_id": "№ записи",
    "family_name": "Фамилия",
    "given_names": "Имя",
    "patronymic": "Отчество",
    "sex": "Пол",
    "birth_date": "Дата рождения",
    "rank": "Воинское звание",
    "unit": "Воинская часть",
    "service_number": "Личный номер",
    "status": "Статус",
    "status_date": "Дата статуса",
    "events": "События",
}


def csv_to_xlsx(csv_path: Path, xlsx_path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(xlsx_path), {"constant_memory": True})
    day = book.add_format({"num_format": "dd.mm.yyyy"})
    sheet = book.add_worksheet("Список")
    with csv_path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        columns = [c for c in reader.fieldnames or [] if c in RUSSIAN]
        sheet.write_row(0, 0, [RUSSIAN[c] for c in columns])
        for r, row in enumerate(reader, 1):
            for c, column in enumerate(columns):
                value = row[column]
                if not value:
                    continue
                if column in ("birth_date", "status_date") and len(value) == 10:
                    sheet.write_datetime(r, c, date.fromisoformat(value), day)
                else:
                    sheet.write_string(r, c, value)
    book.close()
