"""Unidentified remains: `kinlink remains add|import|list|show|match|identify|reject` (registrars' work)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from kinlink.cli.context import console, deliver, fail, refused, state
from kinlink.cli.db import open_engine
from kinlink.errors import Refused
from kinlink.matching.evidence import probability_band, stored_message
from kinlink.matching.model import load_model
from kinlink.person.remains_fields import FIELDS, MEANINGS
from kinlink.registry import remains as actions
from kinlink.store.db import unit_of_work
from kinlink.tracing.continuous import Matching
from kinlink.tracing.remains_matching import match_remains

app = typer.Typer(no_args_is_help=True, help="Records of unidentified remains, matched against the missing.")


def _row(r: Any) -> dict[str, Any]:
    return {"id": r.id, **{f: getattr(r, f) for f in FIELDS}, "state": r.state,
            "identified_person_id": r.identified_person_id}  # fmt: skip


@app.command("add")
def add(
    found_date: str = typer.Option(..., "--found-date", help=MEANINGS["found_date"]),
    recovered_by: str = typer.Option(..., "--recovered-by", help=MEANINGS["recovered_by"]),
    record_id: str = typer.Option(None, "--record-id", help=MEANINGS["record_id"]),
    sex: str = typer.Option(None, "--sex", help=MEANINGS["sex"]),
    age_min: str = typer.Option(None, "--age-min", help=MEANINGS["age_min"]),
    age_max: str = typer.Option(None, "--age-max", help=MEANINGS["age_max"]),
    height_min: str = typer.Option(None, "--height-min", help=MEANINGS["height_min"]),
    height_max: str = typer.Option(None, "--height-max", help=MEANINGS["height_max"]),
    marks: str = typer.Option(None, "--marks", help=MEANINGS["marks"]),
    clothing: str = typer.Option(None, "--clothing", help=MEANINGS["clothing"]),
    effects: str = typer.Option(None, "--effects", help=MEANINGS["effects"]),
    found_place: str = typer.Option(None, "--found-place", help=MEANINGS["found_place"]),
    notes: str = typer.Option(None, "--notes", help=MEANINGS["notes"]),
    json_output: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Record unidentified remains and match them at once against the missing and the open requests."""
    given = dict(locals())
    values = {k: v for k, v in given.items() if k in FIELDS and v is not None}
    engine = open_engine()
    try:
        with unit_of_work(engine) as session:
            added = actions.add_remains(session, state.who(), values, matching=Matching(load_model()))
            out = {"remains": [_row(r) for r in added.remains], "candidates": added.candidates}
    except Refused as e:
        refused(e)
    if json_output:
        print(json.dumps(out, ensure_ascii=False))
        return
    rem = out["remains"][0]
    console.print(
        f"Remains [bold]{rem['record_id']}[/] recorded (#{rem['id']}; {out['candidates']} candidate(s))."
    )


@app.command("import")
def import_file(
    path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A CSV (header of field names) or JSONL file."
    ),
    fmt: str = typer.Option(None, "--format", help="csv or jsonl (default: from the file's extension)."),
    json_output: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Import records of remains, all or none: every problem is named line: field."""
    kind = fmt or ("jsonl" if path.suffix.lower() in (".jsonl", ".json") else "csv")
    if kind not in ("csv", "jsonl"):
        fail("--format: csv or jsonl")
    engine = open_engine()
    try:
        rows = actions.parse_file(path.read_bytes(), kind)
        with unit_of_work(engine) as session:
            added = actions.import_remains(session, state.who(), rows, matching=Matching(load_model()))
            n, found = len(added.remains), added.candidates
    except Refused as e:
        refused(e)
    if json_output:
        print(json.dumps({"imported": n, "candidates": found}))
        return
    console.print(f"{n} record(s) of remains imported; {found} candidate(s) for review.")


@app.command("list")
def list_(
    state_: str = typer.Option(None, "--state", help="unidentified or identified."),
    json_output: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Records of remains, the latest found first."""
    engine = open_engine()
    try:
        with unit_of_work(engine) as session:
            rows = [_row(r) for r in actions.list_remains(session, state.who(), state=state_)]
    except Refused as e:
        refused(e)
    if json_output:
        print(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("id", "record", "found", "where", "sex", "age", "state")
    for r in rows:
        age = f"{r['age_min']}–{r['age_max']}" if r["age_min"] is not None else ""
        table.add_row(
            str(r["id"]),
            r["record_id"],
            r["found_date"],
            r["found_place"] or "",
            r["sex"] or "",
            age,
            r["state"],
        )
    console.print(table)


@app.command("show")
def show(
    remains_id: int = typer.Argument(..., help="The remains' id (from `kinlink remains list`)."),
    json_output: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """A record of remains with its candidates, each comparison explained."""
    engine = open_engine()
    try:
        with unit_of_work(engine) as session:
            rem = _row(actions.read_remains(session, state.who(), remains_id, "cli remains show"))
            cands = [
                {"candidate_id": c.id, "person_id": c.person_id, "request_id": c.request_id, "state": c.state,
                 "probability": c.probability, "band": probability_band(c.probability).text(),
                 "explanation": {f: stored_message(e).text() for f, e in c.explanation.items()}}
                for c in actions.read_candidates(session, state.who(), remains_id)
            ]  # fmt: skip
    except Refused as e:
        refused(e)
    if json_output:
        print(json.dumps({**rem, "candidates": cands}, ensure_ascii=False))
        return
    console.print(
        f"[bold]{rem['record_id']}[/] found {rem['found_date']} {rem['found_place'] or ''} ({rem['state']})"
    )
    for c in cands:
        who = f"record #{c['person_id']}" if c["person_id"] else f"request #{c['request_id']}"
        console.print(f"candidate {c['candidate_id']}: {who}, {c['band']} [{c['state']}]")
        for f, said in c["explanation"].items():
            console.print(f"  {f}: {said}", highlight=False)


@app.command("match")
def match(
    remains_ids: list[int] = typer.Argument(None, help="The remains to match (default: all unidentified)."),
) -> None:
    """Match unidentified remains again (after new missing persons or requests)."""
    engine = open_engine()
    with unit_of_work(engine) as session:
        ids = remains_ids or [
            r.id for r in actions.list_remains(session, state.who(), state="unidentified", limit=100_000)
        ]
        done = match_remains(session, state.who(), ids, model=load_model())
    console.print(f"{done.created} new candidate(s), {done.updated} updated.")


@app.command("identify")
def identify(
    candidate_ids: list[int] = typer.Argument(
        ..., help="The candidates the remains are (one record, its requests)."
    ),
    reason: str = typer.Option(..., "--reason", help="Why: the caseworker's reason, kept in the audit."),
    source: str = typer.Option(..., "--source", help="How the identification was confirmed (DNA report...)."),
) -> None:
    """Confirm an identification: the remains are identified, the record gets the death, the requests move."""
    engine = open_engine()
    try:
        with unit_of_work(engine) as session:
            done = actions.identify(
                session, state.who(), candidate_ids, reason, source, matching=Matching(load_model())
            )
            person_id, note_ids = done.person_id, [n.id for n in done.notifications]
    except Refused as e:
        refused(e)
    deliver(engine, note_ids)
    console.print(f"Remains identified as record #{person_id}.")


@app.command("reject")
def reject(
    candidate_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="Why it is not this person."),
) -> None:
    """Not this person: the candidate is rejected, with its reason."""
    engine = open_engine()
    try:
        with unit_of_work(engine) as session:
            actions.reject(session, state.who(), candidate_id, reason)
    except Refused as e:
        refused(e)
    console.print(f"Candidate {candidate_id} rejected.")
