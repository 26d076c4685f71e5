"""Matching commands: `kinlink search` (one person against the registry) and `kinlink match` (the whole
database at once, or the model's m and u estimated from it)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kinlink.cli.context import console, err_console, fail, state
from kinlink.cli.db import open_engine
from kinlink.engines import local as local_engine
from kinlink.matching.comparators import birth_range
from kinlink.matching.model import ModelError, load_model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score_values import Scored
from kinlink.registry.search import ensure_searchable, find_matches
from kinlink.store.db import unit_of_work
from kinlink.tracing.batch import BATCH_CHUNK
from kinlink.tracing.matcher import db_scorer

_BORN = re.compile(r"^\s*(\d{4}(?:-\d{2}(?:-\d{2})?)?)\s*(?:(?:-|–|\.\.)\s*(\d{4}))?\s*$")


class QueryError(ValueError):
    pass


def parse_born(text: str | None) -> tuple[str | None, int | None]:
    """'1994', '1994-05', '1994-05-07' or a range '1992-1994' -> (birth_date, birth_year_to)."""
    if not text:
        return None, None
    m = _BORN.match(text)
    if not m or birth_range(m[1]) is None:
        raise QueryError(f"--born '{text}': write YYYY, YYYY-MM, YYYY-MM-DD or a range YYYY-YYYY")
    to = int(m[2]) if m[2] else None
    if to is not None and to < int(m[1][:4]):
        raise QueryError(f"--born '{text}': the range ends before it starts")
    return m[1], to


def make_query(
    name: str,
    *,
    born: str | None = None,
    age: int | None = None,
    as_of: str | None = None,
    sex: str | None = None,
    **extra: Any,
) -> MatchRecord:
    if not name or not name.strip():
        raise QueryError("a query needs a name")
    if (age is None) != (as_of is None):
        raise QueryError(
            "--age needs --as-of (the date the age was stated), e.g. --age 28 --as-of 2022-02-27"
        )
    if as_of and birth_range(None, age, as_of) is None:
        raise QueryError(f"--as-of '{as_of}' is not a date")
    if sex and sex.lower()[:1] not in ("m", "f"):
        raise QueryError("--sex is m or f")
    birth_date, year_to = parse_born(born)
    fields = {k: v for k, v in extra.items() if k in _QUERY_FIELDS and v not in (None, "")}
    return MatchRecord(
        id=None,
        name=name.strip(),
        sex=sex.lower()[:1] if sex else None,
        birth_date=birth_date,
        birth_year_to=year_to,
        age=age,
        age_as_of=as_of,
        kind="request",
        **fields,
    )


_QUERY_FIELDS = ("place_of_birth", "unit", "rank", "service_number", "capture_place", "capture_date")


def query_from_line(line: str) -> MatchRecord:
    """A line of --from: a JSON object ({"name", "born", "age", "as_of", ...}) or just a name."""
    text = line.strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise QueryError(f"not JSON: {e.msg}") from None
        if not isinstance(obj, dict):
            raise QueryError("a JSON query must be an object")
        born = obj.get("born", obj.get("birth_date"))
        return make_query(
            str(obj.get("name", "")),
            born=None if born is None else str(born),
            age=obj.get("age"),
            as_of=obj.get("as_of", obj.get("age_as_of")),
            sex=obj.get("sex"),
            **{k: obj.get(k) for k in _QUERY_FIELDS},
        )
    return make_query(text)


def query_dict(q: MatchRecord) -> dict[str, Any]:
    out: dict[str, Any] = {"name": q.name}
    for key in ("sex", "birth_date", "birth_year_to", "age", "age_as_of", *_QUERY_FIELDS):
        value = getattr(q, key)
        if value is not None:
            out[key] = value
    return out


def _candidate_json(rec: MatchRecord, s: Scored) -> dict[str, Any]:
    return {
        "record_id": rec.id,
        "source_record_id": rec.source_record_id,
        "name": rec.name,
        "score": round(s.probability, 6),
        "likelihood": s.band.to_json(),
        "explanation": s.explanation(),
        **({"note": s.note.to_json()} if s.note else {}),
    }


def _model(path: Path | None):  # type: ignore[no-untyped-def]
    try:
        return load_model(path)
    except (OSError, ValueError, ModelError) as e:
        fail(f"Cannot read the model: {e}")


def search(
    name: str = typer.Argument(None, help="The name sought, in any script (omit with --from)."),
    born: str = typer.Option(None, "--born", help="Birth: YYYY, YYYY-MM, YYYY-MM-DD or a range YYYY-YYYY."),
    age: int = typer.Option(None, "--age", help="Age stated on a date (with --as-of)."),
    as_of: str = typer.Option(None, "--as-of", help="The date the age was stated (YYYY[-MM[-DD]])."),
    sex: str = typer.Option(None, "--sex", help="m or f."),
    limit: int = typer.Option(10, "--limit", min=1, max=200, help="At most this many candidates."),
    json_output: bool = typer.Option(False, "--json", help="JSON output."),
    from_file: Path = typer.Option(
        None,
        "--from",
        help="Read one query per line (a name, or a JSON object); write one JSON line per query.",
    ),
    model_path: Path = typer.Option(None, "--model", help="A model file (default: the shipped model)."),
) -> None:
    """Find the records that best match a person: probability and the reason per field, best first."""
    model = _model(model_path)
    engine = open_engine()
    if from_file is not None:
        lines = sys.stdin if str(from_file) == "-" else from_file.open(encoding="utf-8")
        with unit_of_work(engine) as session:
            ensure_searchable(session)
            scorer = db_scorer(session, model)
            for n, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    q = query_from_line(line)
                except QueryError as e:
                    print(
                        json.dumps(
                            {"query": line.strip(), "error": f"line {n}: {e}", "candidates": []},
                            ensure_ascii=False,
                        )
                    )
                    continue
                hits = find_matches(
                    session, state.who(), "cli search", q, model=model, limit=limit, scorer=scorer
                )
                print(
                    json.dumps(
                        {"query": query_dict(q), "candidates": [_candidate_json(r, s) for r, s in hits]},
                        ensure_ascii=False,
                    ),
                    flush=True,
                )
        return
    if not name:
        fail("Give a NAME or --from FILE.")
    try:
        q = make_query(name, born=born, age=age, as_of=as_of, sex=sex)
    except QueryError as e:
        fail(str(e))
    with unit_of_work(engine) as session:
        ensure_searchable(session)
        hits = find_matches(session, state.who(), "cli search", q, model=model, limit=limit)
    if json_output:
        print(
            json.dumps(
                {"query": query_dict(q), "candidates": [_candidate_json(r, s) for r, s in hits]},
                ensure_ascii=False,
            )
        )
        return
    if not hits:
        console.print("No candidates.")
        return
    # Ids are never cut (they are what the next command takes); a hit says whether it is a registry record
    # or a sighting read from a news report; why each is a candidate follows the table, where it has room.
    table = Table(title=f"Candidates for {q.name}", caption="id: for `kinlink records show ID`")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("kind", ratio=1)
    table.add_column("source id", ratio=1, overflow="fold")
    table.add_column("name", ratio=2)
    table.add_column("probability", ratio=2)
    whys = []
    for i, (rec, s) in enumerate(hits, 1):
        kind = "news sighting" if rec.kind == "sighting" else "registry record"
        table.add_row(str(i), str(rec.id), kind, str(rec.source_record_id or ""), rec.name, s.band.text())
        whys.append("; ".join(f"{e.text} ({e.weight:+.1f})" for e in s.evidence if e.level is not None))
    console.print(table)
    for i, why in enumerate(whys, 1):
        if why:
            console.print(f"#{i}: {why}", highlight=False)
    for note in dict.fromkeys(s.note.text() for _rec, s in hits if s.note):
        console.print(f"Note: {note}.")


def match(
    dedup: bool = typer.Option(
        None,
        "--dedup/--no-dedup",
        help="Also link records of the same person (default: yes on the local engine, no on --engine spark).",
    ),
    model_path: Path = typer.Option(None, "--model", help="A model file (default: the shipped model)."),
    json_output: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
    estimate_to: Path = typer.Option(
        None,
        "--estimate",
        help="Instead of matching: estimate m and u from the records (EM), write a new model file.",
    ),
    chunk: int = typer.Option(
        BATCH_CHUNK,
        "--chunk",
        min=1,
        help="Requests or records per transaction: others write between chunks; a crash loses one chunk.",
    ),
    processes: int = typer.Option(
        None,
        "--processes",
        min=1,
        help="Worker processes for parsing and searching (default: one per core on 20,000 records or more).",
    ),
    engine_name: str = typer.Option(
        "local",
        "--engine",
        help="local: this machine, forked workers; spark: Apache Spark (docs/spark.md).",
    ),
    master: str = typer.Option(
        "local[2]", "--master", help="Spark's master: local[N], spark://host:port, yarn (--engine spark)."
    ),
    plan: str = typer.Option(
        "index",
        "--plan",
        help="--engine spark: index (each executor holds the registry's index and searches its share of the "
        "requests) or join (the registry joined to the requests on keys, for a registry too big for one "
        "executor's memory; docs/spark.md).",
    ),
    snapshot: Path = typer.Option(
        None,
        "--snapshot",
        help="Where Spark's Parquet snapshot goes (storage every executor reads; default: a temporary "
        "directory, removed after). It holds personal data: protect it as the database.",
    ),
) -> None:
    """Match the whole database: every open request against every record, and records against each other."""
    if engine_name not in ("local", "spark"):
        fail(f"--engine: '{engine_name}' is not an engine; write local or spark.")
    if plan not in ("index", "join"):
        fail(f"--plan: '{plan}' is not a plan; write index or join.")
    model = _model(model_path)
    engine = open_engine()
    if estimate_to is not None:
        _estimate(engine, model, estimate_to, json_output, engine_name, master, snapshot)
        return
    labels = {
        "keys": "Rebuilding matching keys",
        "index": "Indexing records",
        "snapshot": "Writing the snapshot",
        "requests": "Matching requests",
        "records": "Linking records",
    }
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=json_output,
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        if engine_name == "spark":
            from kinlink.engines.spark.run import SparkOptions
            from kinlink.engines.spark.run import match as spark_match

            summary = spark_match(
                engine,
                state.who(),
                model,
                options=SparkOptions(master, plan=plan),
                snapshot=snapshot,
                chunk=chunk,
                progress=progress,
                dedup=dedup is True,  # on Spark only when asked: it is the larger part of the work
            )
        else:
            summary = local_engine.match(
                engine,
                state.who(),
                model,
                dedup=dedup is not False,
                progress=progress,
                chunk=chunk,
                processes=processes,
            )
    outcome = {
        "requests": len(summary.requests),
        "created": summary.created,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "model": f"{model.name} v{model.version}",
    }
    if json_output:
        print(json.dumps(outcome))
    else:
        console.print(
            f"{outcome['requests']} open requests matched; candidates: {summary.created} new, "
            f"{summary.updated} updated, {summary.unchanged} unchanged ({outcome['model']})."
        )


def _estimate(  # type: ignore[no-untyped-def]
    engine, model, path: Path, json_output: bool, engine_name: str, master: str, snapshot: Path | None
) -> None:
    from kinlink.matching.model import save_model

    if engine_name == "spark":
        from kinlink.engines.spark.estimate import estimate as spark_estimate

        est = spark_estimate(engine, state.who(), model, master=master, snapshot=snapshot)
    else:
        est = local_engine.estimate(engine, model)
    if est is None:
        fail("Too few records to estimate from (at least 100 are needed).")
    save_model(est.model, path)
    outcome = {
        "model": str(path),
        "version": est.model.version,
        "candidate_pairs": est.candidate_pairs,
        "iterations": est.iterations,
    }
    if json_output:
        print(json.dumps(outcome))
    else:
        console.print(
            f"Model v{est.model.version} written to {path} ({est.candidate_pairs:,} candidate pairs, "
            f"{est.iterations} EM iterations). Use it with --model {path}."
        )
