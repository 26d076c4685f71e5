"""`kinlink bot`: the families' Telegram bot, by long polling (settings from KINLINK_BOT_*, see README)."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets

from kinlink.cli.context import console, err_console
from kinlink.cli.db import open_engine


def bot() -> None:
    """Run the families' Telegram bot by long polling until stopped (Ctrl-C)."""
    import typer

    from kinlink.accounts.throttle import RateLimiter
    from kinlink.bot.app import run_polling
    from kinlink.bot.context import BotContext
    from kinlink.bot.settings import BotSettings
    from kinlink.matching.model import load_model
    from kinlink.tracing.continuous import Matching
    from kinlink.tracing.mail import MailSettings

    settings = BotSettings()
    if not settings.token:
        err_console.print("[red]KINLINK_BOT_TOKEN is not set:[/] register a bot with BotFather (see README).")
        raise typer.Exit(2)
    engine = open_engine()
    # The limits' keys: shared with the web server when KINLINK_SECRET_KEY is set.
    key = os.environ.get("KINLINK_SECRET_KEY") or secrets.token_hex(32)
    ctx = BotContext(engine, RateLimiter(engine, key), Matching(load_model(), True), MailSettings(), settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    console.print(
        f"kinlink bot: polling {settings.api_server} (Ctrl-C stops it)", soft_wrap=True, highlight=False
    )
    asyncio.run(run_polling(ctx))  # aiogram stops polling cleanly on SIGINT and SIGTERM
