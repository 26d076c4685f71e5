"""Issue 16, items 3 and 11: nobody mints a credential for someone else, and a password reset ends every
credential of that user (over real HTTP)."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kinlink.accounts import tokens, users
from kinlink.store import audit
from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry


def _client(server, token: str | None = None) -> httpx.Client:  # type: ignore[no-untyped-def]
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url + "/api/v1", timeout=30, headers=headers)


def _token(engine: Engine, username: str) -> tuple[int, str]:
    with unit_of_work(engine) as s:
        user = users.find_user(s, username)
        assert user is not None
        _row, token = tokens.create_token(s, "cli:operator", user.id, "tests", by_user_id=None)
        return user.id, token


def test_an_admin_cannot_mint_a_token_for_someone_else(engine: Engine, server, staff) -> None:  # type: ignore[no-untyped-def]
    _admin_id, admin_token = _token(engine, staff["admin"][0])
    cw_id, _ = _token(engine, staff["caseworker"][0])
    with _client(server, admin_token) as admin:
        r = admin.post(f"/users/{cw_id}/tokens", json={"name": "impersonate"})
        assert r.status_code == 403
        assert "own user" in r.json()["error"]["message"]
        # Nothing was made: the caseworker still holds only the operator's token.
        assert len(admin.get(f"/users/{cw_id}/tokens").json()) == 1
        # Their own token is still theirs to make.
        me = admin.get("/me").json()["id"]
        assert admin.post(f"/users/{me}/tokens", json={"name": "mine"}).status_code == 201


def test_the_operator_bootstrap_is_audited_as_the_operators_act(engine: Engine, staff) -> None:
    cw_id, _ = _token(engine, staff["caseworker"][0])
    with Session(engine) as s:
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.entity == "api_token").order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None and entry.actor == "cli:operator"
        assert entry.changes is not None
        assert entry.changes["by"] == "operator" and entry.changes["user_id"] == cw_id


def test_a_password_reset_revokes_every_token(engine: Engine, server, staff) -> None:  # type: ignore[no-untyped-def]
    _a, admin_token = _token(engine, staff["admin"][0])
    cw_id, cw_token = _token(engine, staff["caseworker"][0])
    _same, cw_token2 = _token(engine, staff["caseworker"][0])
    with (
        _client(server, admin_token) as admin,
        _client(server, cw_token) as cw,
        _client(server, cw_token2) as cw2,
    ):
        assert cw.get("/me").status_code == 200 and cw2.get("/me").status_code == 200
        r = admin.patch(f"/users/{cw_id}", json={"password": "a brand new passphrase"})
        assert r.status_code == 200
        assert cw.get("/me").status_code == 401
        assert cw2.get("/me").status_code == 401
        assert admin.get("/me").status_code == 200  # the admin's own token is untouched
    with Session(engine) as s:
        entry = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == "user", AuditEntry.entity_id == str(cw_id))
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None and entry.changes is not None
        assert len(entry.changes["tokens_revoked"]) == 2


def test_an_api_reads_audit_entry_names_the_token(engine: Engine, server, staff) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as s:
        user = users.find_user(s, staff["caseworker"][0])
        assert user is not None
        row, token = tokens.create_token(s, "cli:operator", user.id, "tests", by_user_id=None)
        token_id = row.id
    with _client(server, token) as cw:
        assert cw.get("/records").status_code == 200
    with Session(engine) as s:
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "read").order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None and entry.credential == f"token:{token_id}"
        assert audit.verify(s) == []


def test_a_search_answers_who_is_asking_before_its_parameters(engine: Engine, server, staff) -> None:  # type: ignore[no-untyped-def]
    """The search's role check runs in the route's thread (one hop to the threadpool, issue 19); a caller
    who may not search is still answered as such when the parameters are invalid too, as when the check
    was a dependency of its own, and one who may is told what is wrong with them."""
    _a, admin_token = _token(engine, staff["admin"][0])
    _r, registrar_token = _token(engine, staff["registrar"][0])
    bad = {"limit": "many"}
    with _client(server) as anonymous, _client(server, "kl_nonesuch") as unknown:
        assert anonymous.get("/records", params=bad).status_code == 401
        r = unknown.get("/records", params=bad)
        assert r.status_code == 401 and "not valid" in r.json()["error"]["message"]
    with _client(server, admin_token) as admin, _client(server, registrar_token) as registrar:
        assert admin.get("/records", params=bad).status_code == 403
        assert admin.get("/records", params={"q": "x"}).status_code == 403
        r = registrar.get("/records", params=bad)
        assert r.status_code == 422 and r.json()["error"]["field"] == "limit"
        assert registrar.get("/records", params={"q": "x"}).status_code == 200
