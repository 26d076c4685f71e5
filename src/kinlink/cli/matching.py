"""Matching commands: `kinlink search`, `kinlink match`, `kinlink candidates ...`."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kinlink.cli.context import console, err_console, state
from kinlink.cli.db import open_engine
from kinlink.matching.compare import birth_range
from kinlink.matching.model import ModelError, load_model
from kinlink.matching.record import MatchRecord
from kinlink.matching.score import Scored
from kinlink.store.db import unit_of_work
from kinlink.store.models import Person
from kinlink.tracing import candidates as cand_service
from kinlink.tracing import matching as match_service
from kinlink.tracing.requests import find_request

candidates_app = typer.Typer(no_args_is_help=True, help="Match candidates waiting for review.")

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
        "explanation": s.explanation(),
    }


def _fail(message: str, code: int = 2) -> None:
    err_console.print(f"[red]{message}[/]")
    raise typer.Exit(code)


def _model(path: Path | None):  # type: ignore[no-untyped-def]
    try:
        return load_model(path)
    except (OSError, ValueError, ModelError) as e:
        _fail(f"Cannot read the model: {e}")


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
            match_service.ensure_keys(session)
            scorer = match_service.db_scorer(session, model)
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
                hits = match_service.search(session, q, model=model, limit=limit, scorer=scorer)
                print(
                    json.dumps(
                        {"query": query_dict(q), "candidates": [_candidate_json(r, s) for r, s in hits]},
                        ensure_ascii=False,
                    ),
                    flush=True,
                )
        return
    if not name:
        _fail("Give a NAME or --from FILE.")
    try:
        q = make_query(name, born=born, age=age, as_of=as_of, sex=sex)
    except QueryError as e:
        _fail(str(e))
    with unit_of_work(engine) as session:
        match_service.ensure_keys(session)
        hits = match_service.search(session, q, model=model, limit=limit)
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
    table = Table(title=f"Candidates for {q.name}")
    table.add_column("#", justify="right")
    table.add_column("record")
    table.add_column("name")
    table.add_column("probability", justify="right")
    table.add_column("why")
    for i, (rec, s) in enumerate(hits, 1):
        why = "; ".join(f"{e.text} ({e.weight:+.1f})" for e in s.evidence if e.level is not None)
        table.add_row(str(i), str(rec.source_record_id or rec.id), rec.name, f"{s.probability:.3f}", why)
    console.print(table)


def match(
    dedup: bool = typer.Option(True, "--dedup/--no-dedup", help="Also link records of the same person."),
    model_path: Path = typer.Option(None, "--model", help="A model file (default: the shipped model)."),
    json_output: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
    estimate_to: Path = typer.Option(
        None,
        "--estimate",
        help="Instead of matching: estimate m and u from the records (EM), write a new model file.",
    ),
    chunk: int = typer.Option(
        match_service.BATCH_CHUNK,
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
) -> None:
    """Match the whole database: every open request against every record, and records against each other."""
    model = _model(model_path)
    engine = open_engine()
    if estimate_to is not None:
        _estimate(engine, model, estimate_to, json_output)
        return
    labels = {
        "keys": "Rebuilding matching keys",
        "index": "Indexing records",
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

        summary = match_service.match_all(
            engine,
            state.who(),
            model=model,
            dedup=dedup,
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


def _estimate(engine, model, path: Path, json_output: bool) -> None:  # type: ignore[no-untyped-def]
    from kinlink.matching.em import estimate
    from kinlink.matching.model import save_model

    with unit_of_work(engine) as session:
        records = list(match_service.person_records(session))
    if len(records) < 100:
        _fail("Too few records to estimate from (at least 100 are needed).")
    est = estimate(
        model, records, random_pairs=min(200_000, len(records) * 20), sample=min(20_000, len(records))
    )
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


@candidates_app.command("list")
def list_candidates(
    state_filter: str = typer.Option(None, "--state", help="pending, confirmed or rejected."),
    kind: str = typer.Option(None, "--kind", help="request (request -> record) or record (duplicates)."),
    request_ref: str = typer.Option(None, "--request", help="Only the candidates of this request (TR-…)."),
    limit: int = typer.Option(100, "--limit", min=1),
    json_output: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Candidates for review, most probable first."""
    engine = open_engine()
    with unit_of_work(engine) as session:
        request_id = None
        if request_ref:
            req = find_request(session, request_ref)
            if req is None:
                _fail(f"--request: no request {request_ref}.")
            assert req is not None
            request_id = req.id
        rows = cand_service.list_candidates(
            session, state=state_filter, kind=kind, request_id=request_id, limit=limit
        )
        names = {
            p.id: (p.full_name, p.source_record_id)
            for p in session.query(Person).filter(
                Person.id.in_(
                    {c.person_id for c in rows} | {c.left_person_id for c in rows if c.left_person_id}
                )
            )
        }
        items = [
            {
                "id": c.id,
                "version": c.version,
                "state": c.state,
                "request_id": c.request_id,
                "left_record_id": c.left_person_id,
                "record_id": c.person_id,
                "source_record_id": names.get(c.person_id, ("", None))[1],
                "name": names.get(c.person_id, ("", None))[0],
                "score": c.probability,
                "explanation": c.explanation,
                "model": f"{c.model_name} v{c.model_version}",
            }
            for c in rows
        ]
    if json_output:
        print(json.dumps(items, ensure_ascii=False))
        return
    if not items:
        console.print("No candidates.")
        return
    table = Table(title="Match candidates")
    for col in ("id", "state", "request / record", "record", "name", "probability"):
        table.add_column(col)
    for it in items:
        left = f"request {it['request_id']}" if it["request_id"] else f"record {it['left_record_id']}"
        table.add_row(
            str(it["id"]),
            it["state"],
            left,
            str(it["source_record_id"] or it["record_id"]),
            it["name"],
            f"{it['score']:.3f}",
        )
    console.print(table)


@candidates_app.command("decide")
def decide(
    candidate_id: int = typer.Argument(..., help="The candidate's id (from `candidates list`)."),
    decision: str = typer.Argument(..., help="confirmed, rejected or pending."),
    version: int = typer.Option(
        ..., "--version", help="The version you reviewed (from `candidates list --json`)."
    ),
) -> None:
    """Confirm or reject a candidate (refused if someone changed it since you looked)."""
    engine = open_engine()
    try:
        with unit_of_work(engine) as session:
            c = cand_service.decide(session, state.who(), candidate_id, decision, version)
            console.print(f"Candidate {c.id} is now {c.state} (version {c.version}).")
    except cand_service.CandidateError as e:
        _fail(str(e))
