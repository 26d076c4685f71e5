"""Who saw what: every staff view of one captured person's details (page or API) and every disclosure to a
family leaves an audit entry; a door added without an entry here fails the walk below."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from starlette.routing import Route

from kinlink.accounts import tokens, users
from kinlink.store.casework_models import Disclosure
from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry
from tests.web.helpers import Client

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# (door, role, path): each shows one person's details, so each GET must write a 'read' entry naming it.
READS = [
    ("page", "caseworker", "/records/{person_id}"),
    ("page", "registrar", "/records/{person_id}/edit"),
    ("page", "caseworker", "/attachments/{attachment_id}"),
    ("page", "caseworker", "/candidates/{candidate_id}"),
    ("page", "caseworker", "/cases/{request_id}"),
    # A card is a read of the record (and a disclosure to the Central Tracing Agency).
    ("page", "registrar", "/records/{person_id}/cards/{kind}"),
    ("api", "registrar", "/records/{person_id}/cards/{kind}"),
    # How the enquirer was verified: their relationship, a note on their documents.
    ("api", "caseworker", "/requests/{request_id}/verification"),
    ("api", "caseworker", "/records/{person_id}"),
    ("api", "caseworker", "/records/{person_id}/events"),
    ("api", "caseworker", "/records/{person_id}/attachments"),
    ("api", "caseworker", "/attachments/{attachment_id}"),
    ("api", "caseworker", "/candidates/{candidate_id}"),
    ("api", "caseworker", "/requests/{request_id}/disclosures"),
    # The family's request: who is sought and by whom (the enquirer's personal data).
    ("api", "caseworker", "/requests/{request_id}"),
]
# GET routes naming one person, candidate, file or request that show nothing of a person (none today).
NOT_A_PERSON: dict[tuple[str, str], str] = {}
ID_PARAMS = ("{person_id}", "{candidate_id}", "{attachment_id}", "{request_id}")


@dataclass
class World:
    person_id: int
    attachment_id: int
    candidate_id: int
    request_id: int
    credentials: dict[str, str]
    pages: dict[str, Client]
    api: dict[str, httpx.Client]
    actors: dict[str, str]


@pytest.fixture
def world(engine: Engine, server, staff, client_for) -> Iterator[World]:  # type: ignore[no-untyped-def]
    api: dict[str, httpx.Client] = {}
    with unit_of_work(engine) as s:
        for role in ("registrar", "caseworker"):
            _row, token = tokens.create_token(s, "test", users.find_user(s, staff[role][0]).id, "t")
            api[role] = httpx.Client(
                base_url=server.url + "/api/v1", timeout=30, headers={"authorization": f"Bearer {token}"}
            )
    api["family"] = httpx.Client(base_url=server.url + "/api/v1", timeout=30)
    reg = api["registrar"]
    pid = reg.post(
        "/records",
        json={
            "full_name": "Гончаренко Василь Петрович",
            "birth_date": "1987-03-09",
            "status": "captured",
            "status_date": "2023-04-01",
            "location": "Табір №3",
            "consent_inform_family": True,
            "consent_share_location": True,
            "consent_share_photo": True,
        },
    ).json()["id"]
    att = reg.post(
        f"/records/{pid}/attachments", data={"kind": "photo"}, files={"file": ("face.png", PNG)}
    ).json()["id"]
    filed = (
        api["family"]
        .post(
            "/requests",
            json={
                "full_name": "Гончаренко Василий Петрович",
                "birth_date": "1987",
                "enquirer_name": "Гончаренко Олена",
                "agree": True,
            },
        )
        .json()
    )
    cand = next(c for c in api["caseworker"].get("/candidates").json() if c["person_id"] == pid)
    r = api["caseworker"].post(
        f"/candidates/{cand['id']}/decision",
        json={"decision": "confirmed", "reason": "same birth date", "version": cand["version"]},
    )
    assert r.status_code == 200, r.text
    r = api["caseworker"].post(
        f"/requests/{cand['request_id']}/verification", json={"method": "video_call", "relationship": "wife"}
    )
    assert r.status_code == 201, r.text
    yield World(
        person_id=pid,
        attachment_id=att,
        candidate_id=cand["id"],
        request_id=cand["request_id"],
        credentials={"reference": filed["reference"], "secret": filed["secret"]},
        pages={role: client_for(role) for role in ("registrar", "caseworker")},
        api=api,
        actors={role: f"web:{staff[role][0]}" for role in ("registrar", "caseworker")},
    )
    for c in api.values():
        c.close()


def _reads(engine: Engine, actor: str) -> int:
    with Session(engine) as s:
        return (
            s.scalar(
                select(func.count(AuditEntry.id)).where(
                    AuditEntry.action == "read", AuditEntry.actor == actor
                )
            )
            or 0
        )


def test_every_view_of_a_persons_details_is_audited(engine: Engine, world: World, server) -> None:  # type: ignore[no-untyped-def]
    # A disclosure to the family first, so that the case and its disclosures have something to show.
    assert world.api["family"].post("/requests/status", json=world.credentials).json()["stage"] == "found"
    ids = {
        "{person_id}": world.person_id,
        "{attachment_id}": world.attachment_id,
        "{candidate_id}": world.candidate_id,
        "{request_id}": world.request_id,
        "{kind}": "capture",
    }
    for door, role, template in READS:
        path = template
        for k, v in ids.items():
            path = path.replace(k, str(v))
        client = world.pages[role] if door == "page" else world.api[role]
        before = _reads(engine, world.actors[role])
        r = client.get(path)
        assert r.status_code == 200, (door, path, r.status_code)
        assert _reads(engine, world.actors[role]) > before, f"{door} GET {template} is not audited"
        with Session(engine) as s:
            last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        assert last.actor == world.actors[role] and last.action == "read"
        assert (last.entity, last.entity_id) in {
            ("person", str(world.person_id)),
            ("attachment", str(world.attachment_id)),
            ("tracing_request", str(world.request_id)),
        }

    # The walk: every GET route naming one person, candidate, file or request is listed above.
    covered = {(door, template) for door, _role, template in READS} | set(NOT_A_PERSON)
    routes = set()
    for route in server.app.routes:
        if (
            isinstance(route, Route)
            and "GET" in (route.methods or ())
            and any(p in route.path for p in ID_PARAMS)
        ):
            api = route.path.startswith("/api/v1/")
            routes.add(("api" if api else "page", route.path.removeprefix("/api/v1")))
    assert routes == covered


def test_every_disclosure_to_a_family_is_audited(engine: Engine, world: World, client_for) -> None:  # type: ignore[no-untyped-def]
    family_actor = f"family:request-{world.request_id}"

    def disclosed() -> tuple[list[int], list[AuditEntry]]:
        with Session(engine) as s:
            rows = list(s.scalars(select(Disclosure.id).order_by(Disclosure.id)))
            entries = list(
                s.scalars(select(AuditEntry).where(AuditEntry.action == "disclose").order_by(AuditEntry.id))
            )
        return rows, entries

    status = world.api["family"].post("/requests/status", json=world.credentials).json()
    assert status["items"]["location"] == "Табір №3"
    rows, entries = disclosed()
    assert len(rows) == len(entries) == 1
    assert entries[0].actor == family_actor and entries[0].entity_id == str(world.request_id)
    assert entries[0].changes["disclosure"] == rows[0]
    assert entries[0].changes["person_id"] == world.person_id
    assert entries[0].changes["items"] == sorted([*status["items"], "photo"])

    # The same facts again, by the API or the web page, are not a new disclosure.
    world.api["family"].post("/requests/status", json=world.credentials)
    family = client_for()
    assert family.track(world.credentials["reference"], world.credentials["secret"]).status_code == 303
    assert "Табір №3" in family.get("/family").text
    assert disclosed()[0] == rows

    # The photo the person consented to share: each time the family fetches it, the read is audited.
    r = family.get("/family/photo")
    assert r.status_code == 200 and r.content == PNG
    with Session(engine) as s:
        photo_reads = list(
            s.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "read",
                    AuditEntry.entity == "attachment",
                    AuditEntry.actor == family_actor,
                )
            )
        )
    assert [e.entity_id for e in photo_reads] == [str(world.attachment_id)]

    # A withdrawn consent changes what is told: a new disclosure, audited.
    rec = world.api["caseworker"].get(f"/records/{world.person_id}").json()
    r = world.api["registrar"].put(
        f"/records/{world.person_id}/consent",
        json={
            "consent_share_location": False,
            "version": rec["version"],
            "given_on": "2023-06-02",
            "given_by": "the person, to a delegate",
            "given_how": "in_person",
        },
    )
    assert r.status_code == 200, r.text
    page = family.get("/family").text
    assert "Табір №3" not in page
    rows, entries = disclosed()
    assert len(rows) == len(entries) == 2
    assert [e.changes["disclosure"] for e in entries] == rows
    assert "location" not in entries[1].changes["items"]
    with Session(engine) as s:
        channels = [d.channel for d in s.scalars(select(Disclosure).order_by(Disclosure.id))]
    assert channels == ["api", "web"]


# (door, role, path): lists that show people's details; each GET writes one 'read' entry with its filter,
# its count and the ids it showed.
LIST_READS = [
    ("page", "caseworker", "/records?q=Гончаренко"),
    ("page", "caseworker", "/queue"),
    ("page", "caseworker", "/cases"),
    ("page", "caseworker", "/messages"),
    ("api", "caseworker", "/records?q=Гончаренко"),
    ("api", "caseworker", "/records?limit=500&offset=0"),
    ("api", "caseworker", "/records?limit=500&offset=1"),
    ("api", "caseworker", "/sightings"),
    ("api", "caseworker", "/requests"),
    ("api", "caseworker", "/candidates?state=confirmed"),
    ("api", "caseworker", "/messages"),
]


def test_every_list_of_people_is_audited_with_its_filter_and_ids(engine: Engine, world: World) -> None:
    for door, role, path in LIST_READS:
        client = world.pages[role] if door == "page" else world.api[role]
        with Session(engine) as s:
            before = s.scalar(select(func.max(AuditEntry.id))) or 0
        r = client.get(path)
        assert r.status_code == 200, (door, path, r.status_code)
        with Session(engine) as s:
            entries = list(
                s.scalars(select(AuditEntry).where(AuditEntry.id > before, AuditEntry.action == "read"))
            )
        lists = [e for e in entries if e.entity_id is None]
        assert len(lists) >= 1, f"{door} GET {path} is not audited"
        entry = lists[0]
        assert entry.actor == world.actors[role]
        assert {"view", "filter", "count", "ids"} <= set(entry.changes)
        assert entry.changes["count"] == len(entry.changes["ids"])
    with Session(engine) as s:
        searched = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "read", AuditEntry.entity_id.is_(None))
        ).all()
    found = [e for e in searched if e.changes["filter"].get("q") == "Гончаренко"]
    assert found and all(world.person_id in e.changes["ids"] for e in found)
