"""The bot as a running thing: the aiogram Bot and Dispatcher, the per-chat rate limit, the delivery of
chat notifications, long polling and webhook updates."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import Message, TelegramObject

from kinlink.bot import texts
from kinlink.bot.context import MESSENGER, BotContext
from kinlink.bot.conversation import client_of, make_router
from kinlink.errors import Refused
from kinlink.tracing.chats import claim_chat_notices, finish_chat_notice

# Counts and ids only: a chat's words and numbers never go to the log.
log = logging.getLogger("kinlink.bot")


def make_bot(ctx: BotContext) -> Bot:
    if not ctx.settings.token:
        raise ValueError("KINLINK_BOT_TOKEN is not set")
    session = AiohttpSession(api=TelegramAPIServer.from_base(ctx.settings.api_server.rstrip("/")))
    return Bot(ctx.settings.token, session=session)


class PerChatLimit(BaseMiddleware):
    """At most `messages_per_chat` messages a chat in the window, counted in the database like every other
    limit (accounts.throttle), so that the bot in several processes counts once."""

    def __init__(self, ctx: BotContext) -> None:
        self.ctx = ctx

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Message):
            limiter = self.ctx.limiter
            try:
                await asyncio.to_thread(
                    limiter.take_one,
                    "bot-chat",
                    client_of(event.chat.id),
                    self.ctx.settings.messages_per_chat,
                )
            except Refused as e:
                lang = texts.language_of(event.from_user.language_code if event.from_user else None)
                _ = texts.gettext(lang)
                minutes = -(-(e.retry_after or 60) // 60)
                await event.answer(
                    _("Too many attempts. Please try again in %(minutes)s minutes.", minutes=minutes)
                )
                return None
        return await handler(event, data)


def make_dispatcher(ctx: BotContext) -> Dispatcher:
    dp = Dispatcher(storage=MemoryStorage())
    dp["ctx"] = ctx
    dp.message.outer_middleware(PerChatLimit(ctx))
    dp.include_router(make_router())
    return dp


async def deliver_notices(bot: Bot, ctx: BotContext) -> int:
    """Send the chat notifications queued since the last call (by any process); how many were claimed."""
    notices = await asyncio.to_thread(claim_chat_notices, ctx.engine, MESSENGER)
    for notice in notices:
        error = None if notice.chats else "no chat follows the request"
        for chat_id, lang in notice.chats:
            try:
                await bot.send_message(
                    chat_id, texts.notice(notice.kind, notice.reference, texts.gettext(lang))
                )
            except TelegramAPIError as e:
                error = type(e).__name__
        if error:
            log.warning("chat notification %s not sent: %s", notice.id, error)
        await asyncio.to_thread(finish_chat_notice, ctx.engine, notice.id, error)
    return len(notices)


async def deliver_notices_forever(bot: Bot, ctx: BotContext) -> None:
    while True:
        try:
            await deliver_notices(bot, ctx)
        except Exception:  # a database or network hiccup: try again at the next round
            log.exception("chat notifications: delivery failed, retrying")
        await asyncio.sleep(ctx.settings.notice_interval)


async def run_polling(ctx: BotContext) -> None:
    """`kinlink bot`: take updates by long polling (dropping any webhook) until stopped."""
    bot = make_bot(ctx)
    dp = make_dispatcher(ctx)
    await bot.delete_webhook(drop_pending_updates=False)
    notices = asyncio.create_task(deliver_notices_forever(bot, ctx))
    try:
        await dp.start_polling(bot, handle_signals=True)
    finally:
        notices.cancel()
        await bot.session.close()
