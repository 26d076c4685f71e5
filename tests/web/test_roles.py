"""Every route, every role: the role check is on every route, and nothing about a person held is reachable
without a staff role (or, for a family, its own request's reference and secret).

The policy below is written out by hand: a route added without an entry here fails the test.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.routing import Route

from kinlink.accounts import tokens as api_tokens
from kinlink.accounts import users
from kinlink.registry import attachments
from kinlink.registry.certificates import issue_certificate
from kinlink.registry.remains import add_remains
from kinlink.store.casework_models import Message
from kinlink.store.db import unit_of_work
from kinlink.store.report_models import Document
from kinlink.tracing.candidates import list_candidates
from kinlink.tracing.continuous import after_records_written
from tests.support import MATCHING, add_record, file_request
from tests.web.helpers import Client

ANON, FAMILY, REG, CW, ADMIN = "anonymous", "family", "registrar", "caseworker", "admin"
ALL = {ANON, FAMILY, REG, CW, ADMIN}
STAFF = {REG, CW, ADMIN}
READ = {REG, CW}

PAGES: dict[tuple[str, str], set[str]] = {
    ("GET", "/"): ALL,
    ("GET", "/healthz"): ALL,
    ("GET", "/style.css"): ALL,
    ("GET", "/lang/{code}"): ALL,
    ("GET", "/login"): ALL,
    ("POST", "/login"): ALL,
    ("POST", "/logout"): ALL,
    ("GET", "/staff"): ALL,
    ("GET", "/request"): ALL,
    ("POST", "/request"): ALL,
    ("GET", "/track"): ALL,
    ("POST", "/track"): ALL,
    ("GET", "/family"): {FAMILY},
    ("POST", "/family/messages"): {FAMILY},
    ("GET", "/family/photo"): {FAMILY},
    ("GET", "/records"): READ,
    ("GET", "/records/{person_id}"): READ,
    ("GET", "/attachments/{attachment_id}"): READ,
    ("GET", "/documents/{document_id}"): READ,
    ("GET", "/records/new"): {REG},
    ("POST", "/records/new"): {REG},
    ("GET", "/records/{person_id}/edit"): {REG},
    ("POST", "/records/{person_id}/edit"): {REG},
    ("POST", "/records/{person_id}/events"): {REG},
    ("POST", "/records/{person_id}/consent"): {REG},
    ("POST", "/records/{person_id}/death-disclosure"): {REG},
    ("POST", "/records/{person_id}/attachments"): {REG},
    ("POST", "/records/{person_id}/messages"): {REG},
    ("GET", "/imports"): {REG},
    ("POST", "/imports"): {REG},
    ("GET", "/imports/{token}"): {REG},
    ("POST", "/imports/{token}/preview"): {REG},
    ("GET", "/imports/{token}/preview"): {REG},
    ("POST", "/imports/{token}/start"): {REG},
    ("GET", "/imports/{token}/progress"): {REG},
    ("GET", "/imports/{token}/progress.json"): {REG},
    ("GET", "/queue"): {CW},
    ("GET", "/candidates/{candidate_id}"): {CW},
    ("POST", "/candidates/{candidate_id}/decision"): {CW},
    ("GET", "/cases"): {CW},
    ("GET", "/cases/{request_id}"): {CW},
    ("GET", "/messages"): {CW},
    ("POST", "/messages/{message_id}/review"): {CW},
    ("POST", "/messages/{message_id}/delivered"): {CW},
    ("POST", "/cases/{request_id}/verification"): {CW},
    ("POST", "/cases/{request_id}/verification/withdraw"): {CW},
    ("GET", "/records/{person_id}/cards/{kind}"): {REG},
    ("POST", "/records/{person_id}/certificate"): {CW},
    ("POST", "/cases/{request_id}/certificate"): {CW},
    ("POST", "/certificates/{certificate_id}/revoke"): {CW},
    # Anyone may check a certificate's code: the answer says only whether it is genuine and current.
    ("GET", "/verify"): ALL,
    ("POST", "/verify"): ALL,
    ("GET", "/verify/{code}"): ALL,
    ("GET", "/admin/users"): {ADMIN},
    ("POST", "/admin/users"): {ADMIN},
    ("POST", "/admin/users/{user_id}"): {ADMIN},
    ("GET", "/remains"): {REG},
    ("GET", "/remains/new"): {REG},
    ("POST", "/remains/new"): {REG},
    ("GET", "/remains/{remains_id}"): {REG},
    ("POST", "/remains/{remains_id}/identify"): {REG},
    ("POST", "/remains/{remains_id}/candidates/{candidate_id}/reject"): {REG},
    ("GET", "/account"): STAFF,
    ("POST", "/account/tokens"): STAFF,
    ("POST", "/account/tokens/{token_id}/revoke"): STAFF,
}
A = "/api/v1"
API: dict[tuple[str, str], set[str]] = {
    ("GET", "/openapi.json"): ALL,
    ("GET", f"{A}/records"): READ,
    ("POST", f"{A}/records"): {REG},
    ("GET", f"{A}/records/{{person_id}}"): READ,
    ("PUT", f"{A}/records/{{person_id}}"): {REG},
    ("GET", f"{A}/records/{{person_id}}/events"): READ,
    ("POST", f"{A}/records/{{person_id}}/events"): {REG},
    ("PUT", f"{A}/records/{{person_id}}/consent"): {REG},
    ("PUT", f"{A}/records/{{person_id}}/death-disclosure"): {REG},
    ("GET", f"{A}/records/{{person_id}}/attachments"): READ,
    ("POST", f"{A}/records/{{person_id}}/attachments"): {REG},
    ("GET", f"{A}/attachments/{{attachment_id}}"): READ,
    ("POST", f"{A}/records/{{person_id}}/messages"): {REG},
    ("GET", f"{A}/sightings"): READ,
    ("POST", f"{A}/sightings"): {REG, CW},
    ("POST", f"{A}/requests"): ALL,
    ("POST", f"{A}/requests/status"): ALL,
    ("GET", f"{A}/requests"): {CW},
    ("GET", f"{A}/requests/{{request_id}}"): {CW},
    ("GET", f"{A}/requests/{{request_id}}/disclosures"): {CW},
    ("GET", f"{A}/candidates"): {CW},
    ("GET", f"{A}/candidates/{{candidate_id}}"): {CW},
    ("POST", f"{A}/candidates/{{candidate_id}}/decision"): {CW},
    ("GET", f"{A}/messages"): {CW},
    ("POST", f"{A}/messages/{{message_id}}/review"): {CW},
    ("POST", f"{A}/messages/{{message_id}}/delivered"): {CW},
    ("GET", f"{A}/me"): STAFF,
    ("GET", f"{A}/users"): {ADMIN},
    ("POST", f"{A}/users"): {ADMIN},
    ("PATCH", f"{A}/users/{{user_id}}"): {ADMIN},
    # Nobody may mint a credential for someone else (the user in the path is another one).
    ("POST", f"{A}/users/{{user_id}}/tokens"): set(),
    ("GET", f"{A}/pfif"): {REG},
    ("POST", f"{A}/pfif"): {REG},
    ("GET", f"{A}/requests/{{request_id}}/verification"): {CW},
    ("POST", f"{A}/requests/{{request_id}}/verification"): {CW},
    ("POST", f"{A}/requests/{{request_id}}/verification/withdraw"): {CW},
    ("GET", f"{A}/records/{{person_id}}/cards/{{kind}}"): {REG},
    ("POST", f"{A}/certificates"): {CW},
    ("POST", f"{A}/certificates/{{certificate_id}}/revoke"): {CW},
    ("GET", f"{A}/remains"): {REG},
    ("POST", f"{A}/remains"): {REG},
    ("GET", f"{A}/remains/{{remains_id}}"): {REG},
    ("POST", f"{A}/remains/{{remains_id}}/identification"): {REG},
}
PERSON_NAME = "Сидоренко Остап"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def _routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    out = []
    for route in app.routes:
        assert isinstance(route, Route), f"unexpected entry in app.routes: {route!r}"
        out.extend((m, route.path) for m in sorted(route.methods or ()) if m != "HEAD")
    return out


@pytest.fixture
def world(engine: Engine, server, staff) -> dict:  # type: ignore[no-untyped-def]
    """One of everything a route can name, made through the services."""
    with unit_of_work(engine) as s:
        person = add_record(
            s,
            "test",
            {
                "full_name": PERSON_NAME,
                "birth_date": "1990",
                "status": "captured",
                "consent_inform_family": True,
            },
        )
        after_records_written(s, "test", [person.id], MATCHING)
        req, secret = file_request(
            s,
            "test",
            {
                "full_name": PERSON_NAME,
                "birth_date": "1990",
                "enquirer_name": "Сидоренко Марія",
                "agree": "on",
            },
        )
        cands = list_candidates(s, request_id=req.id)
        assert cands, "the matcher found no candidate for the same name and birth year"
        other, other_secret = file_request(
            s, "test", {"full_name": "Іваненко Петро", "enquirer_name": "Іваненко Ольга", "agree": "on"}
        )
        s.add(
            Message(
                request_id=req.id,
                person_id=person.id,
                direction="to_person",
                body="привіт",
                entered_by="test",
            )
        )
        att = attachments.add(s, "test", person.id, "photo", "p.jpg", JPEG, 10_000)
        doc = Document(
            sha256="0" * 64,
            kind="text",
            path="report.txt",
            text=f"{PERSON_NAME} was captured.",
            ingested_by="test",
        )
        s.add(doc)
        s.flush()
        target = users.create_user(s, "test", "walk-target", "walk-target-pass", "registrar")
        tokens = {
            role: api_tokens.create_token(s, "test", users.find_user(s, staff[role][0]).id, "walk")[1]
            for role in STAFF
        }
        tok_row, _ = api_tokens.create_token(s, "test", target.id, "other")
        cert = issue_certificate(s, "test", str(person.id), base_url="http://kinlink.test", recipient="Марія")
        found = {"found_date": "2022-04-02", "recovered_by": "a search team"}
        remains = add_remains(s, "test", found, matching=MATCHING).remains[0]
        ids = {
            "person_id": person.id,
            "candidate_id": cands[0].id,
            "request_id": req.id,
            "message_id": s.query(Message).first().id,
            "attachment_id": att.id,
            "document_id": doc.id,
            "user_id": target.id,
            "token_id": tok_row.id,
            "code": "ru",
            "kind": "capture",
            "certificate_id": cert.certificate.id,
            "remains_id": remains.id,
            "token": "t" * 32,  # no such import: a registrar is told so, anyone else is refused first
        }
    return {
        "ids": ids,
        "tokens": tokens,
        "family": (other.reference, other_secret),
        "checked": (req.reference, secret),
    }


def _url(path: str, ids: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)


def _clients(server, staff, world) -> dict[str, Client]:  # type: ignore[no-untyped-def]
    clients = {role: Client(server.url) for role in ALL}
    for role in STAFF:
        clients[role].sign_in(*staff[role])
    fam = clients[FAMILY]
    assert fam.track(*world["family"]).status_code == 303
    return clients


def test_every_route_is_in_the_policy(server) -> None:  # type: ignore[no-untyped-def]
    routes = set(_routes(server.app))
    assert routes == set(PAGES) | set(API)


def test_every_route_with_every_role(server, staff, world) -> None:  # type: ignore[no-untyped-def]
    clients = _clients(server, staff, world)
    ids = world["ids"]
    checked = 0
    try:
        for method, path in _routes(server.app):
            if (method, path) == ("POST", "/logout"):
                continue  # it would end the session the walk goes on with; tested below
            is_api = (method, path) in API
            allowed = API[(method, path)] if is_api else PAGES[(method, path)]
            for role, client in clients.items():
                url = _url(path, ids)
                kw: dict = {}
                if is_api:
                    headers = {"authorization": f"Bearer {world['tokens'][role]}"} if role in STAFF else {}
                    if path.endswith("/requests/status"):
                        kw["json"] = dict(zip(("reference", "secret"), world["checked"], strict=True))
                    elif method in ("POST", "PUT", "PATCH") and not path.endswith("/attachments"):
                        kw["json"] = {}
                    # The API ignores cookies: a family's (or staff's) browser session opens nothing there.
                    r = httpx.request(method, server.url + url, headers=headers, timeout=30, **kw)
                    denied = r.status_code in (401, 403)
                else:
                    r = client.form(url, {}) if method == "POST" else client.get(url)
                    # Sent to sign in (and back here afterwards), or a family to open its request.
                    where = r.headers.get("location", "") if r.status_code == 303 else ""
                    denied = r.status_code == 403 or where.startswith("/login?next=") or where == "/track"
                assert denied == (role not in allowed), (
                    f"{method} {path} as {role}: {r.status_code} {r.text[:200]}"
                )
                if role in (ANON, FAMILY):
                    assert PERSON_NAME not in r.text, f"{method} {path} shows a held person to {role}"
                checked += 1
        # Signing out ends the session: the next staff page asks to sign in again.
        reg = clients[REG]
        assert reg.form("/logout").status_code == 303
        r = reg.get("/records")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Frecords"
    finally:
        for c in clients.values():
            c.close()
    assert checked >= 5 * (len(PAGES) + len(API) - 1)


def test_forms_need_a_csrf_token(server, staff) -> None:  # type: ignore[no-untyped-def]
    c = Client(server.url)
    try:
        c.sign_in(*staff[REG])
        r = c.post("/records/new", data={"full_name": "Без токена"})
        assert r.status_code == 403
        r = c.post("/records/new", data={"full_name": "Чужой токен", "csrf_token": "0" * 64})
        assert r.status_code == 403
        other = Client(server.url)
        # A token from another browser does not work with this browser's cookie.
        r = c.post("/records/new", data={"full_name": "Чужой токен", "csrf_token": other.csrf()})
        other.close()
        assert r.status_code == 403
        assert c.form("/records/new", {"full_name": "С токеном"}).status_code == 303
    finally:
        c.close()


def test_the_openapi_spec_says_which_routes_need_a_token(server, world) -> None:  # type: ignore[no-untyped-def]
    spec = httpx.get(server.url + "/openapi.json").json()
    assert spec["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["apiToken"]["description"],
    }
    operations = {(m, p): a for (m, p), a in API.items() if p.startswith("/api/")}
    assert len(operations) > 30
    for (method, path), allowed in operations.items():
        op = spec["paths"][path][method.lower()]
        declared = op.get("security") == [{"apiToken": []}]
        kw: dict = {}
        if path.endswith("/requests/status"):
            kw["json"] = dict(zip(("reference", "secret"), world["checked"], strict=True))
        elif method in ("POST", "PUT", "PATCH") and not path.endswith("/attachments"):
            kw["json"] = {}
        # Asked with no token: a route that needs one answers 401, as its entry in the spec must say.
        r = httpx.request(method, server.url + _url(path, world["ids"]), timeout=30, **kw)
        assert declared == (r.status_code == 401), (
            f"{method} {path}: {r.status_code}, security {op.get('security')}"
        )
        assert declared == (ANON not in allowed), f"{method} {path}"


def test_every_route_refuses_a_control_character_in_its_url(server, world) -> None:  # type: ignore[no-untyped-def]
    """The URL's check (security.clean_url) on every route, whether its router or its role dependency makes
    it: before anything else, whoever asks."""
    ids = world["ids"]
    routes = [r for r in server.app.routes if isinstance(r, APIRoute)]  # not /openapi.json, FastAPI's own
    assert len(routes) > 100
    for route in routes:
        for method in sorted(route.methods - {"HEAD"}):
            url = server.url + _url(route.path, ids)
            r = httpx.request(method, url, params={"x": "a\x01b"}, timeout=30)
            assert r.status_code == 422, f"{method} {route.path}: {r.status_code} {r.text[:200]}"
