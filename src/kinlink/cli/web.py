"""`kinlink serve` (the web application) and `kinlink users` (staff accounts and API tokens)."""

from __future__ import annotations

import os

import typer
from rich.table import Table

from kinlink.cli.context import console, err_console, state
from kinlink.cli.db import open_engine
from kinlink.store.db import unit_of_work

users_app = typer.Typer(no_args_is_help=True, help="Staff accounts: registrars, caseworkers, admins.")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(
        None,
        "--workers",
        min=1,
        help="Worker processes (default: one per core). Each takes requests; all share the database.",
    ),
    forwarded_allow_ips: str = typer.Option(
        None,
        "--forwarded-allow-ips",
        help="Behind a TLS proxy: the proxy's address(es), whose X-Forwarded-Proto/-For are trusted.",
    ),
) -> None:
    """Start the web application and the REST API (OpenAPI at /openapi.json)."""
    from kinlink.web.server import default_workers
    from kinlink.web.server import serve as run

    engine = open_engine()  # migrated and reachable, or a clear error before any worker starts
    url = engine.url.render_as_string(hide_password=False)
    from kinlink.store.db import unit_of_work
    from kinlink.tracing.matching import keys_stale

    with unit_of_work(engine) as session:
        stale = keys_stale(session)
    engine.dispose()
    if stale:
        err_console.print(
            "[yellow]The matching keys were written by another kinlink version: searches may miss people "
            "until `kinlink init` rebuilds them.[/]"
        )
    if not os.environ.get("KINLINK_SECRET_KEY"):
        err_console.print(
            "[yellow]KINLINK_SECRET_KEY is not set: forms stop working when the server restarts.[/]"
        )
    n = workers or default_workers()
    console.print(
        f"kinlink on http://{host}:{port}/  (API: http://{host}:{port}/api/v1, /openapi.json), "
        f"{n} worker process{'es' if n > 1 else ''}"
    )
    run(url, host, port, n, forwarded_allow_ips)


def _password(password: str | None) -> str:
    if password:
        return password
    env = os.environ.get("KINLINK_NEW_PASSWORD")
    if env:
        return env
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    username: str = typer.Argument(...),
    role: str = typer.Option(..., "--role", help="registrar, caseworker or admin"),
    name: str = typer.Option(None, "--name", help="Display name."),
    password: str = typer.Option(
        None, "--password", help="Prefer the prompt or $KINLINK_NEW_PASSWORD: arguments show in `ps`."
    ),
) -> None:
    """Create a staff account."""
    from kinlink.web import accounts

    engine = open_engine()
    try:
        with unit_of_work(engine) as s:
            user = accounts.create_user(s, state.who(), username, _password(password), role, name)
            console.print(f"User {user.username} ({user.role}) created.")
    except accounts.AccountError as e:
        err_console.print(f"[red]{e}[/]")
        raise typer.Exit(1) from None


@users_app.command("list")
def users_list() -> None:
    """List staff accounts."""
    from kinlink.web import accounts

    with unit_of_work(open_engine()) as s:
        table = Table("username", "name", "role", "active")
        for u in accounts.list_users(s):
            table.add_row(u.username, u.display_name or "", u.role, "yes" if u.active else "no")
    console.print(table)


def _user_id(s, username: str) -> int:  # type: ignore[no-untyped-def]
    from kinlink.web import accounts

    user = accounts.find_user(s, username)
    if user is None:
        err_console.print(f"[red]No user '{username}'.[/]")
        raise typer.Exit(1)
    return user.id


@users_app.command("set-role")
def users_set_role(username: str = typer.Argument(...), role: str = typer.Argument(...)) -> None:
    """Change a user's role (their sessions and tokens end)."""
    from kinlink.web import accounts

    try:
        with unit_of_work(open_engine()) as s:
            accounts.update_user(s, state.who(), _user_id(s, username), role=role)
    except accounts.AccountError as e:
        err_console.print(f"[red]{e}[/]")
        raise typer.Exit(1) from None
    console.print(f"{username} is now {role}.")


@users_app.command("disable")
def users_disable(username: str = typer.Argument(...)) -> None:
    """Disable an account (its sessions and tokens end)."""
    from kinlink.web import accounts

    with unit_of_work(open_engine()) as s:
        accounts.update_user(s, state.who(), _user_id(s, username), active=False)
    console.print(f"{username} is disabled.")


@users_app.command("token")
def users_token(username: str = typer.Argument(...), name: str = typer.Option("cli", "--name")) -> None:
    """Make an API token for a user (printed once)."""
    from kinlink.web import accounts

    with unit_of_work(open_engine()) as s:
        _row, token = accounts.create_token(s, state.who(), _user_id(s, username), name)
    console.print(token, soft_wrap=True)
