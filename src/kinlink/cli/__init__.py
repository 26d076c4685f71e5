"""The `kinlink` command. Each command group lives in a module of its own beside this one."""

from __future__ import annotations

import typer

from kinlink.cli import admin as admin_cli
from kinlink.cli import bot as bot_cli
from kinlink.cli import candidates as candidates_cli
from kinlink.cli import demo as demo_cli
from kinlink.cli import ingest as ingest_cli
from kinlink.cli import lists as lists_cli
from kinlink.cli import names as names_cli
from kinlink.cli import papers as papers_cli
from kinlink.cli import pfif as pfif_cli
from kinlink.cli import registry as registry_cli
from kinlink.cli import remains as remains_cli
from kinlink.cli import requests as requests_cli
from kinlink.cli import search as search_cli
from kinlink.cli import serve as serve_cli
from kinlink.cli import users as users_cli
from kinlink.cli.context import state

app = typer.Typer(
    name="kinlink",
    help="Family tracing for people captured, missing or killed in armed conflict.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _global(
    db: str = typer.Option(
        None, "--db", help="Database URL or SQLite file (default: $KINLINK_DATABASE_URL, else ./kinlink.db)."
    ),
    actor: str = typer.Option(
        None, "--as", help="Who is acting, for the audit log (default: $KINLINK_ACTOR, else the OS user)."
    ),
) -> None:
    state.db_url = db
    state.actor = actor


app.command("init")(registry_cli.init)
app.command("demo")(demo_cli.demo)
app.command("backup")(admin_cli.backup)
app.command("restore")(admin_cli.restore)
app.command("retention")(registry_cli.retention)
registry_cli.import_app.command("pfif")(pfif_cli.import_pfif)
registry_cli.export_app.command("pfif")(pfif_cli.export_pfif)
registry_cli.export_app.command("cta")(lists_cli.export_cta)
registry_cli.import_app.command("cta")(lists_cli.import_cta)
app.add_typer(registry_cli.import_app, name="import")
app.add_typer(registry_cli.export_app, name="export")
app.add_typer(registry_cli.records_app, name="records")
app.add_typer(registry_cli.audit_app, name="audit")
app.command("ingest")(ingest_cli.ingest)
app.add_typer(names_cli.app, name="names", help="Parse and compare person names across scripts.")
app.command("search")(search_cli.search)
app.command("match")(search_cli.match)
app.add_typer(candidates_cli.candidates_app, name="candidates")
app.add_typer(requests_cli.app, name="request")
app.add_typer(papers_cli.cards_app, name="cards")
app.command("certificate")(papers_cli.certificate)
app.add_typer(remains_cli.app, name="remains")

app.command("serve")(serve_cli.serve)
app.command("bot")(bot_cli.bot)
app.add_typer(users_cli.users_app, name="users")


def main() -> None:
    app()
