"""The Spark engine against the in-process one: the same model and scorer give the same candidates.

Spark runs in local mode (local[2], one shuffle partition, UI off, a small driver): `pytest -m spark`."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from kinlink.demo import DEMO_REGISTRY
from kinlink.engines.spark import indexed, linkage
from kinlink.engines.spark.estimate import estimate_records
from kinlink.engines.spark.frames import records_table, scored_from_json, scored_to_json
from kinlink.engines.spark.run import SparkOptions, link, write_back
from kinlink.engines.spark.run import match as spark_match
from kinlink.engines.spark.session import spark_session
from kinlink.engines.spark.snapshot import request_ids, write_snapshot
from kinlink.matching.em import estimate
from kinlink.matching.index import CandidateIndex
from kinlink.matching.model import load_model
from kinlink.registry import imports
from kinlink.store import audit
from kinlink.store.db import unit_of_work
from kinlink.store.tracing_models import MatchCandidate
from kinlink.tracing import batch
from kinlink.tracing.continuous import MatchSummary
from kinlink.tracing.requests import Enquirer, SoughtPerson, create_request

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "matching"))

pytestmark = [pytest.mark.spark, pytest.mark.skipif(shutil.which("java") is None, reason="no java")]

ACTOR = "test:caseworker"
FAMILY = Enquirer("Полівцева Ольга", "sister", "+7 900 000 00 00", "ru")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    with spark_session("local[2]", shuffle_partitions=1, driver_memory="512m", app="kinlink-tests") as s:
        yield s


@dataclass
class Generated:
    """20,000 generated records and 2,000 requests (known truth) as Parquet, and every request's top
    candidate and probability found by the in-process engine."""

    directory: Path
    requests: list[Any]
    truth: list[int | None]
    local: dict[int, tuple[int, float] | None]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    from generate import dataset  # bench/matching: people with known truth, namesakes, typos, scripts

    ds = dataset(20_000, 2_000)
    requests = [replace(q, id=i + 1) for i, q in enumerate(ds.requests)]
    directory = tmp_path_factory.mktemp("generated")
    for part in ("records", "sightings", "requests"):
        (directory / part).mkdir()
    # Two files out of id order, as the export writes them: the index plan must put them back in order.
    half = len(ds.records) // 2
    pq.write_table(records_table(ds.records[half:]), directory / "records" / "part-00000.parquet")
    pq.write_table(records_table(ds.records[:half]), directory / "records" / "part-00001.parquet")
    pq.write_table(records_table([]), directory / "sightings" / "part-00000.parquet")
    pq.write_table(records_table(requests), directory / "requests" / "part-00000.parquet")
    model = load_model()
    index = CandidateIndex.build(model, ds.records)
    local: dict[int, tuple[int, float] | None] = {}
    for q in requests:
        hits = index.search(q, limit=20, shortlist=30, min_probability=model.candidate_threshold)
        local[int(q.id)] = (int(hits[0].record.id), hits[0].scored.probability) if hits else None
    return Generated(directory, requests, list(ds.truth), local)


@pytest.mark.parametrize("plan", ["index", "join"])
def test_spark_finds_the_same_top_candidate_and_probability_for_every_request(
    spark: Any, generated: Generated, plan: str
) -> None:
    model = load_model()
    requests = spark.read.parquet(str(generated.directory / "requests"))
    if plan == "index":
        paths = indexed.registry_paths(generated.directory)
        found = indexed.link_requests(requests, paths, model, partitions=2)
    else:
        reg = linkage.registry(spark, spark.read.parquet(str(generated.directory / "records")))
        found = linkage.link_requests(reg, requests, model)
    rows = found.where("n = 1").select("rid", "id", "probability").collect()
    local = generated.local
    on_spark = dict.fromkeys(local) | {r["rid"]: (r["id"], r["probability"]) for r in rows}

    assert sum(v is not None for v in local.values()) > 1500  # most requests have a candidate
    differ = {rid: (local[rid], on_spark[rid]) for rid in local if local[rid] != on_spark[rid]}
    assert not differ, list(differ.items())[:5]
    # And the right person is the top candidate about as often as the generator says it should be.
    right = sum(
        1
        for q, t in zip(generated.requests, generated.truth, strict=True)
        if t and on_spark[q.id] and on_spark[q.id][0] == t
    )
    assert right > 0.8 * sum(t is not None for t in generated.truth)


@pytest.mark.parametrize("plan", ["index", "join"])
def test_match_on_spark_stores_what_the_local_engine_stores_and_a_rerun_adds_nothing(
    engine: Engine, spark: Any, tmp_path: Path, plan: str
) -> None:
    assert imports.import_registry(engine, DEMO_REGISTRY, "demo-registry", ACTOR).written
    for name in ("Пактышев Леонид Андреевич", "Leonid Paktishev", "Савченко Надія", "Никто Никтович"):
        with unit_of_work(engine) as s:
            create_request(s, ACTOR, SoughtPerson(full_name=name), FAMILY)
    model = load_model()

    options = SparkOptions(plan=plan)
    first = spark_match(
        engine, ACTOR, model, options=options, snapshot=tmp_path / "snap", chunk=2, spark=spark
    )
    assert first.created > 0 and len(first.requests) == 4
    again = spark_match(engine, ACTOR, model, options=options, snapshot=tmp_path / "snap", spark=spark)
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
    # The in-process engine finds the same candidates with the same probabilities: it changes nothing.
    local = batch.match_all(engine, ACTOR, model=model, dedup=False)
    assert (local.created, local.updated) == (0, 0)
    with unit_of_work(engine) as s:
        pairs = s.scalars(select(MatchCandidate.pair)).all()
        assert not audit.verify(s)  # one entry per candidate and state change, every chain intact
    assert len(pairs) == len(set(pairs)) == first.created


def _refuse_candidates_of(engine: Engine, request_id: int | None) -> None:
    """A database that refuses to store a candidate of this request (a fault mid-write: a disk full, a
    server gone), or (None) accepts them all again."""
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS kl_refuse" + (" ON match_candidates" if pg else "")))
        if request_id is None:
            return
        if pg:
            conn.execute(
                text(
                    "CREATE OR REPLACE FUNCTION kl_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$"
                )
            )
            action = "FOR EACH ROW WHEN (NEW.request_id = :rid) EXECUTE FUNCTION kl_refuse()"
        else:
            action = "WHEN NEW.request_id = :rid BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        sql = f"CREATE TRIGGER kl_refuse BEFORE INSERT ON match_candidates {action}"
        conn.execute(text(sql.replace(":rid", str(int(request_id)))))


def test_a_write_back_stopped_mid_partition_loses_only_its_transaction_and_a_rerun_completes_it(
    engine: Engine, spark: Any, tmp_path: Path
) -> None:
    assert imports.import_registry(engine, DEMO_REGISTRY, "demo-registry", ACTOR).written
    for name in ("Пактышев Леонид Андреевич", "Leonid Paktishev", "Савченко Надія") * 4:
        with unit_of_work(engine) as s:
            create_request(s, ACTOR, SoughtPerson(full_name=name), FAMILY)
    model = load_model()
    snap = tmp_path / "snap"
    write_snapshot(engine, ACTOR, snap)
    spark.conf.set("spark.sql.shuffle.partitions", "3")
    try:
        link(spark, snap, model)
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", "1")
    files = sorted((snap / "candidates").glob("*.parquet"))
    by_file = [pq.read_table(f, columns=["rid"]).column("rid").to_pylist() for f in files]
    by_file = [rids for rids in by_file if rids]
    assert len(by_file) >= 2 and len(set(by_file[-1])) >= 3  # a partition before the one that fails
    ids, fails = request_ids(snap), sorted(set(by_file[-1]))[-1]  # the last partition's last request

    _refuse_candidates_of(engine, fails)
    # (A COPY fails with the driver's own error, not wrapped as SQLAlchemy's.)
    with pytest.raises((DBAPIError, psycopg.Error), match="disk full"):
        write_back(engine, ACTOR, model, snap / "candidates", ids, 2, MatchSummary())
    with unit_of_work(engine) as s:
        stored = {r for r in s.scalars(select(MatchCandidate.request_id))}
    # Every partition before it committed, and the failing one's transactions before the one in flight.
    assert set().union(*map(set, by_file[:-1])) <= stored and fails not in stored

    _refuse_candidates_of(engine, None)
    rerun = MatchSummary()
    write_back(engine, ACTOR, model, snap / "candidates", ids, 2, rerun)
    assert rerun.created > 0 and rerun.unchanged > 0 and rerun.updated == 0
    with unit_of_work(engine) as s:
        pairs = s.scalars(select(MatchCandidate.pair)).all()
        assert not audit.verify(s)
    assert len(pairs) == len(set(pairs)) == sum(map(len, by_file))
    # What the in-process engine stores: it finds nothing to add or change.
    local = batch.match_all(engine, ACTOR, model=model, dedup=False)
    assert (local.created, local.updated) == (0, 0)


def test_an_explained_score_crosses_from_the_executors_unchanged() -> None:
    from kinlink.matching.record import MatchRecord
    from kinlink.matching.score import Scorer

    scorer = Scorer(load_model())
    q = scorer.prepare(MatchRecord(1, "Пактышев Леонид Андреевич", birth_date="1993"))
    r = scorer.prepare(MatchRecord(2, "Paktishev Leonid", birth_date="1993-04-02", sex="m"))
    s = scorer.score(q, r)
    back = scored_from_json(scored_to_json(s))
    assert (back.probability, back.weight, back.explanation()) == (s.probability, s.weight, s.explanation())


def test_em_on_spark_counts_the_pairs_the_in_process_estimate_counts(spark: Any, tmp_path: Path) -> None:
    from generate import dataset

    ds = dataset(2_000, 10)
    pq.write_table(records_table(ds.records), tmp_path / "records.parquet")
    model = load_model()
    local = estimate(model, ds.records, random_pairs=10_000, sample=500)
    records = spark.read.parquet(str(tmp_path / "records.parquet"))
    on_spark = estimate_records(spark, records, model, random_pairs=10_000, sample=500)
    assert on_spark.candidate_pairs == local.candidate_pairs > 0
    assert on_spark.model.trained["birth_pairs"] == local.model.trained["birth_pairs"]  # type: ignore[index]
    for a, b in zip(local.model.comparisons, on_spark.model.comparisons, strict=True):
        for la, lb in zip(a.levels, b.levels, strict=True):
            assert lb.u == pytest.approx(la.u, abs=1e-6), (a.field, la.name)
            assert lb.m == pytest.approx(la.m, abs=1e-4), (a.field, la.name)


def test_the_command_names_a_wrong_engine(cli: Any) -> None:
    wrong = cli("match", "--engine", "hadoop", ok=False)
    assert wrong.exit_code != 0 and "--engine" in wrong.output and "local or spark" in wrong.output
    wrong = cli("match", "--engine", "spark", "--plan", "broadcast", ok=False)
    assert wrong.exit_code != 0 and "--plan" in wrong.output and "index or join" in wrong.output


@pytest.mark.parametrize("plan", ["index", "join"])
def test_spark_links_records_to_each_other_as_the_local_engine_does(
    spark: Any, tmp_path: Path, plan: str
) -> None:
    from generate import dataset

    ds = dataset(3_000, 400)
    # The requests (most about someone in the registry, spelled otherwise) as records too: duplicates.
    top = max(int(r.id) for r in ds.records)  # type: ignore[arg-type]
    records = ds.records + [replace(q, id=top + i + 1, kind="record") for i, q in enumerate(ds.requests)]
    for part, rows in (("records", records), ("sightings", [])):
        (tmp_path / part).mkdir()
        pq.write_table(records_table(rows), tmp_path / part / "part-00000.parquet")
    model = load_model()
    index = CandidateIndex.build(model, records)
    local = set()
    for row in range(len(index)):  # as `tracing.batch._link_record_chunk`: the lower id as the query
        for hit in index.search(index.record(row), 6, 30, model.candidate_threshold):
            if hit.row != row:
                scored = hit.scored if row < hit.row else index.score_rows(hit.row, row)
                pair = sorted((int(index.record(row).id), int(hit.record.id)))  # type: ignore[arg-type]
                local.add((pair[0], pair[1], scored.probability, _explained(scored)))

    registry = spark.read.parquet(str(tmp_path / "records"))
    if plan == "index":
        pairs = indexed.record_pairs(registry, indexed.registry_paths(tmp_path), model, 2).collect()
    else:
        reg = linkage.registry(spark, registry)
        linkage.record_hits(reg, model).write.parquet(str(tmp_path / "hits"))
        pairs = linkage.record_pairs(reg, spark.read.parquet(str(tmp_path / "hits")), model).collect()
    on_spark = set()
    for r in pairs:
        s = scored_from_json(r["scored"])
        on_spark.add((r["left"], r["right"], s.probability, _explained(s)))
    assert len(local) > 100
    assert on_spark == local, (sorted(local - on_spark)[:3], sorted(on_spark - local)[:3])


def _explained(s: Any) -> str:
    return json.dumps(s.explanation(), sort_keys=True, ensure_ascii=False)


def test_match_dedup_on_spark_stores_what_the_local_engine_stores(
    engine: Engine, spark: Any, tmp_path: Path
) -> None:
    # The demo registry imported twice, as from two sources: each person has a record in each.
    assert imports.import_registry(engine, DEMO_REGISTRY, "demo-registry", ACTOR).written
    assert imports.import_registry(engine, DEMO_REGISTRY, "demo-registry-copy", ACTOR).written
    model = load_model()
    first = spark_match(engine, ACTOR, model, snapshot=tmp_path / "snap", chunk=3, spark=spark, dedup=True)
    assert first.created > 0
    again = spark_match(engine, ACTOR, model, snapshot=tmp_path / "snap", spark=spark, dedup=True)
    assert (again.created, again.updated) == (0, 0)
    local = batch.match_all(engine, ACTOR, model=model, dedup=True)
    assert (local.created, local.updated) == (0, 0)


def test_the_pre_rank_in_the_jvm_is_the_index_pre_rank_bit_for_bit(spark: Any) -> None:
    import numpy as np

    from kinlink.matching.comparators import birth_range, sex_key
    from kinlink.matching.keys import MISSING_DAY, prerank
    from kinlink.matching.record import MatchRecord

    rng = np.random.default_rng(3)
    n = 4_000
    day = date(1990, 6, 1).toordinal()
    lo = rng.integers(day - 4_000, day + 4_000, n)
    hi = lo + rng.choice([0, 30, 364, 3_000], n)
    unknown = rng.random(n) < 0.2
    lo, hi = np.where(unknown, MISSING_DAY, lo), np.where(unknown, MISSING_DAY, hi)
    shared = rng.integers(1, 9, n)
    sex = rng.integers(0, 3, n).astype(np.int8)
    queries = [
        MatchRecord(id=1, name="x", birth_date="1990-06-01", sex="m"),
        MatchRecord(id=2, name="x", birth_date="1991", sex="ж"),
        MatchRecord(id=3, name="x", age=30, age_as_of="2021-03-01"),
        MatchRecord(id=4, name="x"),
    ]
    rows = []
    for q in queries:
        br = birth_range(q.birth_date, q.age, q.age_as_of, q.birth_year_to) or (MISSING_DAY, MISSING_DAY)
        code = {"m": 1, "f": 2}.get(sex_key(q.sex) or "", 0)
        rows += [
            (q.id, i, int(shared[i]), int(lo[i]), int(hi[i]), int(sex[i]), br[0], br[1], code)
            for i in range(n)
        ]
    frame = spark.createDataFrame(
        rows, "rid long, id long, shared long, lo int, hi int, sex_code byte, q_lo int, q_hi int, q_sex byte"
    )
    got = {
        (r["rid"], r["id"]): r["pre"]
        for r in frame.select("rid", "id", linkage.prerank().alias("pre")).collect()
    }
    for q in queries:
        want = prerank(q, shared.astype(np.float32), lo.astype(np.int32), hi.astype(np.int32), sex)
        on_spark = np.array([got[(q.id, i)] for i in range(n)], dtype=np.float32)
        assert np.array_equal(want, on_spark), (q, np.flatnonzero(want != on_spark)[:5])


def test_match_dedup_on_spark_counts_what_the_local_engine_counts(
    engine: Engine, spark: Any, tmp_path: Path
) -> None:
    from tests.conftest import _truncate

    def registry() -> None:  # the demo registry from two sources: each person has a record in each
        assert imports.import_registry(engine, DEMO_REGISTRY, "demo-registry", ACTOR).written
        assert imports.import_registry(engine, DEMO_REGISTRY, "demo-registry-copy", ACTOR).written

    def counts(s: Any) -> tuple[int, int, int]:
        return s.created, s.updated, s.unchanged

    model = load_model()
    registry()
    local = [batch.match_all(engine, ACTOR, model=model, dedup=True) for _run in range(2)]
    _truncate(engine)
    registry()
    on_spark = [
        spark_match(engine, ACTOR, model, snapshot=tmp_path / "snap", chunk=3, spark=spark, dedup=True)
        for _run in range(2)
    ]
    # A pair found from both its records is counted twice by both engines (the second time unchanged).
    assert counts(local[0]) == counts(on_spark[0]) and local[0].created > 0
    assert counts(local[1]) == counts(on_spark[1]) == (0, 0, local[1].unchanged)
