"""A batch match killed half-way loses at most the chunk in flight; a rerun completes it, no duplicates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from bench.registry.data import generate
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry, PersonName
from kinlink.store.tracing_models import MatchCandidate, TracingRequest
from kinlink.tracing import requests as request_service

ROWS = 600
CHUNK = 25


def _candidates(engine: Engine) -> dict[int, str]:
    with Session(engine) as s:
        return dict(s.execute(select(MatchCandidate.id, MatchCandidate.pair)).all())


def _consistent(engine: Engine) -> None:
    """Every stored candidate came with its audit entry and its request's state: nothing half-written."""
    with Session(engine) as s:
        ids = set(s.scalars(select(MatchCandidate.id)))
        created = list(
            s.scalars(
                select(AuditEntry.entity_id).where(
                    AuditEntry.entity == "match_candidate", AuditEntry.action == "create"
                )
            )
        )
        assert len(created) == len(set(created)) == len(ids)
        assert {int(x) for x in created} == ids
        pairs = list(s.scalars(select(MatchCandidate.pair)))
        assert len(pairs) == len(set(pairs))
        waiting = s.scalar(
            select(func.count(TracingRequest.id)).where(
                TracingRequest.state == "open",
                TracingRequest.id.in_(select(MatchCandidate.request_id)),
            )
        )
        assert waiting == 0  # a request with candidates is never left 'open'


def test_match_killed_half_way_keeps_what_it_committed_and_reruns(cli, db_url, engine, tmp_path) -> None:
    path = tmp_path / "registry.csv"
    generate(path, ROWS)
    # The same people from two registrars: every record has a duplicate for the dedup pass to link.
    cli("import", "registry", str(path), "--source", "a")
    cli("import", "registry", str(path), "--source", "b")
    with unit_of_work(engine) as s:
        names = list(s.scalars(select(PersonName.full_name).order_by(PersonName.id).limit(60)))
        for name in names[::2]:
            request_service.create_request(
                s,
                "test:family",
                request_service.SoughtPerson(full_name=name),
                request_service.Enquirer(name="Родич"),
            )
    env = {**os.environ, "KINLINK_ACTOR": "test:crash"}
    cmd = [sys.executable, "-m", "kinlink", "--db", db_url, "match", "--json", "--chunk", str(CHUNK)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while True:
        # Some record-to-record chunks committed: the kill lands in the dedup pass, well before its end.
        with Session(engine) as s:
            linked = s.scalar(
                select(func.count(MatchCandidate.id)).where(MatchCandidate.left_person_id.is_not(None))
            )
        if linked and linked >= 2 * CHUNK:
            break
        if proc.poll() is not None:
            raise AssertionError(f"the match ended before it could be killed: {proc.stderr.read()!r}")
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert proc.poll() is None, "the match finished before the kill"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    engine.dispose()

    assert cli("audit", "verify").exit_code == 0
    _consistent(engine)
    before = _candidates(engine)
    with Session(engine) as s:
        assert s.scalar(select(func.count(MatchCandidate.id)).where(MatchCandidate.request_id.is_not(None)))

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    outcome = json.loads(rerun.stdout)
    after = _candidates(engine)
    assert set(outcome) == {"requests", "created", "updated", "unchanged", "model"}
    assert outcome["requests"] == 30
    assert len(after) > len(before)  # the kill did land half-way
    assert outcome["created"] == len(after) - len(before)
    assert outcome["updated"] == 0
    assert before.items() <= after.items()  # nothing committed before the kill was lost or changed
    assert sum(1 for p in after.values() if p.startswith("p")) >= ROWS  # every duplicate linked
    _consistent(engine)
    assert cli("audit", "verify").exit_code == 0

    again = json.loads(subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout)
    assert again["created"] == 0 and again["updated"] == 0
    assert _candidates(engine) == after
