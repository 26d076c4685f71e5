"""`kinlink demo`: set up the embedded database with demo data, and say how to go on."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import select

from kinlink.cli.context import console, state
from kinlink.demo import DEMO_REGISTRY, DEMO_SOURCE, SEED_ARTICLE, SEED_DATE
from kinlink.ingest.pipeline import process_items
from kinlink.ingest.readers import read_paths
from kinlink.registry import service
from kinlink.registry.audit import AuditLog
from kinlink.reports.service import store_result
from kinlink.store import schema
from kinlink.store.db import database_url, make_engine, redacted, unit_of_work
from kinlink.store.tracing_models import TracingRequest
from kinlink.tracing.matching import match_new_records, match_request
from kinlink.tracing.requests import Enquirer, SoughtPerson, create_request

DEMO_CONTACT = "family@demo.kinlink.invalid"


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

    report = service.import_registry(engine, DEMO_REGISTRY, DEMO_SOURCE, actor)
    with unit_of_work(engine) as session:
        match_new_records(session, actor, report.changed_ids)
    console.print(
        f"Registry '{DEMO_SOURCE}': {report.created} records created, {report.updated} updated, "
        f"{report.unchanged} unchanged (fictional people, and the seed article's Leonid Paktishev)."
    )

    seed = _ingest_seed(engine, actor, SEED_ARTICLE)
    console.print(f"Seed article: {seed}")

    with unit_of_work(engine) as session:
        existing = session.scalar(
            select(TracingRequest).where(TracingRequest.enquirer_contact == DEMO_CONTACT)
        )
        if existing is None:
            req, secret = create_request(
                session,
                actor,
                SoughtPerson(full_name="Пактышев Леонид Андреевич", birth_date="1993", sex="m"),
                Enquirer("Пактышева Анна", "sister", DEMO_CONTACT, "ru"),
            )
            session.flush()
            match_request(session, actor, req.id)
            console.print(f"Family request: reference [bold]{req.reference}[/], secret [bold]{secret}[/]")
        else:
            console.print(f"Family request: reference {existing.reference} (its secret was shown when made)")

    from kinlink.web import demo_accounts

    console.print("\n[bold]Demo staff accounts[/] (for a demo database only)")
    for role, username, password in demo_accounts(engine):
        console.print(f"  {role:<11} {username:<18} {password}")
    console.print(
        "\n[bold]Try next[/]\n"
        "  kinlink serve                             the web application on http://127.0.0.1:8000\n"
        "  kinlink records list --status captured    the registry\n"
        "  kinlink records show demo-registry:RU-0000\n"
        '  kinlink search "Leonid Paktyschew" --age 28 --as-of 2022-02-27\n'
        "  kinlink candidates list                   what matching proposes for review\n"
        "  kinlink ingest FILE-OR-FOLDER             news articles, Telegram exports\n"
        "  kinlink import registry FILE --source NAME\n"
        "  kinlink audit verify                      check the audit log's hash chain\n"
        "  kinlink --help                            everything else"
    )
    if serve:
        from kinlink.cli.web import serve as run_server

        run_server(host="127.0.0.1", port=port, workers=None, forwarded_allow_ips=None)


def _ingest_seed(engine, actor: str, path: Path) -> str:  # type: ignore[no-untyped-def]
    results = list(process_items(read_paths([path], default_date=SEED_DATE)))
    with unit_of_work(engine) as session:
        log = AuditLog(session, actor)
        stored = [store_result(session, log, r) for r in results if not r.error]
        log.flush()
        ids = [pid for s in stored for pid in s.person_ids]
        if ids:
            match_new_records(session, actor, ids)
    if stored and not stored[0].new:
        return "stored before, nothing added"
    return f"{len(ids)} sighting(s) stored, matched against the registry"
