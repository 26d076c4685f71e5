"""`kinlink serve`: the web application and the REST API, in worker processes sharing one socket."""

from __future__ import annotations

import os

import typer

from kinlink.cli.context import console, err_console
from kinlink.cli.db import open_engine
from kinlink.registry.search import keys_outdated
from kinlink.store.db import unit_of_work


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
    from kinlink.server.run import default_workers
    from kinlink.server.run import serve as run

    engine = open_engine()  # migrated and reachable, or a clear error before any worker starts
    url = engine.url.render_as_string(hide_password=False)
    with unit_of_work(engine) as session:
        stale = keys_outdated(session)
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
    from kinlink.bot.settings import BotSettings

    if BotSettings().webhook and n > 1:
        # The bot's conversations live in one process's memory (kinlink.server.telegram).
        err_console.print("[yellow]The Telegram bot's webhook is set: serving with one worker process.[/]")
        n = 1
    # The address on one line of its own words, never wrapped in the middle (it is what one copies).
    console.print(f"kinlink is serving on http://{host}:{port}/ (Ctrl-C stops it)", soft_wrap=True)
    console.print(
        f"  API: http://{host}:{port}/api/v1 (OpenAPI: /openapi.json); "
        f"{n} worker process{'es' if n > 1 else ''}",
        soft_wrap=True,
        highlight=False,
    )
    run(url, host, port, n, forwarded_allow_ips)
