"""The registrar's pages of unidentified remains (issue 21 item 7): a record entered on the form becomes
candidates explained in the reader's language; bad input is shown beside its field; the identification
closes both sides; every read is audited."""

from __future__ import annotations

import re

from sqlalchemy import Engine, select

from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry, Person
from kinlink.store.remains_models import Remains
from kinlink.store.tracing_models import TracingRequest
from tests.support import add_record, file_request

FORM = {
    "sex": "m",
    "age_min": "30",
    "age_max": "40",
    "marks": "tattoo: eagle, left forearm",
    "found_place": "Bucha",
    "found_date": "2022-04-02",
    "recovered_by": "Bucha district police",
}


def test_a_registrar_enters_remains_reads_the_candidates_and_identifies_them(
    engine: Engine, client_for
) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as s:
        person = add_record(
            s, "test",
            {"full_name": "Петренко Іван Васильович", "sex": "m", "birth_date": "1988-05-01",
             "status": "missing", "distinguishing_marks": "орёл на левом предплечье",
             "status_date": "2022-03-05", "place": "Буча"},
        ).id  # fmt: skip
        req, _secret = file_request(
            s, "test",
            {"full_name": "Петренко Іван", "birth_date": "1988", "capture_place": "Буча",
             "enquirer_name": "Олена", "last_seen": "тату: орел на лівому передпліччі", "agree": True},
            match=False,
        )  # fmt: skip
        request = req.id
    reg = client_for("registrar", lang="uk")
    bad = reg.form("/remains/new", {**FORM, "age_max": "20"})
    assert bad.status_code == 422 and 'id="age_max-error"' in bad.text
    r = reg.form("/remains/new", FORM)
    assert r.status_code == 303
    where = r.headers["location"].split("?")[0]
    page = reg.get(where)
    assert page.status_code == 200
    assert "та сама прикмета на тому самому місці тіла" in page.text  # the evidence, in Ukrainian
    assert "Петренко Іван Васильович" in page.text
    ids = re.findall(r'name="candidate_id" value="(\d+)"', page.text)
    assert len(ids) == 2
    assert reg.get("/remains").status_code == 200
    # A caseworker is not a registrar: nothing about remains for them.
    cw = client_for("caseworker")
    assert cw.get(where).status_code == 403
    assert "Це не ця людина" in page.text
    no_reason = reg.form(f"{where}/candidates/{ids[0]}/reject", {"reason": " "})
    assert no_reason.status_code == 422 and 'id="reason-error"' in no_reason.text
    done = reg.form(
        where + "/identify",
        {"candidate_id": ids, "reason": "the tattoo and DNA agree", "source": "DNA report 2022/114"},
    )
    assert done.status_code == 303
    with unit_of_work(engine) as s:
        rem = s.scalar(select(Remains))
        assert rem is not None and rem.state == "identified" and rem.identified_person_id == person
        p = s.get(Person, person)
        assert p is not None and p.status == "dead"
        got = s.get(TracingRequest, request)
        assert got is not None and got.state == "matched"
        reads = {
            (e.entity, e.action) for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "read"))
        }
        assert {("remains", "read"), ("remains_candidate", "read")} <= reads


def test_the_api_adds_reads_and_identifies_remains(engine: Engine, server, staff) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from kinlink.accounts import tokens, users

    with unit_of_work(engine) as s:
        person = add_record(
            s, "test",
            {"full_name": "Петренко Іван", "sex": "m", "birth_date": "1988-05-01", "status": "missing",
             "distinguishing_marks": "орёл на левом предплечье", "status_date": "2022-03-05"},
        ).id  # fmt: skip
        token = tokens.create_token(s, "test", users.find_user(s, staff["registrar"][0]).id, "api")[1]
    api = httpx.Client(
        base_url=server.url + "/api/v1", headers={"authorization": f"Bearer {token}"}, timeout=30
    )
    try:
        bad = api.post("/remains", json={**FORM, "height_min": "9000"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "height_min"
        made = api.post("/remains", json=FORM)
        assert made.status_code == 201 and made.json()["candidates"] == 1
        rid = made.json()["id"]
        read = api.get(f"/remains/{rid}").json()
        (cand,) = read["candidates"]
        assert cand["person_id"] == person
        assert cand["explanation"]["marks"]["level"] == "mark_and_place"
        assert [r["id"] for r in api.get("/remains", params={"state": "unidentified"}).json()] == [rid]
        done = api.post(
            f"/remains/{rid}/identification",
            json={"candidate_ids": [cand["id"]], "reason": "DNA", "source": "DNA report 2022/114"},
        )
        assert done.status_code == 200 and done.json()["state"] == "identified"
        again = api.post(
            f"/remains/{rid}/identification",
            json={"candidate_ids": [cand["id"]], "reason": "x", "source": "y"},
        )
        assert again.status_code == 409
    finally:
        api.close()
