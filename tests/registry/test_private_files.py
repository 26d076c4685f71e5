"""Under a permissive umask (022) the database, its -wal and -shm files, a backup and an export are still
created readable by their owner only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from kinlink.demo import DEMO_REGISTRY
from kinlink.store.db import make_engine
from tests.support import Cli


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_with_personal_data_are_created_0600(tmp_path: Path, umask_022: None) -> None:
    db = tmp_path / "kinlink.db"
    url = f"sqlite:///{db}"
    cli = Cli(url)
    cli("init")
    cli("import", "registry", str(DEMO_REGISTRY), "--source", "demo")
    engine = make_engine(url)
    with engine.connect() as conn:  # while a connection is open, the -wal and -shm files exist
        conn.execute(text("SELECT count(*) FROM persons")).scalar()
        for suffix in ("", "-wal", "-shm"):
            assert _mode(Path(f"{db}{suffix}")) == 0o600, suffix
    engine.dispose()
    cli("backup", str(tmp_path / "b.db"))
    cli("export", "registry", "--format", "csv", "--output", str(tmp_path / "out.csv"))
    cli("export", "pfif", "--output", str(tmp_path / "out.xml"))
    for name in ("b.db", "out.csv", "out.xml"):
        assert _mode(tmp_path / name) == 0o600, name
    # A file that was there before, readable by all, is narrowed when kinlink writes personal data into it.
    old = tmp_path / "old.csv"
    old.write_text("x")
    old.chmod(0o644)
    cli("export", "registry", "--format", "jsonl", "--output", str(old))
    assert _mode(old) == 0o600
