"""Issue 16 item 5: the audit chain is keyed (HMAC under a key outside the database), can be anchored
outside, and `kinlink restore` refuses a backup whose chain does not verify."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session

from kinlink import keys
from kinlink.demo import DEMO_REGISTRY
from kinlink.store import audit
from kinlink.store.models import AuditEntry, AuditHead
from tests.support import counts


def _sha256_chain(prev: str | None, e: AuditEntry) -> str:
    """What an attacker without the key computes: kinlink's own entry body, plain SHA-256 (the function
    kinlink used until the chain was keyed)."""
    body = json.dumps(
        [prev, audit.canonical_time(e.at), e.actor, e.action, e.entity, e.entity_id, e.changes],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _rewrite_without_key(engine: Engine, drop: int) -> None:
    """Delete `drop` entries and recompute the whole chain and its head, unkeyed."""
    with Session(engine) as s, s.begin():
        ids = list(s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        s.execute(delete(AuditEntry).where(AuditEntry.id.in_(ids[5 : 5 + drop])))
        prev = None
        n = 0
        for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all():
            h = _sha256_chain(prev, e)
            s.execute(update(AuditEntry).where(AuditEntry.id == e.id).values(prev_hash=prev, hash=h))
            prev, n = h, n + 1
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev, entries=n))


@pytest.fixture
def filled(cli, engine: Engine):  # type: ignore[no-untyped-def]
    cli("import", "registry", str(DEMO_REGISTRY), "--source", "demo")
    for _ in range(12):
        cli("records", "list", "--limit", "5")
    assert audit.entry_count(Session(engine)) > 30
    return engine


def test_rewriting_the_chain_without_the_key_fails_verify(cli, filled: Engine) -> None:  # type: ignore[no-untyped-def]
    assert "chain verified" in cli("audit", "verify").output
    _rewrite_without_key(filled, drop=18)
    result = cli("audit", "verify", ok=False)
    # An unkeyed chain passes only as an old database's, closed by a keyed rekey entry: there is none.
    assert result.exit_code == 1 and "unkeyed and no rekey entry closes them" in result.output


def test_verify_with_a_wrong_key_fails(cli, filled: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert cli("audit", "verify").exit_code == 0
    monkeypatch.setenv("KINLINK_AUDIT_KEY", "x" * 64)
    keys.server_key.cache_clear()
    try:
        result = cli("audit", "verify", ok=False)
        assert result.exit_code == 1 and "does not match its hash" in result.output
    finally:
        monkeypatch.delenv("KINLINK_AUDIT_KEY")
        keys.server_key.cache_clear()
    assert cli("audit", "verify").exit_code == 0


def test_anchor_then_tamper_before_it(cli, filled: Engine) -> None:  # type: ignore[no-untyped-def]
    anchor = cli("audit", "anchor").output.strip()
    count, _, last = anchor.partition(":")
    assert int(count) == audit.entry_count(Session(filled)) and len(last) == 64
    cli("records", "list", "--limit", "1")  # the chain grows past the anchor: still fine
    assert "holds the anchored head" in cli("audit", "verify", "--anchor", anchor).output
    with Session(filled) as s, s.begin():
        s.execute(update(AuditEntry).where(AuditEntry.id == 4).values(actor="someone else"))
    result = cli("audit", "verify", "--anchor", anchor, ok=False)
    assert result.exit_code == 1 and "entry 4: content does not match" in result.output


def test_anchor_catches_a_rewrite_by_someone_with_the_key(cli, filled: Engine) -> None:  # type: ignore[no-untyped-def]
    anchor = cli("audit", "anchor").output.strip()
    # Recompute the chain with the key after deleting entries: it verifies, but not against the anchor.
    with Session(filled) as s, s.begin():
        ids = list(s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        s.execute(delete(AuditEntry).where(AuditEntry.id.in_(ids[2:4])))
        prev, n = None, 0
        for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all():
            h = audit.entry_hash(prev, e.at, e.actor, e.action, e.entity, e.entity_id, e.changes)
            s.execute(update(AuditEntry).where(AuditEntry.id == e.id).values(prev_hash=prev, hash=h))
            prev, n = h, n + 1
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev, entries=n))
    assert cli("audit", "verify").exit_code == 0
    result = cli("audit", "verify", "--anchor", anchor, ok=False)
    assert result.exit_code == 1 and "anchor" in result.output
    assert cli("audit", "verify", "--anchor", "nonsense", ok=False).exit_code == 2


def test_unkeyed_entries_are_accepted_only_before_a_rekey_entry(engine: Engine) -> None:
    """The transition: an old database's unkeyed entries closed by the keyed rekey entry of migration
    0008 verify; an unkeyed entry appended after it does not."""
    from kinlink.store.db import unit_of_work

    with unit_of_work(engine) as s:
        for i in range(3):
            audit.record(s, "old", "create", "thing", i)
    _rewrite_without_key(engine, drop=0)  # as an older kinlink wrote them
    with Session(engine) as s:
        assert any("unkeyed" in p for p in audit.verify(s))
    # What migration 0008 does on upgrade.
    with engine.begin() as conn:
        h = conn.execute(text("SELECT hash, entries FROM audit_head WHERE id = 1")).one()
    with unit_of_work(engine) as s:
        audit.record(
            s, "kinlink:migration-0008", audit.REKEY_ACTION, audit.REKEY_ENTITY, None, {"n": h.entries}
        )
        audit.record(s, "new", "create", "thing", 9)
    with Session(engine) as s:
        assert audit.verify(s) == []
    # An unkeyed entry appended after the rekey entry is refused.
    with Session(engine) as s, s.begin():
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last is not None
        forged = AuditEntry(
            at=last.at, actor="x", action="delete", entity="thing", entity_id="1", changes=None
        )
        forged.prev_hash = last.hash
        forged.hash = _sha256_chain(last.hash, forged)
        s.add(forged)
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=forged.hash, entries=h.entries + 3))
    with Session(engine) as s:
        assert any("content does not match" in p for p in audit.verify(s))


def test_restore_refuses_a_backup_whose_chain_was_rewritten(cli, filled: Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    snapshot = tmp_path / "kinlink.backup"
    cli("backup", str(snapshot))
    _rewrite_without_key(filled, drop=18)  # tamper the live one, back it up, then repair the live one
    tampered = tmp_path / "tampered.backup"
    cli("backup", str(tampered))
    cli("restore", str(snapshot), "--yes")
    filled.dispose()
    assert cli("audit", "verify").exit_code == 0
    before = counts(filled)
    with Session(filled) as s:
        entries_before = audit.entry_count(s)
    result = cli("restore", str(tampered), "--yes", ok=False)
    assert result.exit_code == 1 and "audit chain does not verify" in result.output
    filled.dispose()
    assert counts(filled) == before
    with Session(filled) as s:
        assert audit.entry_count(s) == entries_before
    assert cli("audit", "verify").exit_code == 0
