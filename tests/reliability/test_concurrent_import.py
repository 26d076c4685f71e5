"""Concurrent imports of overlapping files end as if run one after the other."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEADER = "record_id,full_name,birth_date,rank,status,status_date\n"


def _file(path: Path, ids: range, rank: str, status: str, date: str) -> Path:
    lines = [f"R{i:05d},Иванов{i % 97} Пётр Сергеевич,19{70 + i % 30},{rank},{status},{date}\n" for i in ids]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def _import(db_url: str, path: Path, source: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "kinlink", "--db", db_url, "import", "registry", str(path)]
    env = {**os.environ, "KINLINK_ACTOR": "test:concurrent"}
    return subprocess.Popen([*cmd, "--source", source], env=env, stderr=subprocess.PIPE)


def _export(cli, source: str) -> str:
    return cli("export", "registry", "--format", "jsonl", "--source", source).stdout


def test_overlapping_imports_at_once_equal_a_serial_order(cli, db_url, tmp_path) -> None:
    a = _file(tmp_path / "a.csv", range(0, 3000), "рядовой", "captured", "2022-03-01")
    b = _file(tmp_path / "b.csv", range(1500, 4500), "ефрейтор", "released", "2022-09-01")
    serial = {}
    for order in ("ab", "ba"):
        for name in order:
            cli("import", "registry", str(a if name == "a" else b), "--source", f"serial-{order}")
        serial[order] = _export(cli, f"serial-{order}")
    assert serial["ab"] != serial["ba"]  # the order matters, so the check below can fail
    procs = [_import(db_url, a, "together"), _import(db_url, b, "together")]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    together = _export(cli, "together")
    assert together in (serial["ab"], serial["ba"])
    assert cli("audit", "verify").exit_code == 0
