"""Candidate commands: `kinlink candidates list`, `decide` and `undo` (the review's rules)."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from kinlink.cli.context import console, deliver, fail, refused, state
from kinlink.cli.db import open_engine
from kinlink.errors import Refused
from kinlink.matching.model import load_model
from kinlink.store.db import unit_of_work
from kinlink.tracing.casefile import read_candidates
from kinlink.tracing.decisions import Decided
from kinlink.tracing.decisions import decide as decide_candidate
from kinlink.tracing.requests import find_request

candidates_app = typer.Typer(no_args_is_help=True, help="Match candidates waiting for review.")


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
                fail(f"--request: no request {request_ref}.")
            request_id = req.id
        queue = read_candidates(
            session,
            state.who(),
            "cli candidates",
            state=state_filter,
            kind=kind,
            request_id=request_id,
            limit=limit,
        )
        people, reqs = queue.people, queue.requests
        items = [
            {
                "id": c.id,
                "version": c.version,
                "state": c.state,
                "request_id": c.request_id,
                "reference": reqs[c.request_id].reference if c.request_id in reqs else None,
                "left_record_id": c.left_person_id,
                "record_id": c.person_id,
                "source_record_id": people[c.person_id].source_record_id if c.person_id in people else None,
                "name": people[c.person_id].full_name if c.person_id in people else "",
                "score": c.probability,
                "explanation": c.explanation,
                "model": f"{c.model_name} v{c.model_version}",
            }
            for c in queue.candidates
        ]
    if json_output:
        print(json.dumps(items, ensure_ascii=False))
        return
    if not items:
        console.print("No candidates.")
        return
    # Readable at 80 columns: ids, references and the probability never wrap; the name takes what is left.
    table = Table(
        title="Match candidates",
        caption="decide: kinlink candidates decide ID confirmed|rejected --reason WHY",
    )
    table.add_column("id", no_wrap=True, justify="right")
    table.add_column("v", no_wrap=True, justify="right")
    table.add_column("state", no_wrap=True)
    table.add_column("sought", no_wrap=True)
    table.add_column("record", ratio=1, overflow="fold")
    table.add_column("name", ratio=2, overflow="fold")
    table.add_column("prob.", no_wrap=True, justify="right")
    for it in items:
        left = it["reference"] or (f"record #{it['left_record_id']}" if it["left_record_id"] else "")
        table.add_row(
            str(it["id"]),
            str(it["version"]),
            it["state"],
            left,
            str(it["source_record_id"] or it["record_id"]),
            it["name"],
            # Nothing is certain: near 1, the number says no more than "over 99 %".
            "> 99 %" if it["score"] > 0.99 else f"{100 * it['score']:.1f} %",
        )
    console.print(table)


@candidates_app.command("decide")
def decide(
    candidate_id: int = typer.Argument(..., help="The candidate's id (from `candidates list`)."),
    decision: str = typer.Argument(..., help="confirmed, rejected, or pending (undoes a decision)."),
    version: int = typer.Option(
        None,
        "--version",
        help="The version you reviewed (column v of `candidates list`): refused if it changed since. "
        "Without it, the candidate as it is now.",
    ),
    reason: str = typer.Option(
        None, "--reason", help="Why (required): what shows it is, or is not, the same person."
    ),
    supersede: bool = typer.Option(
        False, "--supersede", help="Confirm in place of the request's confirmed match (which is superseded)."
    ),
) -> None:
    """Confirm or reject a pending candidate (or undo a decision with `pending`), with the reason, as the
    review page does: refused if someone changed it since you looked; the family is told what it may now
    learn."""
    _decide(candidate_id, decision, version, reason, supersede)


@candidates_app.command("undo")
def undo(
    candidate_id: int = typer.Argument(..., help="The candidate's id (from `candidates list`)."),
    reason: str = typer.Option(None, "--reason", help="Why (required): recorded like a decision."),
    version: int = typer.Option(None, "--version", help="The version you reviewed: refused if it changed."),
) -> None:
    """Undo the decision on a candidate (back to pending), with the reason."""
    _decide(candidate_id, "pending", version, reason, False)


def _decide(
    candidate_id: int, decision: str, version: int | None, reason: str | None, supersede: bool
) -> None:
    engine = open_engine()
    try:
        with unit_of_work(engine) as session:
            decided = decide_candidate(
                session,
                state.who(),
                candidate_id,
                decision,
                reason,
                version,
                model=load_model(),
                supersede=supersede,
            )
            c = decided.candidate
    except Refused as e:
        refused(e)
    console.print(f"Candidate {c.id} is now {c.state} (version {c.version}).")
    _tell(decided)
    deliver(engine, [n.id for n in decided.notifications])


def _tell(decided: Decided) -> None:
    """What the decision did and who is told, in English (the domain's messages)."""
    for said in decided.consequences.said if decided.consequences else []:
        console.print(f"  {said.text()}", highlight=False)
