"""`kinlink demo`: set up the embedded database with demo data, and say how to go on."""

from __future__ import annotations

from pathlib import Path

import typer

from kinlink.accounts.demo import demo_accounts
from kinlink.cli.context import console, deliver, state
from kinlink.demo import DEMO_REGISTRY, DEMO_SOURCE, SEED_ARTICLE, SEED_DATE
from kinlink.ingest.pipeline import process_items
from kinlink.ingest.readers import read_paths
from kinlink.matching.model import load_model
from kinlink.registry.imports import import_registry
from kinlink.registry.reports import store_report
from kinlink.store import schema
from kinlink.store.db import database_url, make_engine, redacted, unit_of_work
from kinlink.tracing.batch import match_all
from kinlink.tracing.continuous import Matching
from kinlink.tracing.intake import Filer, file_request
from kinlink.tracing.requests import find_request_by_contact
from kinlink.tracing.verification import record_verification

DEMO_CONTACT = "family@demo.kinlink.invalid"
DEMO_REQUEST = {
    "full_name": "Пактышев Леонид Андреевич",
    "birth_date": "1993",
    "sex": "m",
    "enquirer_name": "Пактышева Анна",
    "relationship": "sister",
    "contact": DEMO_CONTACT,
    "language": "ru",
    "agree": True,
}
DEMO_VERIFICATION = {
    "method": "call_back",
    "relationship": "sister",
    "note": "demo data: called back on the number the family gave",
}


def demo(
    serve: bool = typer.Option(False, "--serve", help="Then start the web application."),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """Create the database (SQLite by default) with demo data, staff accounts and a family's request."""
    url = database_url(state.db_url)
    engine = make_engine(url, pooled=False)
    schema.upgrade(engine)
    actor = state.who() + ":demo"
    console.print(f"[bold]kinlink demo[/] on {redacted(url)} (schema {schema.current_revision(engine)})")

    matching = Matching(load_model())
    report = import_registry(engine, DEMO_REGISTRY, DEMO_SOURCE, actor, matching=matching)
    console.print(
        f"Registry '{DEMO_SOURCE}': {report.created} records created, {report.updated} updated, "
        f"{report.unchanged} unchanged (fictional people, and the seed article's Leonid Paktishev)."
    )

    seed = _ingest_seed(engine, actor, SEED_ARTICLE, matching)
    console.print(f"Seed article: {seed}")

    with unit_of_work(engine) as session:
        existing = find_request_by_contact(session, DEMO_CONTACT)
        if existing is None:
            filed = file_request(session, Filer(actor), DEMO_REQUEST, matching=matching)
            reference, secret = filed.request.reference, filed.secret
            # So that the demo shows what a family is told after a confirmed match: in life a caseworker
            # verifies the enquirer first (until then a family is told only that its request is handled).
            record_verification(session, actor, filed.request.id, **DEMO_VERIFICATION)
            console.print(f"Family request: reference [bold]{reference}[/], secret [bold]{secret}[/]")
        else:
            filed = None
            console.print(f"Family request: reference {existing.reference} (its secret was shown when made)")
    # As `kinlink match` does after a list arrives: every record against the others (and the requests).
    match_all(engine, actor, model=matching.model)
    if filed is not None and filed.notification is not None:
        # As after any filing; the demo's address is not a mailbox (without KINLINK_SMTP_HOST: skipped).
        deliver(engine, [filed.notification.id], {filed.notification.id: filed.secret})

    console.print("\n[bold]Demo staff accounts[/] (for a demo database only)")
    for role, username, password in demo_accounts(engine):
        console.print(f"  {role:<11} {username:<18} {password}")
    # While serving, the server is already what comes next: the other commands are for another terminal.
    lines = [
        *([] if serve else ["  kinlink serve                             the web application"]),
        "  kinlink records list --status captured    the registry",
        "  kinlink records show demo-registry:RU-0000",
        '  kinlink search "Leonid Paktyschew" --age 28 --as-of 2022-02-27',
        "  kinlink candidates list                   what matching proposes for review",
        "  kinlink ingest FILE-OR-FOLDER             news articles, Telegram exports",
        "  kinlink import registry FILE --source NAME",
        "  kinlink audit verify                      check the audit log's hash chain",
        "  kinlink --help                            everything else",
    ]
    title = "In another terminal, while it serves" if serve else "Try next"
    console.print(f"\n[bold]{title}[/]\n" + "\n".join(lines), soft_wrap=True)
    if serve:
        from kinlink.cli.serve import serve as run_server

        run_server(host="127.0.0.1", port=port, workers=None, forwarded_allow_ips=None)


def _ingest_seed(engine, actor: str, path: Path, matching: Matching) -> str:  # type: ignore[no-untyped-def]
    results = list(process_items(read_paths([path], default_date=SEED_DATE)))
    with unit_of_work(engine) as session:
        stored = [store_report(session, actor, r, matching=matching) for r in results if not r.error]
        ids = [pid for s in stored for pid in s.person_ids]
    if stored and not stored[0].new:
        return "stored before, nothing added"
    return f"{len(ids)} sighting(s) stored, matched against the registry"
