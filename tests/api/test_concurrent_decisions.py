"""Two caseworkers deciding the same candidate at the same moment, over real HTTP: one wins, the other is
told of the conflict, nothing is overwritten, and the audit log holds one decision."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kinlink.accounts import tokens, users
from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry
from kinlink.store.tracing_models import MatchCandidate

PEOPLE = [
    ("Мельник Олександр Іванович", "Мельник Александр Иванович", "1988-07-14"),
    ("Коваленко Богдан Петрович", "Коваленко Богдан Петрович", "1979-02-03"),
    ("Шевчук Андрій Миколайович", "Шевчук Андрей Николаевич", "1995-11-30"),
    ("Бондар Тарас Степанович", "Bondar Taras", "1990-05-21"),
]


@pytest.fixture
def clients(engine: Engine, server, staff) -> Iterator[dict[str, httpx.Client]]:  # type: ignore[no-untyped-def]
    """Two caseworkers, a registrar and an anonymous family, each with its own connection."""
    made: dict[str, httpx.Client] = {}
    with unit_of_work(engine) as s:
        second = users.create_user(s, "test", "second-caseworker", "second caseworker pass", "caseworker")
        accounts = {
            "cw1": users.find_user(s, staff["caseworker"][0]),
            "cw2": second,
            "registrar": users.find_user(s, staff["registrar"][0]),
        }
        for key, user in accounts.items():
            _row, token = tokens.create_token(s, "test", user.id, "tests")
            made[key] = httpx.Client(
                base_url=server.url + "/api/v1", timeout=60, headers={"authorization": f"Bearer {token}"}
            )
    made["family"] = httpx.Client(base_url=server.url + "/api/v1", timeout=60)
    yield made
    for c in made.values():
        c.close()


def _candidates(clients: dict[str, httpx.Client]) -> list[dict]:
    reg, family = clients["registrar"], clients["family"]
    wanted = []
    for record_name, sought, born in PEOPLE:
        r = reg.post(
            "/records",
            json={
                "full_name": record_name,
                "birth_date": born,
                "status": "captured",
                "status_date": "2023-01-02",
            },
        )
        assert r.status_code == 201, r.text
        wanted.append(r.json()["id"])
        r = family.post(
            "/requests",
            json={"full_name": sought, "birth_date": born[:4], "enquirer_name": "Родина", "agree": True},
        )
        assert r.status_code == 201, r.text
    queue = clients["cw1"].get("/candidates", params={"limit": 500}).json()
    found = {c["person_id"]: c for c in queue}
    assert set(wanted) <= set(found), "each record should be a candidate for its family's request"
    return [found[pid] for pid in wanted]


def _decisions(engine: Engine, candidate_id: int) -> list[AuditEntry]:
    with Session(engine) as s:
        return [
            e
            for e in s.scalars(
                select(AuditEntry).where(
                    AuditEntry.entity == "match_candidate", AuditEntry.entity_id == str(candidate_id)
                )
            )
            if e.action == "update" and "state" in (e.changes or {})
        ]


def _at_once(
    clients: dict[str, httpx.Client], candidate_id: int, bodies: dict[str, dict]
) -> dict[str, httpx.Response]:
    """Each client posts its decision; a barrier releases them together."""
    barrier = threading.Barrier(len(bodies))
    answers: dict[str, httpx.Response] = {}

    def decide(who: str) -> None:
        barrier.wait()
        answers[who] = clients[who].post(f"/candidates/{candidate_id}/decision", json=bodies[who])

    threads = [threading.Thread(target=decide, args=(who,)) for who in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return answers


def test_same_candidate_decided_at_once_by_two_caseworkers(engine: Engine, clients) -> None:  # type: ignore[no-untyped-def]
    for cand in _candidates(clients):
        bodies = {
            "cw1": {"decision": "confirmed", "reason": "same birth date", "version": cand["version"]},
            "cw2": {"decision": "rejected", "reason": "another unit", "version": cand["version"]},
        }
        answers = _at_once(clients, cand["id"], bodies)
        codes = sorted(a.status_code for a in answers.values())
        assert codes == [200, 409], {k: (a.status_code, a.text) for k, a in answers.items()}
        winner = next(k for k, a in answers.items() if a.status_code == 200)
        loser = answers[next(k for k in answers if k != winner)].json()["error"]
        assert loser["field"] == "version"
        assert f"version {cand['version'] + 1}" in loser["message"]
        assert f"you saw {cand['version']}" in loser["message"]

        with Session(engine) as s:
            row = s.get(MatchCandidate, cand["id"])
            assert row is not None
            assert row.state == bodies[winner]["decision"]  # the loser did not overwrite it
            assert row.version == cand["version"] + 1
            assert row.decided_by == answers[winner].json()["decided_by"]
        decisions = _decisions(engine, cand["id"])
        assert len(decisions) == 1
        assert decisions[0].changes["state"] == ["pending", bodies[winner]["decision"]]
    assert clients["cw1"].get("/me").status_code == 200  # the server is still serving


def test_a_write_blocked_by_a_long_sqlite_writer_is_a_503_to_retry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SQLite has one writer: past the busy timeout, a decision is refused cleanly (503, Retry-After), its
    transaction rolled back, and the same decision goes through once the other writer is done."""
    import sqlite3

    from sqlalchemy import event

    from kinlink.accounts.demo import demo_accounts
    from kinlink.http.settings import Settings
    from kinlink.server.run import BackgroundServer
    from kinlink.store import schema
    from kinlink.store.db import make_engine

    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA busy_timeout=300")  # not 30 s: the test waits for it

    schema.upgrade(engine)

    staff = {role: (user, pw) for role, user, pw in demo_accounts(engine)}
    with BackgroundServer(engine, Settings(secret_key="t")) as server:
        made = {}
        with unit_of_work(engine) as s:
            for key, role in (("cw1", "caseworker"), ("registrar", "registrar")):
                token = tokens.create_token(s, "t", users.find_user(s, staff[role][0]).id, "t")[1]
                made[key] = httpx.Client(
                    base_url=server.url + "/api/v1", timeout=60, headers={"authorization": f"Bearer {token}"}
                )
        made["family"] = httpx.Client(base_url=server.url + "/api/v1", timeout=60)
        try:
            cand = _candidates(made)[0]
            body = {"decision": "confirmed", "reason": "same birth date", "version": cand["version"]}
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # another process's long write, an import say
            try:
                r = made["cw1"].post(f"/candidates/{cand['id']}/decision", json=body)
            finally:
                other.execute("ROLLBACK")
                other.close()
            assert r.status_code == 503 and r.headers["retry-after"] == "10"
            assert "busy" in r.json()["error"]["message"]
            assert _decisions(engine, cand["id"]) == []
            r = made["cw1"].post(f"/candidates/{cand['id']}/decision", json=body)
            assert r.status_code == 200 and r.json()["version"] == cand["version"] + 1
        finally:
            for c in made.values():
                c.close()
    engine.dispose()
