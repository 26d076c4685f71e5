"""The REST API over real HTTP: tokens, JSON errors naming the field, records, sightings, the family
endpoints, candidates and decisions, messages, users."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kinlink.accounts import tokens, users
from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry


@pytest.fixture
def api(engine: Engine, server, staff):  # type: ignore[no-untyped-def]
    """role -> an httpx client with that role's bearer token."""
    clients = {}
    with unit_of_work(engine) as s:
        for role, (username, _pw) in staff.items():
            _row, token = tokens.create_token(s, "test", users.find_user(s, username).id, "tests")
            clients[role] = httpx.Client(
                base_url=server.url + "/api/v1", timeout=30, headers={"authorization": f"Bearer {token}"}
            )
    clients["anonymous"] = httpx.Client(base_url=server.url + "/api/v1", timeout=30)
    yield clients
    for c in clients.values():
        c.close()


def test_openapi_lists_the_api(server) -> None:  # type: ignore[no-untyped-def]
    spec = httpx.get(server.url + "/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/records", "/api/v1/candidates/{candidate_id}/decision", "/api/v1/pfif"} <= set(
        spec["paths"]
    )
    assert not [p for p in spec["paths"] if not p.startswith("/api/v1/")]  # pages are not API


def test_tokens(api, engine: Engine, staff) -> None:  # type: ignore[no-untyped-def]
    assert api["anonymous"].get("/records").status_code == 401
    bad = httpx.get(
        str(api["anonymous"].base_url).rstrip("/") + "/records", headers={"authorization": "Bearer kl_nope"}
    )
    assert bad.status_code == 401 and bad.json()["error"]["message"]
    assert api["registrar"].get("/me").json()["role"] == "registrar"
    # A role change ends the user's tokens.
    with unit_of_work(engine) as s:
        users.update_user(s, "test", users.find_user(s, staff["registrar"][0]).id, role="caseworker")
    assert api["registrar"].get("/me").status_code == 401


def test_records_errors_name_the_field(api) -> None:  # type: ignore[no-untyped-def]
    reg = api["registrar"]
    r = reg.post("/records", json={"full_name": "Ковальчук Андрій", "birth_date": "1890-13", "sex": "x"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["field"] in ("birth_date", "sex") and {e["field"] for e in err["errors"]} == {
        "birth_date",
        "sex",
    }
    r = reg.post("/records", json={"full_name": "Ковальчук Андрій", "bogus": 1})
    assert r.status_code == 422 and r.json()["error"]["field"] == "bogus"

    r = reg.post(
        "/records",
        json={
            "record_id": "K-1",
            "full_name": "Ковальчук Андрій Петрович",
            "birth_date": "1991",
            "status": "captured",
            "status_date": "2023-05-01",
            "place": "Кліщіївка",
        },
    )
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["status"] == "captured" and rec["events"][0]["place"] == "Кліщіївка"
    assert (
        reg.post("/records", json={"record_id": "K-1", "full_name": "Дубль"}).json()["error"]["field"]
        == "record_id"
    )

    pid, version = rec["id"], rec["version"]
    r = reg.put(f"/records/{pid}", json={"unit": "93 ОМБр", "version": version})
    assert r.status_code == 200 and r.json()["unit"] == "93 ОМБр"
    stale = reg.put(f"/records/{pid}", json={"unit": "92 ОМБр", "version": version})
    assert stale.status_code == 409 and stale.json()["error"]["field"] == "version"

    r = reg.post(f"/records/{pid}/events", json={"kind": "hospitalized", "date": "2023-06-01"})
    assert r.status_code == 201 and r.json()["status"] == "hospitalised"
    assert reg.post(f"/records/{pid}/events", json={"kind": "vanished"}).json()["error"]["field"] == "kind"
    future = reg.post(f"/records/{pid}/events", json={"kind": "released", "date": "2091-01-01"})
    assert future.status_code == 422 and future.json()["error"]["field"] == "date"
    # Consent is recorded with when it was given and who said so, how; without them it is refused.
    r = reg.put(f"/records/{pid}/consent", json={"consent_inform_family": True})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["error"]["errors"]} == {"given_on", "given_by", "given_how"}
    source = {
        "given_on": "2023-06-02",
        "given_by": "the person, to an ICRC delegate",
        "given_how": "in_person",
    }
    r = reg.put(f"/records/{pid}/consent", json={"consent_inform_family": True, **source})
    assert r.json()["consent"]["consent_inform_family"] is True

    cw = api["caseworker"]
    assert cw.put(f"/records/{pid}", json={"unit": "x", "version": 1}).status_code == 403
    hits = cw.get("/records", params={"q": "Kovalchuk Andrii"}).json()
    # Found across scripts by the matcher (plain text search could not find Latin in Cyrillic).
    assert hits and hits[0]["id"] == pid and hits[0]["probability"] is not None
    assert cw.get(f"/records/{pid}").json()["fields"]["rank"] is None
    assert cw.get("/records/999999").json()["error"]["field"] == "person_id"


def test_reads_of_a_record_are_audited(api, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    pid = api["registrar"].post("/records", json={"full_name": "Аудит Читання"}).json()["id"]
    api["caseworker"].get(f"/records/{pid}")
    with Session(engine) as s:
        reads = list(
            s.scalars(select(AuditEntry).where(AuditEntry.action == "read", AuditEntry.entity_id == str(pid)))
        )
    assert [r.actor for r in reads] == ["web:demo-caseworker"]


def test_sightings_and_documents(api) -> None:  # type: ignore[no-untyped-def]
    cw = api["caseworker"]
    r = cw.post(
        "/sightings",
        json={
            "source": "t.me/example",
            "full_name": "Бондаренко Максим",
            "status": "killed",
            "date": "2024-02-10",
            "place": "Авдіївка",
            "url": "https://t.me/example/1",
        },
    )
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["status"] == "dead" and s["source"] == "report:t.me/example"
    assert [x["id"] for x in cw.get("/sightings").json()] == [s["id"]]
    reg = api["registrar"]
    pdf = b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n"
    r = reg.post(
        f"/records/{s['id']}/attachments",
        data={"kind": "document"},
        files={"file": ("../../etc/passwd.pdf", pdf, "text/plain")},
    )
    assert r.status_code == 422 and "a path" in r.json()["error"]["message"]  # refused, not renamed
    r = reg.post(
        f"/records/{s['id']}/attachments",
        data={"kind": "document"},
        files={"file": ("протокол.pdf", pdf, "text/plain")},
    )
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["content_type"] == "application/pdf" and att["file_name"] == "протокол.pdf"
    assert cw.get(f"/attachments/{att['id']}").content == pdf
    r = reg.post(f"/records/{s['id']}/attachments", data={"kind": "photo"}, files={"file": ("a.pdf", pdf)})
    assert r.status_code == 422 and r.json()["error"]["field"] == "file"


def test_family_and_caseworker_over_the_api(api, mailbox) -> None:  # type: ignore[no-untyped-def]
    reg, cw, anon = api["registrar"], api["caseworker"], api["anonymous"]
    pid = reg.post(
        "/records",
        json={
            "full_name": "Мельник Олександр Іванович",
            "birth_date": "1988-07-14",
            "status": "interned",
            "location": "СИЗО-2",
            "consent_inform_family": True,
            "consent_share_location": True,
        },
    ).json()["id"]
    r = anon.post(
        "/requests",
        json={
            "full_name": "Мельник Александр Иванович",
            "birth_date": "1988",
            "enquirer_name": "Мельник Ирина",
            "contact": "irina@example.org",
            "language": "ru",
            "agree": True,
        },
    )
    assert r.status_code == 201, r.text
    filed = r.json()
    assert filed["emailed"] is True
    creds = {"reference": filed["reference"], "secret": filed["secret"]}
    assert anon.post("/requests/status", json=creds).json()["stage"] == "in_progress"
    wrong = anon.post("/requests/status", json={**creds, "secret": "guess"})
    assert wrong.status_code == 401 and wrong.json()["error"]["field"] == "secret"
    bad = anon.post("/requests", json={"full_name": "", "enquirer_name": "X", "agree": False})
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["error"]["errors"]} == {
        "full_name",
        "agree",
    }

    queue = cw.get("/candidates").json()
    cand = next(c for c in queue if c["person_id"] == pid)
    detail = cw.get(f"/candidates/{cand['id']}").json()
    assert {row["field"] for row in detail["comparison"]} >= {"name", "birth"}
    assert any(ev["field"] == "family_name" for row in detail["comparison"] for ev in row["evidence"])
    # Evidence as data: the message id and its values, the English text, and the text in the language asked.
    family = next(
        ev for row in detail["comparison"] for ev in row["evidence"] if ev["field"] == "family_name"
    )
    assert family["text"].startswith("same family name") and family["message"]["text"] == family["text"]
    assert family["message"]["id"] == "%(evidence)s; %(count)s of %(population)s records share it"
    assert family["message"]["values"]["evidence"]["values"]["evidence"] == {
        "id": "same family name",
        "values": {},
    }
    assert "100.0" not in detail["likelihood"]["text"] and detail["likelihood"]["text"].endswith("%)")
    in_uk = cw.get(f"/candidates/{cand['id']}", headers={"Accept-Language": "uk"}).json()
    family_uk = next(
        ev for row in in_uk["comparison"] for ev in row["evidence"] if ev["field"] == "family_name"
    )
    assert family_uk["text"] == family["text"] and family_uk["message"]["text"].startswith("те саме прізвище")
    listed = cw.get("/candidates", headers={"Accept-Language": "ru"}).json()
    assert next(c for c in listed if c["id"] == cand["id"])["explanation"]["family_name"]["message"][
        "text"
    ].startswith("та же фамилия")
    r = cw.post(
        f"/candidates/{cand['id']}/decision", json={"decision": "rejected", "version": cand["version"]}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"
    r = cw.post(  # a confirmation needs its reason too: what a family is told follows from it
        f"/candidates/{cand['id']}/decision", json={"decision": "confirmed", "version": cand["version"]}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"
    r = cw.post(
        f"/candidates/{cand['id']}/decision",
        json={"decision": "confirmed", "reason": "same DOB", "version": cand["version"] + 5},
    )
    assert r.status_code == 409 and r.json()["error"]["field"] == "version"
    r = cw.post(
        f"/candidates/{cand['id']}/decision",
        json={"decision": "confirmed", "reason": "same DOB", "version": cand["version"]},
    )
    assert r.status_code == 200 and r.json()["state"] == "confirmed"

    # Confirmed, consented: still only "being handled" until a caseworker has verified the enquirer.
    status = anon.post("/requests/status", json=creds).json()
    assert status["stage"] == "in_progress" and status["items"] == {} and status["verified"] is False
    req_id = next(x["id"] for x in cw.get("/requests").json() if x["reference"] == filed["reference"])
    assert cw.get(f"/requests/{req_id}/verification").status_code == 404
    r = cw.post(f"/requests/{req_id}/verification", json={"method": "call_back", "relationship": "мать"})
    assert r.status_code == 201 and r.json()["method"] == "call_back", r.text

    status = anon.post("/requests/status", json=creds).json()
    assert status["stage"] == "found" and status["items"]["location"] == "СИЗО-2"
    assert status["verified"] is True
    disclosures = cw.get(f"/requests/{req_id}/disclosures").json()
    assert len(disclosures) == 1 and disclosures[0]["channel"] == "api"
    assert disclosures[0]["consent"]["share_location"] is True
    mailbox.wait_for(2)


def test_users_admin(api, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    admin = api["admin"]
    r = admin.post("/users", json={"username": "Olena", "password": "short", "role": "caseworker"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "password"
    r = admin.post("/users", json={"username": "Olena", "password": "long enough pass", "role": "caseworker"})
    assert r.status_code == 201 and r.json()["username"] == "olena"
    uid = r.json()["id"]
    assert (
        admin.post(
            "/users", json={"username": "olena", "password": "long enough pass", "role": "admin"}
        ).status_code
        == 409
    )
    # Issue 16 item 3: an admin no longer mints a token for someone else; the operator bootstraps it.
    assert admin.post(f"/users/{uid}/tokens", json={"name": "laptop"}).status_code == 403
    with unit_of_work(engine) as s:
        token = tokens.create_token(s, "cli:operator", uid, "laptop", by_user_id=None)[1]
    me = httpx.get(
        str(admin.base_url).rstrip("/") + "/me", headers={"authorization": f"Bearer {token}"}
    ).json()
    assert me["role"] == "caseworker"
    assert admin.patch(f"/users/{uid}", json={"active": False}).json()["active"] is False
    assert (
        httpx.get(
            str(admin.base_url).rstrip("/") + "/me", headers={"authorization": f"Bearer {token}"}
        ).status_code
        == 401
    )
    me_id = admin.get("/me").json()["id"]
    assert admin.patch(f"/users/{me_id}", json={"role": "registrar"}).status_code == 422
    assert api["registrar"].get("/users").status_code == 403


def test_a_file_is_named_for_the_type_its_content_has(api) -> None:  # type: ignore[no-untyped-def]
    reg, cw = api["registrar"], api["caseworker"]
    pid = reg.post("/records", json={"full_name": "Поліщук Марко"}).json()["id"]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    pdf = b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n"
    for sent, ctype, data, kept in [
        ("poly.html", "text/html", png, "poly.png"),
        ("photo", "image/png", png, "photo.png"),
        ("скан.JPEG.svg", "image/svg+xml", png, "скан.JPEG.png"),
        ("акт 12.05.2022", "application/pdf", pdf, "акт 12.05.2022.pdf"),
        ("протокол.PDF", "application/pdf", pdf, "протокол.PDF"),
    ]:
        r = reg.post(
            f"/records/{pid}/attachments", data={"kind": "document"}, files={"file": (sent, data, ctype)}
        )
        assert r.status_code == 201, r.text
        assert r.json()["file_name"] == kept
        got = cw.get(f"/attachments/{r.json()['id']}")
        assert got.headers["content-type"] == ("image/png" if data == png else "application/pdf")
        disposition = got.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert ".html" not in disposition and ".svg" not in disposition
