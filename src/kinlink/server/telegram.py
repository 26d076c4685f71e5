"""The bot by webhook under `kinlink serve`: Telegram posts each update to WEBHOOK_PATH with the secret set
at setWebhook in its X-Telegram-Bot-Api-Secret-Token header; anything without it is refused (403) before
it is read. Lives with the application's assembly (not in `web` or `api`): the route only hands updates to
the bot's dispatcher, which answers through the Bot API.

The conversations of the bot live in the memory of the process (aiogram's FSM storage): serve the bot
with one worker (`kinlink serve` does when the bot's webhook is set).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiogram.types import Update
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.routing import Route

from kinlink.bot.app import deliver_notices_forever, make_bot, make_dispatcher
from kinlink.bot.context import BotContext

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def install(app: FastAPI, ctx: BotContext) -> None:
    """Add the webhook route, and (at start-up) register the webhook and deliver chat notifications."""
    bot, dp = make_bot(ctx), make_dispatcher(ctx)
    secret = ctx.settings.webhook_secret or ""
    tasks: set[asyncio.Task[Any]] = set()

    async def webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        update = Update.model_validate(await request.json(), context={"bot": bot})
        # Answered at once (Telegram retries slow webhooks); the handlers answer through the Bot API.
        task = asyncio.create_task(dp.feed_update(bot, update))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return Response(status_code=200)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await bot.set_webhook(
            (ctx.settings.webhook_url or "").rstrip("/") + WEBHOOK_PATH, secret_token=secret
        )
        notices = asyncio.create_task(deliver_notices_forever(bot, ctx))
        try:
            yield
        finally:
            notices.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await notices
            await bot.session.close()

    app.router.routes.append(Route(WEBHOOK_PATH, webhook, methods=["POST"]))
    app.state.lifespans = [*getattr(app.state, "lifespans", []), lifespan]
