"""Consistent backups: SQLite's online backup API, or pg_dump / pg_restore for PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from kinlink.private_files import make_private
from kinlink.store import audit
from kinlink.store.db import database_url


class BackupError(RuntimeError):
    pass


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    args = ["--host", u.host or "localhost", "--port", str(u.port or 5432), "--dbname", u.database or ""]
    if u.username:
        args += ["--username", u.username]
    env = {"PGPASSWORD": u.password} if u.password else {}
    return args, env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    import os

    if shutil.which(cmd[0]) is None:
        raise BackupError(f"{cmd[0]} is not installed (PostgreSQL client tools are needed)")
    done = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{cmd[0]} failed: {done.stderr.strip()[-500:]}")


def backup(url: str | None, target: Path) -> Path:
    """Write a snapshot of the database to `target` while it stays in use."""
    url = database_url(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        src_path = make_url(url).database
        if not src_path or not Path(src_path).exists():
            raise BackupError(f"no SQLite database at {src_path}")
        tmp = make_private(target.with_suffix(target.suffix + ".part"))
        with sqlite3.connect(src_path) as src, sqlite3.connect(tmp) as dst:
            src.backup(dst)  # a consistent snapshot even while others write
        tmp.replace(target)  # never leave a half-written backup under the real name
        return target
    args, env = _pg_args(url)
    tmp = make_private(target.with_suffix(target.suffix + ".part"))
    _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(tmp), *args], env)
    tmp.replace(target)
    return target


def _check_chain(engine_url: str | URL, source: Path) -> None:
    engine = create_engine(engine_url)
    try:
        with Session(engine) as session:
            try:
                problems = audit.verify(session)
            except Exception as e:  # a file without our tables is no backup of ours
                raise BackupError(f"{source} holds no readable audit log: {type(e).__name__}") from None
    finally:
        engine.dispose()
    if problems:
        raise BackupError(
            f"{source}: its audit chain does not verify, nothing was replaced ({problems[0]}"
            + (f"; {len(problems) - 1} more problem(s))" if len(problems) > 1 else ")")
        )


def _check_pg_backup(url: str, source: Path) -> None:
    """Restore into a scratch database first: a custom-format dump can only be read by restoring it."""
    import os

    u = make_url(url)
    scratch = f"{u.database}_restore_check_{os.getpid()}"
    admin = create_engine(u, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        try:
            args, env = _pg_args(url)
            args[args.index("--dbname") + 1] = scratch
            _run(["pg_restore", "--no-owner", "--single-transaction", *args, str(source)], env)
            _check_chain(u.set(database=scratch), source)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
    finally:
        admin.dispose()


def restore(url: str | None, source: Path) -> None:
    """Replace the database's content with a backup made by `backup`, once its audit chain verifies (a
    backup with a rewritten chain would otherwise launder the rewrite into the live database)."""
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    url = database_url(url)
    if url.startswith("sqlite"):
        with sqlite3.connect(source) as check:
            if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is not an intact SQLite database")
        _check_chain(f"sqlite:///file:{source.resolve()}?mode=ro&uri=true", source)
        db_path = make_url(url).database
        assert db_path
        make_private(Path(db_path))
        with sqlite3.connect(source) as src, sqlite3.connect(db_path) as dst:
            src.backup(dst)
        return
    _check_pg_backup(url, source)
    args, env = _pg_args(url)
    _run(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", *args, str(source)],
        env,
    )
