"""`kinlink demo`: set up the embedded database with demo data and say how to go on."""

from __future__ import annotations

from kinlink.cli.context import console, state
from kinlink.demo import DEMO_REGISTRY, DEMO_SOURCE
from kinlink.registry import service
from kinlink.store import schema
from kinlink.store.db import database_url, make_engine, redacted


def demo() -> None:
    """Create the database (SQLite by default), import the demo registry, show what to try next."""
    url = database_url(state.db_url)
    engine = make_engine(url)
    schema.upgrade(engine)
    console.print(f"[bold]kinlink demo[/] on {redacted(url)} (schema {schema.current_revision(engine)})")
    report = service.import_registry(engine, DEMO_REGISTRY, DEMO_SOURCE, state.who() + ":demo")
    console.print(
        f"Demo registry '{DEMO_SOURCE}': {report.created} records created, {report.updated} updated, "
        f"{report.unchanged} unchanged (fictional people, and the seed article's Leonid Paktishev)."
    )
    console.print(
        "\n[bold]Try next[/]\n"
        "  kinlink records list                      the registry\n"
        "  kinlink records list --status captured    only those held now\n"
        "  kinlink records show demo-registry:RU-0000\n"
        "  kinlink export registry --format jsonl    the registry in the import format\n"
        "  kinlink import registry FILE --source NAME\n"
        "  kinlink audit verify                      check the audit log's hash chain\n"
        "  kinlink --help                            everything else"
    )
