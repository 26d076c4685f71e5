"""Tracing request commands: `kinlink request add ...`, `show REF`, `verify REF`, `unverify REF`."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from kinlink.cli.context import console, deliver, fail, refused, state
from kinlink.cli.db import open_engine
from kinlink.errors import Refused
from kinlink.matching.evidence import probability_band
from kinlink.matching.model import load_model
from kinlink.store.db import unit_of_work
from kinlink.tracing.casefile import read_candidates, read_case
from kinlink.tracing.continuous import Matching
from kinlink.tracing.intake import Filer, file_request
from kinlink.tracing.mail import MailSettings
from kinlink.tracing.requests import find_request
from kinlink.tracing.verification import (
    METHODS,
    current_verification,
    record_verification,
    withdraw_verification,
)

app = typer.Typer(no_args_is_help=True, help="Tracing requests from families.")

SOUGHT = (
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
    last_seen: str = typer.Option(None, "--last-seen", help="Anything else the family says may help."),
    enquirer: str = typer.Option(..., "--enquirer", help="Who asks."),
    relationship: str = typer.Option(None, "--relationship", help="e.g. mother, sister, wife."),
    contact: str = typer.Option(
        None, "--contact", help="How to reach the enquirer (an email gets the news)."
    ),
    language: str = typer.Option(None, "--language", help="The enquirer's language: en, ro, ru or uk."),
    agreed: bool = typer.Option(
        False, "--agreed", help="The enquirer agreed that the information is used for tracing (required)."
    ),
    json_output: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """File a tracing request for a family and match it at once (the rules of the family's web form). The
    secret is shown this once only."""
    values: dict[str, Any] = {
        "full_name": name,
        "other_names": "|".join(other_name or []) or None,
        "sex": (sex or "").lower()[:1] or None,
        "birth_date": born,
        "age": age,
        "age_as_of": as_of,
        "place_of_birth": place_of_birth,
        "unit": unit,
        "rank": rank,
        "service_number": service_number,
        "capture_place": capture_place,
        "capture_date": capture_date,
        "last_seen": last_seen,
        "enquirer_name": enquirer,
        "relationship": relationship,
        "contact": contact,
        "language": language,
        "agree": agreed,
    }
    engine = open_engine()
    try:
        with unit_of_work(engine) as session:
            filed = file_request(
                session, Filer(state.who()), values, matching=Matching(load_model()), mail=MailSettings()
            )
            req = filed.request
            reference, req_state, candidates = req.reference, req.state, filed.candidates
            # Whom the matcher proposed, named (a read of those records, audited as the queue's is).
            queue = read_candidates(session, state.who(), "cli request add", state=None, request_id=req.id)
            proposed = [
                {
                    "candidate_id": c.id,
                    "record_id": c.person_id,
                    "source_record_id": queue.people[c.person_id].source_record_id,
                    "name": queue.people[c.person_id].full_name,
                    "probability": c.probability,
                    "band": probability_band(c.probability).text(),
                }
                for c in queue.candidates
                if c.person_id in queue.people
            ]
    except Refused as e:
        refused(e)
    note = filed.notification
    if note is not None:
        deliver(engine, [note.id], {note.id: filed.secret})
    if json_output:
        print(
            json.dumps(
                {
                    "reference": reference,
                    "secret": filed.secret,
                    "state": req_state,
                    "candidates": candidates,
                    "proposed": proposed,
                    "emailed": filed.emailed,
                }
            )
        )
        return
    said = {0: "no candidate yet", 1: "1 candidate for review"}.get(
        len(proposed), f"{len(proposed)} candidates for review"
    )
    console.print(f"Request [bold]{reference}[/] recorded ({req_state}; {said}).")
    for p in proposed:
        console.print(
            f"  candidate {p['candidate_id']}: record {p['record_id']} ({p['source_record_id']}) "
            f"{p['name']}: {p['band']}",
            highlight=False,
        )
    if proposed:
        console.print("  Review: kinlink candidates decide ID confirmed|rejected --reason WHY")
    console.print(f"Secret for the family to follow it: [bold]{filed.secret}[/] (shown once; keep it safe).")


@app.command("show")
def show(
    reference: str = typer.Argument(..., help="The request's reference code (TR-XXXX-XXXX)."),
    json_output: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """A request, its state and its candidates."""
    engine = open_engine()
    with unit_of_work(engine) as session:
        found = find_request(session, reference)
        if found is None:
            fail(f"No request {reference}.")
        case = read_case(session, state.who(), found.id, "cli request show")
        req, people = case.request, case.people
        verified = current_verification(session, req.id)
        data: dict[str, Any] = {
            "reference": req.reference,
            "state": req.state,
            "sought": {k: getattr(req, k) for k in SOUGHT if getattr(req, k) not in (None, [], "")},
            "enquirer": {
                "name": req.enquirer_name,
                "relationship": req.enquirer_relationship,
                "contact": req.enquirer_contact,
                "language": req.enquirer_language,
            },
            "verification": None
            if verified is None
            else {
                "method": verified.method,
                "relationship": verified.relationship,
                "by": verified.recorded_by,
                "at": verified.recorded_at.isoformat(),
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
                for c in case.candidates
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
    v = data["verification"]
    if v is None:
        console.print(
            "  [yellow]enquirer not verified[/]: the family is told only that the request is handled"
        )
    else:
        console.print(f"  verified by {v['method']} as {v['relationship']} ({v['by']}, {v['at'][:10]})")
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


def _request_id(session: Any, reference: str) -> int:
    found = find_request(session, reference)
    if found is None:
        fail(f"No request {reference}.")
    return found.id


@app.command("verify")
def verify(
    reference: str = typer.Argument(..., help="The request's reference code (TR-XXXX-XXXX)."),
    method: str = typer.Option(..., "--method", help=f"How the enquirer was verified: {', '.join(METHODS)}."),
    relationship: str = typer.Option(
        ..., "--relationship", help="How the enquirer is related to the person sought, as verified."
    ),
    note: str = typer.Option(None, "--note", help="e.g. which document was seen, which partner society."),
) -> None:
    """Record how the enquirer was verified: until then the family is told nothing beyond "your request is
    being handled"."""
    engine = open_engine()
    try:
        with unit_of_work(engine) as session:
            done = record_verification(
                session, state.who(), _request_id(session, reference), method, relationship, note
            )
            ids = [n.id for n in done.notifications]
    except Refused as e:
        refused(e)
    deliver(engine, ids)
    console.print(f"Enquirer of {reference.upper()} verified ({method}).")


@app.command("unverify")
def unverify(
    reference: str = typer.Argument(..., help="The request's reference code (TR-XXXX-XXXX)."),
    reason: str = typer.Option(..., "--reason", help="Why the verification is withdrawn."),
) -> None:
    """Withdraw the enquirer's verification: the family is told nothing more until a new one is recorded."""
    engine = open_engine()
    try:
        with unit_of_work(engine) as session:
            withdraw_verification(session, state.who(), _request_id(session, reference), reason)
    except Refused as e:
        refused(e)
    console.print(f"Verification of the enquirer of {reference.upper()} withdrawn.")
