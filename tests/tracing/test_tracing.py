"""Tracing requests, continuous matching, candidates and deduplication, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from kinlink.demo import DEMO_REGISTRY
from kinlink.errors import Refused
from kinlink.matching.model import load_model
from kinlink.registry import imports
from kinlink.store import audit as audit_log
from kinlink.store import match_keys
from kinlink.store.db import unit_of_work
from kinlink.store.models import AuditEntry, Person
from kinlink.store.tracing_models import MatchCandidate, MatchKey, TracingRequest
from kinlink.tracing import batch, clusters, continuous
from kinlink.tracing import candidates as cands
from kinlink.tracing.decisions import decide
from kinlink.tracing.requests import (
    Enquirer,
    SoughtPerson,
    check_secret,
    create_request,
    find_request,
)

ACTOR = "test:caseworker"
FAMILY = Enquirer("Полівцева Ольга", "sister", "+7 900 000 00 00", "ru")


def _import_demo(engine: Engine) -> None:
    report = imports.import_registry(engine, DEMO_REGISTRY, "demo-registry", ACTOR)
    assert report.written and report.created > 10


def _import_rows(engine: Engine, tmp_path: Path, source: str, rows: list[dict]) -> list[int]:
    path = tmp_path / f"{source}.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    report = imports.import_registry(engine, path, source, ACTOR)
    assert report.written, report.errors
    with unit_of_work(engine) as s:
        ids = {
            p.source_record_id: p.id
            for p in s.scalars(
                select(Person).where(Person.source_record_id.in_([r["record_id"] for r in rows]))
            )
        }
    return [ids[r["record_id"]] for r in rows]


def _request(engine: Engine, sought: SoughtPerson) -> tuple[int, str, str]:
    with unit_of_work(engine) as s:
        req, secret = create_request(s, ACTOR, sought, FAMILY)
        continuous.match_request(s, ACTOR, req.id)
        return req.id, req.reference, secret


def _candidates(engine: Engine, request_id: int) -> list[tuple[str, float, dict, str]]:
    with unit_of_work(engine) as s:
        rows = cands.list_candidates(s, request_id=request_id)
        return [
            (s.get(Person, c.person_id).source_record_id, c.probability, c.explanation, c.state) for c in rows
        ]  # type: ignore[union-attr]


def test_paktishev_found_from_a_request_with_a_birth_year(engine: Engine) -> None:
    _import_demo(engine)
    rid, ref, _ = _request(engine, SoughtPerson("Пактышев Леонид Андреевич", birth_date="1993"))
    found = _candidates(engine, rid)
    assert found, "no candidate stored"
    top_id, prob, expl, state = found[0]
    assert top_id == "RU-0000"
    assert prob >= 0.5 and state == "pending"
    assert all(p <= prob for _, p, _, _ in found)
    # Age 28 on 2022-02-27 is consistent with born 1993: the birth field counts for, not against.
    assert expl["birth"]["level"] == "same_year" and expl["birth"]["weight"] > 0
    assert expl["family_name"]["level"] == "exact"
    with unit_of_work(engine) as s:
        assert find_request(s, ref).state == "candidates"  # type: ignore[union-attr]
        assert audit_log.verify(s) == []
        assert s.scalar(select(func.count()).where(AuditEntry.entity == "match_candidate")) == len(found)


def test_rare_name_without_birth_year_ranks_the_right_person_first(engine: Engine) -> None:
    _import_demo(engine)
    for name in ("Leonid Paktishev", "Пактышев Леонид"):
        rid, _, _ = _request(engine, SoughtPerson(name))
        found = _candidates(engine, rid)
        assert found and found[0][0] == "RU-0000", (name, found[:3])


def test_rerunning_matching_never_duplicates_candidates(engine: Engine) -> None:
    _import_demo(engine)
    rid, _, _ = _request(engine, SoughtPerson("Пактышев Леонид Андреевич", birth_date="1993"))
    with unit_of_work(engine) as s:
        before = s.scalar(select(func.count(MatchCandidate.id)))
        again = continuous.match_request(s, ACTOR, rid)
    assert again.created == 0 and again.unchanged >= 1
    first = batch.match_all(engine, ACTOR)
    second = batch.match_all(engine, ACTOR)
    assert second.created == 0 and second.updated == 0
    with unit_of_work(engine) as s:
        after = s.scalar(select(func.count(MatchCandidate.id)))
        pairs = s.scalars(select(MatchCandidate.pair)).all()
    assert after >= before and after == before + first.created
    assert len(pairs) == len(set(pairs))


def test_a_new_record_is_matched_against_open_requests(engine: Engine, tmp_path: Path) -> None:
    rid, _, _ = _request(engine, SoughtPerson("Кравчук Тарас Петрович", birth_date="1991", sex="m"))
    assert _candidates(engine, rid) == []
    [pid] = _import_rows(
        engine,
        tmp_path,
        "camp-list",
        [{"record_id": "C-1", "full_name": "КРАВЧУК Тарас Петрович", "sex": "m", "birth_date": "1991-05-05"}],
    )
    with unit_of_work(engine) as s:
        summary = continuous.match_new_records(s, ACTOR, [pid])
    assert rid in summary.requests
    found = _candidates(engine, rid)
    assert [f[0] for f in found] == ["C-1"] and found[0][1] > 0.9
    with unit_of_work(engine) as s:
        assert s.get(TracingRequest, rid).state == "candidates"  # type: ignore[union-attr]


def test_namesakes_stay_apart_and_one_person_from_two_sources_is_clustered(
    engine: Engine, tmp_path: Path
) -> None:
    a = _import_rows(
        engine,
        tmp_path,
        "registry-a",
        [
            {"record_id": "A-1", "full_name": "Иванов Иван Иванович", "sex": "m", "birth_date": "1980-03-01"},
            {"record_id": "A-2", "full_name": "Иванов Иван Иванович", "sex": "m", "birth_date": "1990-07-12"},
            {
                "record_id": "A-3",
                "full_name": "Петренко Олег Миколайович",
                "sex": "m",
                "birth_date": "1985-04-04",
                "unit": "74-я отдельная мотострелковая бригада",
            },
        ],
    )
    b = _import_rows(
        engine,
        tmp_path,
        "press",
        [
            {
                "record_id": "P-1",
                "full_name": "Oleh Petrenko",
                "sex": "m",
                "birth_date": "1985-04-04",
                "unit": "74 ОМСБр",
            }
        ],
    )
    with unit_of_work(engine) as s:
        continuous.match_new_records(s, ACTOR, a + b)
    with unit_of_work(engine) as s:
        assert clusters.cluster_of(s, a[0]) == [a[0]]
        assert clusters.cluster_of(s, a[1]) == [a[1]]
        assert clusters.cluster_of(s, a[2]) == sorted([a[2], b[0]])
        ivanov = s.scalar(select(MatchCandidate).where(MatchCandidate.pair == f"p{a[0]}:p{a[1]}"))
        # If the namesakes were linked at all, it is as an unlikely pair with the birth dates saying why.
        if ivanov is not None:
            assert ivanov.probability < 0.5
            assert ivanov.explanation["birth"]["level"] == "different"


def test_secret_is_hashed_and_checked(engine: Engine) -> None:
    rid, ref, secret = _request(engine, SoughtPerson("Пактышев Леонид"))
    with unit_of_work(engine) as s:
        req = s.get(TracingRequest, rid)
        assert req is not None and req.secret_hash.startswith("hmac-sha256$")
        assert secret not in req.secret_hash
        assert check_secret(s, ref, secret) is not None
        assert check_secret(s, ref, secret + "x") is None
        assert check_secret(s, "TR-0000-0000", secret) is None
        with pytest.raises(Refused):
            create_request(s, ACTOR, SoughtPerson("  "), FAMILY)
        with pytest.raises(Refused):
            create_request(s, ACTOR, SoughtPerson("Пактышев", age=28), FAMILY)


def test_deciding_needs_the_version_seen_and_a_confirmation_matches_the_request(engine: Engine) -> None:
    _import_demo(engine)
    rid, ref, _ = _request(engine, SoughtPerson("Пактышев Леонид Андреевич", birth_date="1993"))
    with unit_of_work(engine) as s:
        c = cands.list_candidates(s, request_id=rid)[0]
        cid, version = c.id, c.version
    with unit_of_work(engine) as s, pytest.raises(Refused) as stale:
        decide(s, ACTOR, cid, "confirmed", "same birth year", version + 1, model=load_model())
    assert stale.value.kind == "conflict" and stale.value.field == "version"
    with unit_of_work(engine) as s, pytest.raises(Refused) as no_reason:
        decide(s, ACTOR, cid, "confirmed", "  ", version, model=load_model())
    assert no_reason.value.kind == "invalid" and no_reason.value.field == "reason"
    with unit_of_work(engine) as s:
        c = decide(s, ACTOR, cid, "confirmed", "same birth year", version, model=load_model()).candidate
        assert c.state == "confirmed" and c.version == version + 1
    with unit_of_work(engine) as s:
        req = find_request(s, ref)
        assert req is not None and req.state == "matched" and req.matched_person_id == c.person_id
        # A later run keeps the decision.
        continuous.match_request(s, ACTOR, rid)
        assert s.get(MatchCandidate, cid).state == "confirmed"  # type: ignore[union-attr]
        assert audit_log.verify(s) == []


def test_match_in_worker_processes_finds_what_one_process_finds(engine: Engine, tmp_path: Path) -> None:
    from bench.registry.data import generate

    path = tmp_path / "registry.csv"
    generate(path, 1500)  # common names drawn from small pools: many namesakes to link or keep apart
    assert imports.import_registry(engine, path, "big", ACTOR).written
    _import_demo(engine)
    for name in ("Пактышев Леонид Андреевич", "Савченко Надія"):
        with unit_of_work(engine) as s:
            create_request(s, ACTOR, SoughtPerson(full_name=name), FAMILY)
    forked = batch.match_all(engine, ACTOR, processes=2, chunk=400)
    assert forked.created > 0
    again = batch.match_all(engine, ACTOR, processes=1, chunk=400)
    assert (again.created, again.updated) == (0, 0) and again.unchanged == forked.created


def test_the_first_keys_of_a_new_database_are_not_taken_for_stale(engine: Engine) -> None:
    # As `kinlink demo` does: import, then match the new records (which keys them), no `kinlink init` after.
    report = imports.import_registry(engine, DEMO_REGISTRY, "demo-registry", ACTOR)
    with unit_of_work(engine) as s:
        continuous.match_new_records(s, ACTOR, report.changed_ids)
    with unit_of_work(engine) as s:
        assert s.scalar(select(func.count(MatchKey.id)))
        assert not match_keys.keys_stale(s)


def test_keys_from_an_older_kinlink_are_rebuilt(engine: Engine, db_url: str) -> None:
    from typer.testing import CliRunner

    from kinlink.cli import app
    from kinlink.store.tracing_models import MatchKey, MatchKeyScheme

    _import_demo(engine)
    batch.match_all(engine, ACTOR, dedup=False)

    def keys() -> set[tuple[str, int, str]]:
        with unit_of_work(engine) as s:
            return {(k.entity, k.entity_id, k.key) for k in s.scalars(select(MatchKey))}

    fresh = keys()
    assert fresh
    with unit_of_work(engine) as s:  # as an older kinlink left them: other keys, another fingerprint
        s.execute(MatchKey.__table__.delete().where(MatchKey.key.like("f:%")))
        s.add(MatchKey(entity="p", entity_id=1, key="f:OLD"))
        s.get(MatchKeyScheme, 1).fingerprint = "0" * 64  # type: ignore[union-attr]
    with unit_of_work(engine) as s:
        assert match_keys.keys_stale(s)
    result = CliRunner().invoke(app, ["--db", db_url, "init"])
    assert result.exit_code == 0 and "Matching keys rebuilt" in result.output
    assert keys() == fresh
    with unit_of_work(engine) as s:
        assert not match_keys.keys_stale(s)
    again = CliRunner().invoke(app, ["--db", db_url, "init"])
    assert "rebuilt" not in again.output


def test_families_are_told_how_long_an_answer_usually_takes_only_from_enough_answers(
    engine: Engine, tmp_path: Path
) -> None:
    """The status page's "how long it usually takes": the median days from filing to a confirmed match,
    over recent requests, said only once there are enough of them (WAIT_SAMPLE_MIN)."""
    from datetime import timedelta

    from kinlink.tracing.family_access import WAIT_SAMPLE_MIN, family_view, usual_wait_days

    surnames = ["Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Олійник", "Шевчук", "Поліщук", "Лисенко"]
    given = ["Андрій", "Богдан", "Василь"]
    people = [(s, g) for s in surnames for g in given][:WAIT_SAMPLE_MIN]
    rows = [
        {
            "record_id": f"W-{n}",
            "full_name": f"{s} {g}",
            "birth_date": f"{1980 + n}-03-0{1 + n % 9}",
            "status": "captured",
        }
        for n, (s, g) in enumerate(people)
    ]
    _import_rows(engine, tmp_path, "wait", rows)
    waits = []
    for n, row in enumerate(rows):
        rid, _, _ = _request(engine, SoughtPerson(row["full_name"], birth_date=row["birth_date"]))
        with unit_of_work(engine) as s:
            c = next(c for c in cands.list_candidates(s, request_id=rid) if c.state == "pending")
            if n:  # the first stays unanswered until the end
                decide(s, ACTOR, c.id, "confirmed", "same name and birth date", c.version, model=load_model())
            req = s.get(TracingRequest, rid)
            req.created_at = req.created_at - timedelta(days=3 * n)  # filed 3n days before the answer
            waits.append((rid, c.id, c.version))
        with unit_of_work(engine) as s:
            assert family_view(s, rid, "web").usual_wait_days is None  # type: ignore[union-attr]
    with unit_of_work(engine) as s:
        assert usual_wait_days(s) is None  # 19 answers: too few to say
        rid, cid, version = waits[0]
        decide(s, ACTOR, cid, "confirmed", "same name and birth date", version, model=load_model())
    with unit_of_work(engine) as s:
        # Days 0, 3, ..., 57 from filing to answer: the median of twenty is between 27 and 30.
        assert usual_wait_days(s) in (28, 29)
        assert family_view(s, rid, "web").usual_wait_days == usual_wait_days(s)  # type: ignore[union-attr]
