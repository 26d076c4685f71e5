"""Export round-trips with import; the audit log is a verifiable chain; the demo runs."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from kinlink.demo import DEMO_REGISTRY
from kinlink.store.models import AuditEntry
from tests.support import counts


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_round_trips_with_import(cli, tmp_path, engine, fmt) -> None:
    cli("import", "registry", str(DEMO_REGISTRY), "--source", "demo")
    before = counts(engine)
    exported = tmp_path / f"out.{fmt}"
    cli("export", "registry", "--format", fmt, "--output", str(exported))
    again = cli.json("import", "registry", str(exported), "--source", "demo")
    assert again["created"] == 0 and again["updated"] == 0 and again["unchanged"] == before["persons"]
    # Into a fresh source it recreates the same records, history included.
    cli("import", "registry", str(exported), "--source", "copy")
    second = tmp_path / f"copy.{fmt}"
    cli("export", "registry", "--format", fmt, "--source", "copy", "--output", str(second))
    first = tmp_path / f"demo.{fmt}"
    cli("export", "registry", "--format", fmt, "--source", "demo", "--output", str(first))
    assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")


def test_audit_verify_finds_an_edited_and_a_deleted_entry(cli, engine) -> None:
    cli("import", "registry", str(DEMO_REGISTRY), "--source", "demo")
    assert "chain verified" in cli("audit", "verify").output
    with Session(engine) as s, s.begin():
        s.execute(update(AuditEntry).where(AuditEntry.id == 3).values(actor="someone else"))
    result = cli("audit", "verify", ok=False)
    assert result.exit_code == 1 and "entry 3: content does not match its hash" in result.output


def test_audit_verify_finds_a_deleted_entry(cli, engine) -> None:
    cli("import", "registry", str(DEMO_REGISTRY), "--source", "demo")
    with Session(engine) as s, s.begin():
        s.query(AuditEntry).filter(AuditEntry.id == 5).delete()
    result = cli("audit", "verify", ok=False)
    assert "entry 6: previous hash does not match" in result.output


def test_records_show_unknown_and_read_is_audited(cli, engine) -> None:
    cli("import", "registry", str(DEMO_REGISTRY), "--source", "demo")
    result = cli("records", "show", "demo:NOPE", ok=False)
    assert result.exit_code == 1 and "No record 'demo:NOPE'" in result.output
    n = counts(engine)["audit_log"]
    cli("records", "show", "demo:RU-0000")
    assert counts(engine)["audit_log"] == n + 1


def test_demo_command_is_idempotent(cli) -> None:
    first = cli("demo")
    assert "41 records created" in first.output
    second = cli("demo")
    assert "0 records created" in second.output and "41 unchanged" in second.output
