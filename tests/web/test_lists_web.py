"""The registrar's import page for official lists (issue 21, item 1), through the real server: upload,
the columns mapped (prefilled from the headings, then from the source's saved mapping), every bad cell
named in the reader's language, the corrected file imported in the background with its progress, the
audit written as the importer writes it; anyone but a registrar is refused (tests/web/test_roles.py)."""

from __future__ import annotations

import json
import re
import time
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.registry import list_jobs
from kinlink.store.models import AuditEntry, Person
from tests.registry.workbooks import write_xlsx

HEADINGS = ["№", "Фамилия", "Имя", "Отчество", "Дата рождения", "Пол", "Статус", "Откуда родом"]


def _rows(bad: bool) -> list[list[object]]:
    rows: list[list[object]] = [
        [n, f"Иванов{n}", "Пётр", "Сергеевич", date(1990, 1, 1 + n % 28), "м", "captured", "Курск"]
        for n in range(1, 41)
    ]
    if bad:
        rows[9][4] = "1990-13-01"  # row 11 of the sheet: no 13th month
    return rows


def _upload(client, tmp_path, name: str, bad: bool):  # type: ignore[no-untyped-def]
    path = write_xlsx(tmp_path / name, {"Лист1": [HEADINGS, *_rows(bad)]})
    with path.open("rb") as f:
        r = client.post(
            "/imports",
            data={"csrf_token": client.csrf(), "source": "ru-list"},
            files={"file": (name, f, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
        )
    assert r.status_code == 303, r.text
    return r.headers["location"]


def _selected(html: str) -> dict[str, str]:
    """heading -> the field chosen for it on the mapping page."""
    out = {}
    for m in re.finditer(r'<label for="(col\d+)">([^<]*)</label>.*?<select[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="(\w*)" selected>', m.group(3))
        out[m.group(2)] = chosen.group(1) if chosen else ""
    return out


def _previewed(reg, token: str, form: dict[str, str]):  # type: ignore[no-untyped-def]
    """The preview asked for: it runs in the background, its progress in progress.json, then its page."""
    asked = reg.form(f"/imports/{token}/preview", form)
    assert asked.status_code == 303 and asked.headers["location"] == f"/imports/{token}/preview"
    deadline = time.monotonic() + 120
    while (state := reg.get(f"/imports/{token}/progress.json").json())["preview"]["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert state["preview"]["state"] == "done", state
    assert state["preview"]["checked"] == state["preview"]["rows"] == 40
    page = reg.get(f"/imports/{token}/preview")
    assert 'http-equiv="refresh"' not in page.text
    return page


def test_map_preview_fix_and_import_with_progress(client_for, tmp_path, engine) -> None:
    reg = client_for("registrar", "ru")
    where = _upload(reg, tmp_path, "список.xlsx", bad=True)
    page = reg.get(where)
    assert page.status_code == 200
    chosen = _selected(page.text)
    assert chosen["Фамилия"] == "family_name" and chosen["Дата рождения"] == "birth_date"
    assert chosen["Откуда родом"] == ""  # not recognised: the registrar maps it
    form = {f"col{i}": chosen[h] for i, h in enumerate(HEADINGS)}
    form["col7"] = "place_of_birth"
    token = where.rsplit("/", 1)[1]
    preview = _previewed(reg, token, {**form, "sheet": "Лист1"})
    assert preview.status_code == 200
    assert "40" in preview.text
    bad = re.findall(
        r"<tr><td>Лист1</td><td>(\d+)</td><td>(\w+) · ([^<]+)</td>\s*<td>([^<]+)</td>", preview.text
    )
    assert [(row, col, heading) for row, col, heading, _ in bad] == [("11", "E", "Дата рождения")]
    assert "нет месяца" in bad[0][3] or "1990-13-01" in bad[0][3]  # the reason, in Russian
    assert f"/imports/{token}/start" not in preview.text  # nothing can be imported yet
    with Session(engine) as s:
        assert s.scalar(select(Person)) is None

    # The corrected file: the saved mapping fills in what was mapped by hand.
    where = _upload(reg, tmp_path, "список-исправленный.xlsx", bad=False)
    chosen = _selected(reg.get(where).text)
    assert chosen["Откуда родом"] == "place_of_birth"
    token = where.rsplit("/", 1)[1]
    form = {f"col{i}": chosen[h] for i, h in enumerate(HEADINGS)}
    preview = _previewed(reg, token, {**form, "sheet": "Лист1"})
    assert f"/imports/{token}/start" in preview.text and 'id="bad-cells"' not in preview.text
    assert reg.form(f"/imports/{token}/start").status_code == 303
    deadline = time.monotonic() + 120
    while (state := reg.get(f"/imports/{token}/progress.json").json())["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert state["state"] == "done" and state["percent"] == 100, state
    assert state["result"]["created"] == 40
    done = reg.get(f"/imports/{token}/progress")
    assert 'id="import-done"' in done.text and 'http-equiv="refresh"' not in done.text
    with Session(engine) as s:
        people = s.scalars(select(Person).where(Person.source_record_id == "1")).all()
        assert len(people) == 1 and people[0].place_of_birth == "Курск"
        actions = {(a.action, a.entity) for a in s.scalars(select(AuditEntry))}
        assert {("import", "import_run"), ("preview", "import_file"), ("update", "column_mapping")} <= actions
    # Started again, the same import is not run twice.
    assert reg.form(f"/imports/{token}/start").status_code == 303


def test_what_is_not_a_list_is_refused(client_for) -> None:
    reg = client_for("registrar", "uk")
    r = reg.post(
        "/imports",
        data={"csrf_token": reg.csrf(), "source": "x"},
        files={"file": ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 10, "image/jpeg")},
    )
    assert r.status_code == 422 and "XLSX" in r.text
    assert reg.get("/imports/" + "a" * 32).status_code == 404


def test_a_preview_being_checked_shows_its_progress_and_holds_the_import(client_for, tmp_path) -> None:
    """While its rows are checked in the background the preview page states how far it is (in the reader's
    language) and refreshes itself only when the registrar asks for it; progress.json tells the rows
    checked, and the import cannot start."""
    reg = client_for("registrar", "uk")
    token = _upload(reg, tmp_path, "список.xlsx", bad=False).rsplit("/", 1)[1]
    assert reg.get(f"/imports/{token}/preview").headers["location"] == f"/imports/{token}"  # not asked yet
    _forge(token, check="running", checked=500)
    page = reg.get(f"/imports/{token}/preview")
    assert page.status_code == 200
    _follows_on_request(page.text, f"/imports/{token}/preview", "preview-status")
    assert 'id="preview-progress"' in page.text and "Перевірено рядків: 500" in page.text
    told = reg.get(f"/imports/{token}/progress.json").json()
    assert told["preview"] == {"state": "running", "checked": 500}
    started = reg.form(f"/imports/{token}/start")
    assert started.status_code == 303 and started.headers["location"] == f"/imports/{token}/preview"
    assert reg.form(f"/imports/{token}/preview", {}).headers["location"] == f"/imports/{token}/preview"
    assert not (list_jobs.job_root() / token / "started").exists()
    _refreshes_when_asked(reg.get(f"/imports/{token}/preview?auto=1").text, f"/imports/{token}/preview")
    _forge(token, check="done", checked=40, preview={"rows": 40, "good": 40, "bad_rows": 0, "bad_cells": []})
    done = reg.get(f"/imports/{token}/preview?auto=1")  # asked for, but the check is over: nothing to follow
    assert 'id="preview-counts"' in done.text and 'http-equiv="refresh"' not in done.text


def test_an_import_running_shows_its_progress_and_refreshes_only_when_asked(client_for, tmp_path) -> None:
    reg = client_for("registrar", "ru")
    token = _upload(reg, tmp_path, "список.xlsx", bad=False).rsplit("/", 1)[1]
    _forge(token, state="running", done=1000, total=5000)
    page = reg.get(f"/imports/{token}/progress")
    assert page.status_code == 200
    _follows_on_request(page.text, f"/imports/{token}/progress", "import-status")
    assert "1000 из 5000" in page.text and 'value="20"' in page.text
    _refreshes_when_asked(reg.get(f"/imports/{token}/progress?auto=1").text, f"/imports/{token}/progress")
    assert reg.get(f"/imports/{token}/progress?auto=maybe").status_code == 422


def _forge(token: str, **state: object) -> None:
    """The job's state as the background worker would have written it (the work itself is not run)."""
    state_file = list_jobs.job_root() / token / "job.json"
    job = json.loads(state_file.read_text(encoding="utf-8"))
    state_file.write_text(json.dumps({**job, **state}), encoding="utf-8")


def _follows_on_request(html: str, here: str, status: str) -> None:
    """By default a page following a job never refreshes itself (WCAG 2.2.1): it says how far the job is in
    a status region, with a link to check again and one to ask for the automatic refresh."""
    assert 'http-equiv="refresh"' not in html
    assert re.search(rf'<div role="status" id="{status}">\s*<p>[^<]+</p>', html), html
    assert f'id="check-again" href="{here}"' in html
    assert f'id="refresh-auto" href="{here}?auto=1"' in html


def _refreshes_when_asked(html: str, here: str) -> None:
    """Asked for (?auto=1), the page refreshes itself (its own URL: the choice stays), and can be stopped."""
    assert re.search(r'<meta http-equiv="refresh" content="\d+">', html)
    assert f'id="refresh-stop" href="{here}"' in html and 'id="check-again"' not in html
