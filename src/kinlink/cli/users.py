"""`kinlink users`: staff accounts (registrars, caseworkers, admins) and their API tokens."""

from __future__ import annotations

import os

import typer
from rich.table import Table

from kinlink.accounts import tokens, users
from kinlink.cli.context import console, err_console, refused, state
from kinlink.cli.db import open_engine
from kinlink.errors import Refused
from kinlink.store.db import unit_of_work

users_app = typer.Typer(no_args_is_help=True, help="Staff accounts: registrars, caseworkers, admins.")


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
    engine = open_engine()
    try:
        with unit_of_work(engine) as s:
            user = users.create_user(s, state.who(), username, _password(password), role, name)
            console.print(f"User {user.username} ({user.role}) created.")
    except Refused as e:
        refused(e, 1)


@users_app.command("list")
def users_list() -> None:
    """List staff accounts."""
    with unit_of_work(open_engine()) as s:
        table = Table("username", "name", "role", "active")
        for u in users.list_users(s):
            table.add_row(u.username, u.display_name or "", u.role, "yes" if u.active else "no")
    console.print(table)


def _user_id(s, username: str) -> int:  # type: ignore[no-untyped-def]
    user = users.find_user(s, username)
    if user is None:
        err_console.print(f"[red]No user '{username}'.[/]")
        raise typer.Exit(1)
    return user.id


@users_app.command("set-role")
def users_set_role(username: str = typer.Argument(...), role: str = typer.Argument(...)) -> None:
    """Change a user's role (their sessions and tokens end)."""
    try:
        with unit_of_work(open_engine()) as s:
            users.update_user(s, state.who(), _user_id(s, username), role=role)
    except Refused as e:
        refused(e, 1)
    console.print(f"{username} is now {role}.")


@users_app.command("disable")
def users_disable(username: str = typer.Argument(...)) -> None:
    """Disable an account (its sessions and tokens end)."""
    with unit_of_work(open_engine()) as s:
        users.update_user(s, state.who(), _user_id(s, username), active=False)
    console.print(f"{username} is disabled.")


@users_app.command("token")
def users_token(username: str = typer.Argument(...), name: str = typer.Option("cli", "--name")) -> None:
    """Make an API token for a user (printed once), as the machine's operator: the bootstrap of a user's
    first credential, audited as the operator's act for that user."""
    with unit_of_work(open_engine()) as s:
        _row, token = tokens.create_token(s, state.who(), _user_id(s, username), name, by_user_id=None)
    console.print(token, soft_wrap=True)
