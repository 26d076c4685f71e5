"""Shared fixtures: a real, migrated database on SQLite and on PostgreSQL for every test that asks."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, text

# The suite's server keys (kinlink.keys) live in a directory of its own, never in the developer's.
os.environ.setdefault("KINLINK_KEY_DIR", tempfile.mkdtemp(prefix="kinlink-keys-"))

from kinlink.store import audit, schema
from kinlink.store.db import make_engine
from kinlink.store.models import Base
from tests.support import Cli

# Tests check behaviour, never timing: no property test fails for how long an example took to make or to
# run (Hypothesis' deadline and its too-slow check), which on a loaded machine says nothing of the code.
settings.register_profile("kinlink", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("kinlink")

PG_ADMIN_URL = os.environ.get(
    "KINLINK_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [b for b in os.environ.get("KINLINK_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _pg_admin(sql: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database of this test process's own (xdist workers and parallel runs must not share one)."""
    # xdist's worker id when it runs the tests, else "main" (also with `-p no:xdist`).
    worker_id = getattr(request.config, "workerinput", {}).get("workerid", "main")
    # KINLINK_TEST_DB_PREFIX: the name's start, for a server shared by several people's runs.
    name = f"{os.environ.get('KINLINK_TEST_DB_PREFIX', 'kinlink_test')}_{worker_id}_{os.getpid()}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    yield url
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
            )
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
        # Migrations seed the audit chains' head rows; an emptied database needs them back.
        for chain in range(1, audit.CHAINS + 1):
            conn.execute(
                text("INSERT INTO audit_head (id, hash, entries) VALUES (:c, NULL, 0)"), {"c": chain}
            )
        conn.execute(text("INSERT INTO match_key_scheme (id, fingerprint) VALUES (1, NULL)"))


@pytest.fixture
def pg(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An emptied PostgreSQL database, for what only PostgreSQL has (writers at once, a planner to ask, a
    server that ends connections)."""
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL is not among KINLINK_TEST_BACKENDS")
    eng = make_engine(request.getfixturevalue("pg_url"))
    _truncate(eng)
    yield eng
    eng.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database: a fresh SQLite file, or this worker's PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'kinlink.db'}"
        engine = make_engine(url)
        schema.upgrade(engine)
        engine.dispose()
        yield url
    else:
        url = request.getfixturevalue("pg_url")
        engine = make_engine(url)
        _truncate(engine)
        engine.dispose()
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


@pytest.fixture
def cli(db_url: str) -> Cli:
    """The real `kinlink` command, run in process against the test database."""
    return Cli(db_url)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Writes a UTF-8 file in the test's folder and gives its path."""

    def _write(name: str, content: str) -> Path:
        p = tmp_path / name
        p.write_text(content, encoding="utf-8")
        return p

    return _write
