"""Matching benchmark: kinlink's index and model against Splink 5 (DuckDB) on the same generated data.

    .venv/bin/python bench/matching/run.py --records 1000000 --requests 100000 [--no-splink] [--no-fields]
        [--baseline DIR]  (DIR: a checkout of the previous main, whose kinlink is measured alongside)
    .venv/bin/python bench/matching/run.py --engine spark [--master local[2]] [--partitions 4] ...

Each engine runs in a child process of its own, so its peak memory is its own. A request counts as linked
when its best candidate has probability >= 0.5; precision = right links / links made, recall = right links
/ requests about someone in the registry. Both engines read the registry from the same file inside their
clocks (kinlink's index streams it, Splink's preparation loads it); the requests are loaded before either.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

THRESHOLD = 0.5


def _own_peak_mib() -> float:
    # VmHWM, not getrusage: this process was started by fork and exec from the parent, and Linux carries the
    # parent's high-water mark (its generated dataset) into ru_maxrss across exec; VmHWM is this image's own.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_split_mib() -> tuple[float, float]:
    """This process's peak RSS, and the largest of its (forked) workers' (pages shared with it included)."""
    return _own_peak_mib(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def peak_rss_mib() -> float:
    return max(peak_rss_split_mib())


def metrics(predicted: list[int | None], truth: list[int | None]) -> dict[str, float]:
    tp = sum(1 for p, t in zip(predicted, truth, strict=True) if p is not None and p == t)
    made = sum(1 for p in predicted if p is not None)
    relevant = sum(1 for t in truth if t is not None)
    precision = tp / made if made else 0.0
    recall = tp / relevant if relevant else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "links": made, "right": tp}


# --- kinlink ---------------------------------------------------------------------------------------------


def run_kinlink(n_records: int, n_requests: int, processes: int, fields_table: bool) -> dict:
    import numpy as np
    from generate import queries, stream_records, strip_request

    from kinlink.matching.index import CandidateIndex
    from kinlink.matching.model import load_model
    from kinlink.matching.searcher import search_many

    qs = queries(n_records, n_requests)
    requests, truth, complete, complete_truth = qs.requests, qs.truth, qs.complete, qs.complete_truth
    model = load_model()
    rss_before = _rss_mib()
    cpu = _cpu_s()
    t0 = time.perf_counter()
    # Records streamed from disk as `kinlink match` streams them from the database: the memory measured is
    # the index's, not a list of a million records held beside it.
    index = CandidateIndex.build(model, stream_records(n_records, n_requests), processes=processes)
    build_s = time.perf_counter() - t0
    rss_index = _rss_mib()
    out: dict = {
        "build_s": build_s,
        "build_cpu_s": _cpu_s() - cpu,  # this process and its (finished) build workers
        "build_peak_rss_mib": _own_peak_mib(),
        "rss_before_build_mib": rss_before,
        "rss_after_build_mib": rss_index,
    }

    # Single queries, one at a time, in process (caches warm from nothing: the first 1000 requests).
    lat = []
    for q in requests[:1000]:
        t = time.perf_counter()
        index.search(q, limit=10)
        lat.append((time.perf_counter() - t) * 1000)
    out["latency_ms"] = {
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "p99": float(np.percentile(lat, 99)),
        "max": float(max(lat)),
    }
    out["rss_after_queries_mib"] = _rss_mib()

    t = time.perf_counter()
    cpu = _cpu_s()
    predicted = []
    tops = hashlib.sha256()  # every request's top candidate and its probability, to compare two trees by
    for hits in search_many(index, requests, limit=1, processes=processes):
        best = hits[0] if hits else None
        predicted.append(int(best.record.id) if best and best.scored.probability >= THRESHOLD else None)
        tops.update(repr((best.record.id, round(best.scored.probability, 9)) if best else None).encode())
    out["batch_s"] = time.perf_counter() - t
    out["batch_cpu_s"] = _cpu_s() - cpu
    out["tops"] = tops.hexdigest()
    out["batch"] = metrics(predicted, truth)

    if fields_table:
        stages = ["name + birth year/age", "+ patronymic", "+ full birth date", "+ unit", "+ region"]
        rows = []
        for stage, label in enumerate(stages):
            qs = [strip_request(q, stage) for q in complete]
            pred = []
            for hits in search_many(index, qs, limit=1, processes=processes):
                best = hits[0] if hits else None
                pred.append(int(best.record.id) if best and best.scored.probability >= THRESHOLD else None)
            rows.append({"stage": label, **metrics(pred, complete_truth)})
        out["fields"] = rows
        out["fields_requests"] = len(complete)
    out["peak_rss_mib"] = peak_rss_mib()
    out["peak_rss_own_mib"], out["peak_rss_worker_mib"] = peak_rss_split_mib()
    used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    out["cpu_s"] = sum(u.ru_utime + u.ru_stime for u in used)  # the whole child: build, queries, batch
    return out


def _cpu_s() -> float:
    used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in used)


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# --- Splink ----------------------------------------------------------------------------------------------


def _splink_rows(recs: Iterable, strong: bool = False) -> list[dict]:
    """Splink gets names split by the same parser and folded to Latin (it has no cross-script comparison).

    strong: what a competent Splink user would add for this data (issue 19): each name part romanised by
    kinlink's own reading key (`kinlink.names.readings`: Пактышев and Paktishev both read "paktiSev"), a
    consonant skeleton of the family name (`kinlink.names.skeleton`), and the birth year as the middle of
    the years an age allows (an age gives two years, not one) with a rounded year to block on.
    """
    from unidecode import unidecode

    from kinlink.matching import names_bridge as nb
    from kinlink.matching.comparators import latin, unit_key
    from kinlink.names import readings, skeleton

    def fold(s: str | None) -> str | None:
        return unidecode(s).lower().replace("'", "") if s else None

    def roman(s: str | None) -> str | None:
        if not s:
            return None
        words = [readings(w).primary or latin(w) for w in s.replace("-", " ").split()]
        return " ".join(w for w in words if w) or None

    name = roman if strong else fold
    rows = []
    for i, r in enumerate(recs):
        p = nb.parse(r.name)
        given = p.given[0] if p.given else None
        year: float | None = None
        dob = None
        if r.birth_date:
            year = int(r.birth_date[:4])
            dob = r.birth_date if len(r.birth_date) == 10 else None
        elif r.age is not None and r.age_as_of:
            # Born age or age + 1 years before: the weak set-up takes the earlier, the strong one the middle.
            year = int(r.age_as_of[:4]) - r.age - (0.5 if strong else 1)
        uk = unit_key(r.unit)
        row = {
            "unique_id": int(r.id) if r.id is not None else i,
            "first_name": name(given),
            "surname": name(p.family),
            "patronymic": name(p.patronymic),
            "dob": dob,
            "birth_year": year,
            "sex": r.sex,
            "region": fold(r.place_of_birth),
            "unit_number": min(uk[1]) if uk and uk[1] else None,
            "service_number": r.service_number,
        }
        if strong:
            row["surname_sk"] = skeleton(row["surname"].replace(" ", "")) if row["surname"] else None
            row["yob"] = round(year) if year is not None else None
        rows.append(row)
    return rows


def _best_threshold(best: list[tuple], truth: list[int | None]) -> dict:
    """Splink's F1 at the threshold that gives its best F1 on this very data (a favour to Splink)."""
    top = {int(a): (int(b), p) for a, b, p in best}
    out = {"threshold": THRESHOLD, "f1": -1.0}
    for thr in [0.01, 0.02, 0.05, *[t / 20 for t in range(2, 20)], 0.97, 0.99]:
        predicted = [top[i][0] if i in top and top[i][1] >= thr else None for i in range(len(truth))]
        m = metrics(predicted, truth)
        if m["f1"] > out["f1"]:
            out = {"threshold": thr, **m}
    return out


def run_splink(n_records: int, n_requests: int, strong: bool = False) -> dict:
    import duckdb
    import pyarrow as pa
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from generate import queries, stream_records
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    qs = queries(n_records, n_requests)
    out: dict = {}
    t0 = time.perf_counter()
    left = pa.Table.from_pylist(_splink_rows(qs.requests, strong))
    # The registry is read from the same file, inside the clock, as kinlink's index reads it.
    right = pa.Table.from_pylist(_splink_rows(stream_records(n_records, n_requests), strong))
    out["prepare_s"] = time.perf_counter() - t0
    truth = qs.truth
    del qs

    t = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    # Spill to disk rather than be killed: the machine has 24 GiB, shared with the kinlink child's data.
    con.execute("SET memory_limit = '12GB'")
    db_api = DuckDBAPI(connection=con)
    df_l = db_api.register(left, table_name="requests")
    df_r = db_api.register(right, table_name="registry")
    if strong:
        settings, prior = _strong_settings(cl, cll, block_on, truth, len(left), len(right))
    else:
        blocking = [
            block_on("surname", "birth_year"),
            block_on("first_name", "patronymic", "birth_year"),
            block_on("surname", "first_name"),
            block_on("service_number"),
        ]
        settings = SettingsCreator(
            link_type="link_only",
            blocking_rules_to_generate_predictions=blocking,
            comparisons=[
                cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
                cl.NameComparison("surname").configure(term_frequency_adjustments=True),
                cl.NameComparison("patronymic"),
                cl.DateOfBirthComparison("dob", input_is_string=True),
                cl.ExactMatch("birth_year"),
                cl.ExactMatch("sex"),
                cl.ExactMatch("region").configure(term_frequency_adjustments=True),
                cl.ExactMatch("unit_number"),
                cl.ExactMatch("service_number"),
            ],
            retain_intermediate_calculation_columns=False,
        )
        prior = None
    linker = Linker([df_l, df_r], settings)
    if prior is None:
        linker.training.estimate_probability_two_random_records_match(
            [block_on("surname", "first_name", "dob")], recall=0.5
        )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    # max_pairs: Splink's own sampling of the EM pairs. Unsampled, blocking on first name and patronymic
    # pairs every Александр Сергеевич with every other at a million records, and DuckDB ran the machine
    # out of its 24 GiB. (These two EM blocks gave Splink its best F1 here of those tried.)
    year = "yob" if strong else "birth_year"
    for rule in (block_on("surname", year), block_on("first_name", "patronymic")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=5e6)
    out["train_s"] = time.perf_counter() - t

    t = time.perf_counter()
    for col in ("first_name", "surname", "region", *(("patronymic",) if strong else ())):
        linker.table_management.compute_tf_table(col)
    pred = linker.inference.predict_between(df_l, df_r, threshold_match_probability=0.01)
    best = con.execute(
        f"""
        select unique_id_l, unique_id_r, match_probability from (
          select unique_id_l, unique_id_r, match_probability,
                 row_number() over (partition by unique_id_l order by match_probability desc) as rn
          from {pred.physical_name}) where rn = 1
        """
    ).fetchall()
    out["predict_s"] = time.perf_counter() - t
    out["pairs_scored"] = con.execute(f"select count(*) from {pred.physical_name}").fetchone()[0]
    chosen: dict[int, int] = {int(a): int(b) for a, b, p in best if p >= THRESHOLD}
    predicted = [chosen.get(i) for i in range(len(truth))]
    out["batch"] = metrics(predicted, truth)
    out["best"] = _best_threshold(best, truth)
    out["config"] = "strong" if strong else "as before"
    out["total_s"] = out["prepare_s"] + out["train_s"] + out["predict_s"]
    out["peak_rss_mib"] = peak_rss_mib()
    return out


def _strong_settings(cl, cll, block_on, truth: list, n_left: int, n_right: int):  # type: ignore[no-untyped-def]
    """The Splink set-up its documentation would suggest for this data: more blocking rules (on the
    romanised names, the skeleton, the rounded birth year), term frequencies on every name part, the
    surname compared exactly, by skeleton, then by Jaro-Winkler, the birth year by distance (an age gives
    a range), and λ fixed at the known prior instead of estimated."""
    from splink import SettingsCreator

    prior = sum(t is not None for t in truth) / (n_left * n_right)
    blocking = [
        block_on("surname", "yob"),
        block_on("surname_sk", "yob"),
        block_on("surname_sk", "first_name"),
        block_on("surname_sk", "patronymic"),
        block_on("first_name", "patronymic", "yob"),
        block_on("surname", "first_name"),
        block_on("service_number"),
    ]
    surname = cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel("surname"),
            cll.ExactMatchLevel("surname", term_frequency_adjustments=True),
            cll.ExactMatchLevel("surname_sk"),
            cll.JaroWinklerLevel("surname", 0.92),
            cll.JaroWinklerLevel("surname", 0.8),
            cll.ElseLevel(),
        ],
        output_column_name="surname",
    )
    birth_year = cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel("birth_year"),
            cll.AbsoluteDifferenceLevel("birth_year", 0.5),
            cll.AbsoluteDifferenceLevel("birth_year", 1.5),
            cll.AbsoluteDifferenceLevel("birth_year", 3.5),
            cll.ElseLevel(),
        ],
        output_column_name="birth_year",
    )
    settings = SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            surname,
            cl.NameComparison("patronymic").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            birth_year,
            cl.ExactMatch("sex"),
            cl.ExactMatch("region").configure(term_frequency_adjustments=True),
            cl.ExactMatch("unit_number"),
            cl.ExactMatch("service_number"),
        ],
        probability_two_random_records_match=prior,
        retain_intermediate_calculation_columns=False,
    )
    return settings, prior


# --- driver ----------------------------------------------------------------------------------------------


def child(engine: str, args: argparse.Namespace, baseline: Path | None = None) -> dict:
    """Run one engine in a child process; with baseline (a checkout of the previous main), that
    checkout's kinlink, measured by this bench on the same data."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if baseline is not None:
        env["PYTHONPATH"] = str(baseline.resolve() / "src")
    cmd = [
        sys.executable,
        __file__,
        "--child",
        engine,
        "--records",
        str(args.records),
        "--requests",
        str(args.requests),
        "--processes",
        str(args.processes),
        "--master",
        args.master,
        "--partitions",
        str(args.partitions),
        "--plan",
        "join" if baseline is not None and engine == "spark" else args.plan,  # the baseline has no other
    ]
    if args.no_fields:
        cmd.append("--no-fields")
    # Spark's child writes its progress to stderr as it goes (a long run's log shows how far it got): let
    # it through. The others' is kept for the error message.
    stderr = None if engine == "spark" else subprocess.PIPE
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)
    if res.returncode != 0:
        # A negative code is the signal that ended the child (-9: killed, e.g. out of memory).
        return {"error": f"exit code {res.returncode}\n" + (res.stderr or "(its stderr is above)")[-3000:]}
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--no-splink", action="store_true")
    ap.add_argument("--no-fields", action="store_true")
    ap.add_argument("--child")
    ap.add_argument("--baseline", type=Path, help="a checkout of the previous main: its kinlink alongside")
    ap.add_argument(
        "--engine",
        choices=["local", "spark"],
        default="local",
        help="spark: also the Spark engine (local mode), beside the in-process one",
    )
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int, default=4, help="Spark's shuffle partitions")
    ap.add_argument("--no-local", action="store_true", help="no in-process kinlink: Spark or Splink alone")
    ap.add_argument(
        "--plan",
        choices=["index", "join"],
        default="index",
        help="the Spark engine's plan: index (each worker searches its requests in the registry's index) or "
        "join (the registry joined to the requests on keys); with --baseline, the baseline runs join",
    )
    args = ap.parse_args()

    if args.child == "spark":
        from spark_engine import run_spark

        print(
            json.dumps(
                run_spark(
                    args.records, args.requests, args.master, args.partitions, metrics, THRESHOLD, args.plan
                )
            )
        )
        return

    if args.child == "kinlink":
        print(json.dumps(run_kinlink(args.records, args.requests, args.processes, not args.no_fields)))
        return
    if args.child in ("splink", "splink-strong"):
        print(json.dumps(run_splink(args.records, args.requests, strong=args.child == "splink-strong")))
        return

    from generate import dataset

    t = time.perf_counter()
    ds = dataset(args.records, args.requests)
    namesakes = _namesakes(ds)
    print(
        f"data: {args.records:,} registry records, {args.requests:,} requests "
        f"({sum(t is not None for t in ds.truth):,} about someone in the registry); "
        f"generated/loaded in {time.perf_counter() - t:.1f}s"
    )
    print(f"  people with a namesake (same family and given name) born within a year: {namesakes:.1%}")
    del ds

    if args.baseline and args.engine != "spark":  # with spark: the baseline's Spark engine, below
        kb = child("kinlink", args, args.baseline)
        if "error" in kb:
            print("baseline kinlink failed:\n" + kb["error"])
        else:
            b = kb["batch"]
            print(
                f"\nkinlink of {args.baseline} (baseline, same data): index build {kb['build_s']:.1f}s"
                f"{_cpu_note(kb, 'build_cpu_s')}, RSS {kb['rss_after_build_mib']:.0f} MiB after it; "
                f"batch {kb['batch_s']:.1f}s{_cpu_note(kb, 'batch_cpu_s')}; "
                f"peak RSS {kb['peak_rss_own_mib']:.0f} MiB; F1 {b['f1']:.4f}"
            )
    if args.no_local:
        # The Spark engine alone (the cost curve's larger sizes): the in-process figures are skipped.
        k = {"batch_s": 0.0, "build_s": 0.0, "batch": {"f1": float("nan")}}
    else:
        k = child("kinlink", args)
    if "error" in k:
        print("kinlink failed:\n" + k["error"])
        return
    if not args.no_local:
        _print_local(k, args)
        if args.baseline and args.engine != "spark" and "error" not in kb and "tops" in kb:
            same = "the same" if kb["tops"] == k["tops"] else "NOT the same"
            print(f"  every request's top candidate and probability: {same} as the baseline's")

    if args.engine == "spark":
        if args.baseline:
            _print_spark(child("spark", args, args.baseline), args, k, f"of {args.baseline} (baseline)")
        _print_spark(child("spark", args), args, k, "")

    if not args.no_splink:
        runs = []
        for config in ("splink", "splink-strong"):
            s = child(config, args)
            if "error" in s:
                print(f"\n{config} failed:\n" + s["error"])
                continue
            runs.append(s)
            b, best = s["batch"], s["best"]
            print(f"\nSplink 5 + DuckDB (2 threads), same data; set-up: {s['config']}")
            print(
                f"  prepare {s['prepare_s']:.1f}s, train {s['train_s']:.1f}s, "
                f"predict_between {s['predict_s']:.1f}s "
                f"({s['pairs_scored']:,} pairs above 0.01); total {s['total_s']:.1f}s; "
                f"peak RSS {s['peak_rss_mib']:.0f} MiB"
            )
            print(
                f"  at {THRESHOLD}: precision {b['precision']:.4f}, recall {b['recall']:.4f}, "
                f"F1 {b['f1']:.4f}"
            )
            print(
                f"  at its best threshold ({best['threshold']}): precision {best['precision']:.4f}, "
                f"recall {best['recall']:.4f}, F1 {best['f1']:.4f}"
            )
        if runs and not args.no_local:
            # Judged against the stronger: the set-up with the better F1 at its own best threshold.
            s = max(runs, key=lambda r: r["best"]["f1"])
            kin = k["batch_s"] + k["build_s"]
            print(
                f"\nside by side (the stronger Splink: {s['config']}): kinlink batch {k['batch_s']:.1f}s "
                f"(+ index {k['build_s']:.1f}s) F1 {k['batch']['f1']:.4f} | Splink {s['total_s']:.1f}s "
                f"F1 {s['best']['f1']:.4f} at threshold {s['best']['threshold']}; kinlink end to end "
                f"{s['total_s'] / kin:.2f}x Splink's speed"
            )


def _print_spark(sp: dict, args: argparse.Namespace, k: dict, label: str) -> None:
    if "error" in sp:
        print(f"\nSpark {label} failed:\n" + sp["error"])
        return
    b = sp["batch"]
    plan = sp.get("plan", "join")
    print(
        f"\nSpark engine {label} ({sp['master']}, {sp['partitions']} shuffle partitions, plan {plan}), "
        "same data and model"
    )
    if plan == "index":
        print(
            f"  snapshot {sp['snapshot_s']:.1f}s (Parquet, off the clock); session {sp['session_s']:.1f}s; "
            f"each worker's index built and every request searched, candidates written {sp['link_s']:.1f}s; "
            f"total {sp['total_s']:.1f}s; peak RSS {sp['peak_rss_mib']:.0f} MiB (process, JVM, workers)"
        )
    else:
        print(
            f"  snapshot {sp['snapshot_s']:.1f}s (Parquet, off the clock); "
            f"session {sp['session_s']:.1f}s, registry keys and counts {sp['registry_s']:.1f}s, "
            f"keys joined, pre-ranked, {sp['pairs_scored']:,} pairs shortlisted, best found "
            f"{sp['link_s']:.1f}s; total {sp['total_s']:.1f}s; peak RSS {sp['peak_rss_mib']:.0f} MiB "
            "(process, JVM, workers)"
        )
    print(f"  precision {b['precision']:.4f}, recall {b['recall']:.4f}, F1 {b['f1']:.4f}")
    if "load" in sp:
        before, after = (" ".join(f"{x:.2f}" for x in la) for la in sp["load"])
        print(f"  load average (1, 5, 15 min): {before} before, {after} after")
    if "found" in sp:
        f = sp["found"]
        where = "in the JVM" if sp["prerank_in_jvm"] else "in Python"
        print(
            f"  records found by the join on keys, per request: mean {f['mean']:.0f}, p50 {f['p50']:.0f}, "
            f"p90 {f['p90']:.0f}, p99 {f['p99']:.0f}, max {f['max']:,} ({f['total']:,} pairs; "
            f"{f['over_30']:,} requests find more than 30); pre-rank {where}: "
            f"{sp['pairs_to_python']:,} pairs cross from the JVM to Python"
        )
    if plan == "index":
        print(
            f"  CPU (driver, JVM and Python workers): {sp['cpu_s']:.1f}s in all, every worker's index build "
            f"included; {sp['cpu_s'] / args.requests * 1e3:.2f} ms a request"
        )
    else:
        pairs = max(1, sp["pairs_scored"])
        per_pair = (sp["cpu_s"] - sp["registry_cpu_s"]) / pairs * 1e6
        per_record = sp["registry_cpu_s"] / args.records * 1e6
        print(
            f"  CPU (JVM and Python workers): {sp['cpu_s']:.1f}s in all; "
            f"registry {per_record:.0f} µs a record; requests {per_pair:.0f} µs per shortlisted pair "
            "(keys, join, pre-rank, scoring, windows)"
        )
    if not args.no_local:
        local_s = k["batch_s"] + k["build_s"]
        print(
            f"\nside by side: kinlink local {local_s:.1f}s F1 {k['batch']['f1']:.4f} | "
            f"Spark {label} {sp['total_s']:.1f}s F1 {b['f1']:.4f}"
        )


def _print_local(k: dict, args: argparse.Namespace) -> None:
    print("\nkinlink")
    print(
        f"  index build: {k['build_s']:.1f}s{_cpu_note(k, 'build_cpu_s')}; peak RSS while building "
        f"{k['build_peak_rss_mib']:.0f} MiB ({_per_record(k, args)}); "
        f"RSS {k['rss_before_build_mib']:.0f} MiB before, "
        f"{k['rss_after_build_mib']:.0f} MiB after; peak RSS {k['peak_rss_own_mib']:.0f} MiB (the process), "
        f"{k['peak_rss_worker_mib']:.0f} MiB (its largest forked worker, the index's shared pages included)"
    )
    lat = k["latency_ms"]
    print(f"  RSS after the single queries (caches warm): {k['rss_after_queries_mib']:.0f} MiB")
    print(
        f"  single query (in process, 1000 queries): p50 {lat['p50']:.2f} ms, p95 {lat['p95']:.2f} ms, "
        f"p99 {lat['p99']:.2f} ms, max {lat['max']:.1f} ms"
    )
    b = k["batch"]
    print(
        f"  batch of {args.requests:,} requests ({args.processes} processes): {k['batch_s']:.1f}s"
        f"{_cpu_note(k, 'batch_cpu_s')}; "
        f"precision {b['precision']:.4f}, recall {b['recall']:.4f}, F1 {b['f1']:.4f}"
    )
    if "cpu_s" in k:
        print(f"  CPU of the whole run (build, single queries, batch; workers included): {k['cpu_s']:.1f}s")
    if "fields" in k:
        print(
            f"  what each field adds ({k['fields_requests']:,} requests with every field known, 1 in 5 about "
            "someone not in the registry):"
        )
        for row in k["fields"]:
            print(
                f"    {row['stage']:<24} precision {row['precision']:.4f}  recall {row['recall']:.4f}  "
                f"F1 {row['f1']:.4f}"
            )


def _cpu_note(k: dict, key: str) -> str:
    # CPU seconds beside wall time: on a shared machine the wall time measures its load as much as the code.
    return f" ({k[key]:.1f} CPU-s)" if key in k else ""


def _per_record(k: dict, args: argparse.Namespace) -> str:
    grown = k["rss_after_build_mib"] - k["rss_before_build_mib"]
    return f"the index {grown * 1024 * 1024 / args.records:.0f} bytes a record"


def _namesakes(ds) -> float:  # type: ignore[no-untyped-def]
    from collections import defaultdict

    by_name: dict[tuple[str, str], list[int]] = defaultdict(list)
    for p in ds.people:
        by_name[(p.family, p.given)].append(p.birth.toordinal())
    hit = 0
    for days in by_name.values():
        if len(days) < 2:
            continue
        days.sort()
        for i, d in enumerate(days):
            if (i > 0 and d - days[i - 1] <= 365) or (i + 1 < len(days) and days[i + 1] - d <= 365):
                hit += 1
    return hit / len(ds.people)


if __name__ == "__main__":
    main()
