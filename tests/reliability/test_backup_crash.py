"""Backups round-trip; an import killed half-way leaves the database as it was, and reruns cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.registry.data import generate
from sqlalchemy import text

from kinlink.demo import DEMO_REGISTRY
from tests.support import counts


def test_backup_and_restore_round_trip(cli, tmp_path, engine) -> None:
    cli("import", "registry", str(DEMO_REGISTRY), "--source", "demo")
    before = cli.json("records", "list", "--limit", "0")
    snapshot = tmp_path / "kinlink.backup"
    cli("backup", str(snapshot))
    assert snapshot.exists() and snapshot.stat().st_size > 0
    extra = tmp_path / "extra.csv"
    extra.write_text("record_id,full_name\nX-1,Новий Запис\n", encoding="utf-8")
    cli("import", "registry", str(extra), "--source", "later")
    assert cli.json("records", "list")["total"] == before["total"] + 1
    cli("restore", str(snapshot), "--yes")
    engine.dispose()
    after = cli.json("records", "list", "--limit", "0")
    assert after == before
    assert cli("audit", "verify").exit_code == 0


def test_restore_refuses_a_file_that_is_not_a_backup(cli, tmp_path, db_url) -> None:
    bogus = tmp_path / "bogus.backup"
    bogus.write_bytes(b"not a database at all" * 100)
    result = cli("restore", str(bogus), "--yes", ok=False)
    assert result.exit_code == 1


def _writing(engine, wal: Path) -> bool:
    """True once the import has started writing (so a kill lands half-way, not before)."""
    if engine.dialect.name == "sqlite":
        return wal.exists() and wal.stat().st_size > 200_000
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    # Imports load with COPY (kinlink.store.bulk); other writers with INSERT.
                    "SELECT count(*) FROM pg_stat_activity WHERE (query ILIKE 'INSERT INTO person%' "
                    "OR query ILIKE 'COPY \"person%') AND state <> 'idle'"
                )
            ).scalar()
        )


def test_import_killed_half_way_writes_nothing_and_reruns(db_url, engine, tmp_path) -> None:
    rows = 20_000
    path = tmp_path / "big.csv"
    generate(path, rows)
    env = {**os.environ, "KINLINK_ACTOR": "test:crash"}
    cmd = [
        sys.executable,
        "-m",
        "kinlink",
        "--db",
        db_url,
        "import",
        "registry",
        str(path),
        "--source",
        "big",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wal = Path(engine.url.database or "").with_name(Path(engine.url.database or "x").name + "-wal")
    deadline = time.monotonic() + 120
    while not _writing(engine, wal):
        if proc.poll() is not None:
            raise AssertionError(f"the import ended before it could be killed: {proc.stderr.read()!r}")
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    engine.dispose()
    assert counts(engine)["persons"] == 0 and counts(engine)["audit_log"] == 0
    done = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, check=True)
    assert '"created": 20000' in done.stdout
    again = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, check=True)
    assert '"created": 0' in again.stdout and '"unchanged": 20000' in again.stdout
    assert counts(engine)["persons"] == rows
