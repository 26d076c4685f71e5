"""Tracing request commands: `kinlink request add ...`, `kinlink request show REF`."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from kinlink.cli.context import console, err_console, state
from kinlink.cli.db import open_engine
from kinlink.cli.matching import QueryError, parse_born
from kinlink.store.db import unit_of_work
from kinlink.store.models import Person
from kinlink.tracing import candidates as cand_service
from kinlink.tracing import matching as match_service
from kinlink.tracing.requests import Enquirer, RequestError, SoughtPerson, create_request, find_request

app = typer.Typer(no_args_is_help=True, help="Tracing requests from families.")


def _fail(message: str) -> None:
    err_console.print(f"[red]{message}[/]")
    raise typer.Exit(2)


@app.command("add")
def add(
    name: str = typer.Argument(..., help="The name of the person sought, as the family writes it."),
    other_name: list[str] = typer.Option(None, "--other-name", help="Another spelling or name (repeatable)."),
    born: str = typer.Option(None, "--born", help="YYYY, YYYY-MM, YYYY-MM-DD or a range YYYY-YYYY."),
    age: int = typer.Option(None, "--age", help="Age stated on a date (with --as-of)."),
    as_of: str = typer.Option(None, "--as-of", help="The date the age was stated."),
    sex: str = typer.Option(None, "--sex", help="m or f."),
    place_of_birth: str = typer.Option(None, "--place-of-birth", help="Place of birth or home region."),
    unit: str = typer.Option(None, "--unit"),
    rank: str = typer.Option(None, "--rank"),
    service_number: str = typer.Option(None, "--service-number"),
    capture_place: str = typer.Option(None, "--capture-place"),
    capture_date: str = typer.Option(None, "--capture-date"),
    enquirer: str = typer.Option(..., "--enquirer", help="Who asks."),
    relationship: str = typer.Option(None, "--relationship", help="e.g. mother, sister, wife."),
    contact: str = typer.Option(None, "--contact", help="How to reach the enquirer."),
    language: str = typer.Option(
        None, "--language", help="The enquirer's preferred language (ru, uk, en...)."
    ),
    json_output: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Record a tracing request and match it at once. The secret is shown this once only."""
    try:
        birth_date, year_to = parse_born(born)
    except QueryError as e:
        _fail(str(e))
    sought = SoughtPerson(
        full_name=name,
        other_names=list(other_name or []),
        sex=(sex or "").lower()[:1] or None,
        birth_date=birth_date,
        birth_year_to=year_to,
        age=age,
        age_as_of=as_of,
        place_of_birth=place_of_birth,
        unit=unit,
        rank=rank,
        service_number=service_number,
        capture_place=capture_place,
        capture_date=capture_date,
    )
    engine = open_engine()
    try:
        with unit_of_work(engine) as session:
            req, secret = create_request(
                session, state.who(), sought, Enquirer(enquirer, relationship, contact, language)
            )
            summary = match_service.match_request(session, state.who(), req.id)
            reference, req_state = req.reference, req.state
    except RequestError as e:
        _fail(str(e))
    if json_output:
        print(
            json.dumps(
                {"reference": reference, "secret": secret, "state": req_state, "candidates": summary.created}
            )
        )
        return
    console.print(
        f"Request [bold]{reference}[/] recorded ({req_state}; {summary.created} candidates for review)."
    )
    console.print(f"Secret for the family to follow it: [bold]{secret}[/] (shown once; keep it safe).")


@app.command("show")
def show(
    reference: str = typer.Argument(..., help="The request's reference code (TR-XXXX-XXXX)."),
    json_output: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """A request, its state and its candidates."""
    engine = open_engine()
    with unit_of_work(engine) as session:
        req = find_request(session, reference)
        if req is None:
            _fail(f"No request {reference}.")
        assert req is not None
        cands = cand_service.list_candidates(session, request_id=req.id)
        people = {p.id: p for p in session.query(Person).filter(Person.id.in_([c.person_id for c in cands]))}
        data: dict[str, Any] = {
            "reference": req.reference,
            "state": req.state,
            "sought": {
                k: getattr(req, k)
                for k in (
                    "full_name",
                    "other_names",
                    "sex",
                    "birth_date",
                    "birth_year_to",
                    "age",
                    "age_as_of",
                    "place_of_birth",
                    "unit",
                    "rank",
                    "service_number",
                    "capture_place",
                    "capture_date",
                )
                if getattr(req, k) not in (None, [], "")
            },
            "enquirer": {
                "name": req.enquirer_name,
                "relationship": req.enquirer_relationship,
                "contact": req.enquirer_contact,
                "language": req.enquirer_language,
            },
            "matched_record_id": req.matched_person_id,
            "candidates": [
                {
                    "id": c.id,
                    "version": c.version,
                    "state": c.state,
                    "record_id": c.person_id,
                    "source_record_id": people[c.person_id].source_record_id
                    if c.person_id in people
                    else None,
                    "name": people[c.person_id].full_name if c.person_id in people else None,
                    "score": c.probability,
                    "explanation": c.explanation,
                }
                for c in cands
            ],
        }
    if json_output:
        print(json.dumps(data, ensure_ascii=False, default=str))
        return
    console.print(f"[bold]{data['reference']}[/]  state: {data['state']}")
    for k, v in data["sought"].items():
        console.print(f"  {k}: {v}")
    e = data["enquirer"]
    console.print(f"  enquirer: {e['name']} ({e['relationship'] or 'relationship not given'})")
    if not data["candidates"]:
        console.print("No candidates yet.")
        return
    table = Table(title="Candidates")
    for col in ("id", "state", "record", "name", "probability", "why"):
        table.add_column(col)
    for c in data["candidates"]:
        why = "; ".join(
            f"{v['text']} ({v['weight']:+.1f})"
            for v in c["explanation"].values()
            if v.get("level") is not None
        )
        table.add_row(
            str(c["id"]), c["state"], str(c["source_record_id"]), c["name"] or "", f"{c['score']:.3f}", why
        )
    console.print(table)
