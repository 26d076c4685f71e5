"""The family's conversation with the bot: file a request, follow it, write to the person found, forget.

Each handler translates a chat message into a call of the same domain function the family pages call
(`tracing.intake.file_request`, `family_access.open_request` and `family_view`, `messages.from_family`) and
the answer (or the domain's refusal, `Refused` and its `Problem`s) back into a message in the chat's
language: the bot adds no rule of its own. The answers of a request being written are held in the
dispatcher's memory only (aiogram's FSM storage), never in the database; `/forget` and `/cancel` drop them.
Nothing a family writes is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove

from kinlink.bot import texts
from kinlink.bot.context import MESSENGER, BotContext
from kinlink.errors import Problem, Refused
from kinlink.i18n import LANGUAGES
from kinlink.messages import message_id
from kinlink.store.db import unit_of_work
from kinlink.tracing import chats
from kinlink.tracing.family_access import family_view, open_request
from kinlink.tracing.intake import Filer, file_request, parse_request
from kinlink.tracing.mail import send_pending
from kinlink.tracing.messages import from_family

ACTOR = f"{MESSENGER}:family"
AGREE = message_id("I agree: file the request")
DISAGREE = message_id("I do not agree")
SKIP_BUTTON = message_id("skip")
NO_REQUEST = message_id(
    "This chat follows no request. Send /new to file one, or /track with your reference and secret."
)


class Filing(StatesGroup):
    answering = State()
    confirming = State()


class Following(StatesGroup):
    credentials = State()
    message = State()
    language = State()


async def _lang(state: FSMContext, message: Message) -> str:
    chosen = (await state.get_data()).get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return texts.language_of(message.from_user.language_code if message.from_user else None)


async def _reset(state: FSMContext, keep_language: bool = True) -> None:
    """Drop the conversation and the answers it held, keeping the language chosen with /language."""
    lang = (await state.get_data()).get("lang") if keep_language else None
    await state.clear()
    if lang:
        await state.update_data(lang=lang)


def _keyboard(*rows: list[str]) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=t) for t in row] for row in rows],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def client_of(chat_id: int) -> str:
    """What the rate limits count a chat as (the limiter keeps only a keyed hash of it)."""
    return f"{MESSENGER}:{chat_id}"


def _help(_: texts.Gettext) -> str:
    return "\n".join(
        [
            _("This bot helps families trace relatives captured, missing or killed in the war."),
            "",
            _("/new: file a tracing request"),
            _("/track: follow a request with its reference and secret"),
            _("/status: what you may know now about your request"),
            _("/message: write to the person found (a caseworker reads it first)"),
            _("/language: choose the language"),
            _("/forget: unlink this chat and erase what the bot holds about it"),
            _("/cancel: stop what you are doing"),
        ]
    )


def _too_many(e: Refused, _: texts.Gettext) -> str:
    return _(
        "Too many attempts. Please try again in %(minutes)s minutes.", minutes=-(-(e.retry_after or 60) // 60)
    )


# --- commands, in every state ---------------------------------------------------------------------------


async def start(message: Message, state: FSMContext) -> None:
    await message.answer(
        _help(texts.gettext(await _lang(state, message))), reply_markup=ReplyKeyboardRemove()
    )


async def cancel(message: Message, state: FSMContext) -> None:
    _ = texts.gettext(await _lang(state, message))
    await _reset(state)
    await message.answer(
        _("Stopped. Send /help to see what the bot can do."), reply_markup=ReplyKeyboardRemove()
    )


async def forget(message: Message, state: FSMContext, ctx: BotContext) -> None:
    _ = texts.gettext(await _lang(state, message))

    def work() -> bool:
        with unit_of_work(ctx.engine) as s:
            return chats.forget_chat(s, MESSENGER, message.chat.id)

    await asyncio.to_thread(work)
    await _reset(state, keep_language=False)
    await message.answer(
        _(
            "This chat is unlinked and the bot holds nothing more about it. Your request itself stays with "
            "the tracing service: you can follow it with its reference and secret."
        ),
        reply_markup=ReplyKeyboardRemove(),
    )


async def language(message: Message, state: FSMContext, command: CommandObject, ctx: BotContext) -> None:
    if command.args:
        await _set_language(message, state, ctx, command.args)
        return
    _ = texts.gettext(await _lang(state, message))
    await state.set_state(Following.language)
    await message.answer(_("Choose the language:"), reply_markup=_keyboard(list(LANGUAGES.values())))


async def _set_language(message: Message, state: FSMContext, ctx: BotContext, answer: str) -> None:
    by_name = {name.lower(): code for code, name in LANGUAGES.items()}
    chosen = answer.strip().lower()
    lang = chosen if chosen in LANGUAGES else by_name.get(chosen)
    if lang is None:
        _ = texts.gettext(await _lang(state, message))
        await message.answer(_("Choose the language:"), reply_markup=_keyboard(list(LANGUAGES.values())))
        return

    def work() -> None:
        with unit_of_work(ctx.engine) as s:
            chats.set_chat_language(s, MESSENGER, message.chat.id, lang)

    await asyncio.to_thread(work)
    await state.set_state(None)
    await state.update_data(lang=lang)
    _ = texts.gettext(lang)
    await message.answer(_("I will write in English from now on."), reply_markup=ReplyKeyboardRemove())


async def new(message: Message, state: FSMContext) -> None:
    await _reset(state)
    _ = texts.gettext(await _lang(state, message))
    await message.answer(
        _(
            "Tell us about the person you are looking for. Write names as you know them, in any alphabet. "
            "Every detail helps."
        )
    )
    await state.set_state(Filing.answering)
    await state.update_data(values={}, step=0, fixing=False)
    await _ask(message, 0, _)


async def track(message: Message, state: FSMContext, command: CommandObject, ctx: BotContext) -> None:
    if command.args:
        await _open(message, state, ctx, command.args)
        return
    _ = texts.gettext(await _lang(state, message))
    await state.set_state(Following.credentials)
    await message.answer(_("Send your reference and your secret, separated by a space."))


async def status(message: Message, state: FSMContext, ctx: BotContext) -> None:
    _ = texts.gettext(await _lang(state, message))

    def work() -> str:
        with unit_of_work(ctx.engine) as s:
            rid = chats.linked_request(s, MESSENGER, message.chat.id)
            view = family_view(s, rid, MESSENGER) if rid is not None else None
            return texts.status(view, _) if view is not None else _(NO_REQUEST)

    await message.answer(await asyncio.to_thread(work), reply_markup=ReplyKeyboardRemove())


async def message_cmd(message: Message, state: FSMContext, command: CommandObject, ctx: BotContext) -> None:
    _ = texts.gettext(await _lang(state, message))
    if command.args:
        await _send(message, state, ctx, command.args)
        return
    await state.set_state(Following.message)
    await message.answer(_("Write your message. A caseworker reads it before it is delivered."))


# --- what is not text ------------------------------------------------------------------------------------


async def not_text(message: Message, state: FSMContext) -> None:
    _ = texts.gettext(await _lang(state, message))
    await message.answer(
        _(
            "Photos and files are not accepted here. If a caseworker needs a document, they will tell you "
            "how to give it to them safely."
        )
    )


# --- filing a request -----------------------------------------------------------------------------------


def _next(values: dict[str, Any], start: int) -> int | None:
    for i in range(start, len(texts.STEPS)):
        when = texts.STEPS[i].when
        if when is None or when(values):
            return i
    return None


async def _ask(message: Message, index: int, _: texts.Gettext) -> None:
    step = texts.STEPS[index]
    if step.field == "sex":
        markup: Any = _keyboard([_(texts.SEX["m"]), _(texts.SEX["f"])], [_(SKIP_BUTTON)])
    elif step.required:
        markup = ReplyKeyboardRemove()
    else:
        markup = _keyboard([_(SKIP_BUTTON)])
    await message.answer(texts.question(step, _), reply_markup=markup)


def _problems_of(values: dict[str, Any], field: str) -> list[Problem]:
    """The web form's checks (the domain's `parse_request`) of the answers so far, for one field."""
    try:
        parse_request({**{k: v for k, v in values.items() if v is not None}, "agree": "on"})
    except Refused as e:
        return [p for p in e.problems if p.field == field]
    return []


async def answer(message: Message, state: FSMContext) -> None:
    _ = texts.gettext(await _lang(state, message))
    data = await state.get_data()
    values: dict[str, Any] = dict(data.get("values") or {})
    step = texts.STEPS[int(data.get("step", 0))]
    text = (message.text or "").strip()
    value: str | None = text
    if text in (texts.SKIP, _(SKIP_BUTTON)):
        value = None
    elif step.field == "sex":
        value = {_(label): code for code, label in texts.SEX.items()}.get(text, text)
    values[step.field] = value
    problems = _problems_of(values, step.field)
    if problems:
        values.pop(step.field)
        await message.answer(texts.problem_lines(problems, _))
        await _ask(message, texts.STEPS.index(step), _)
        return
    following = None if data.get("fixing") else _next(values, texts.STEPS.index(step) + 1)
    await state.update_data(values=values)
    if following is None:
        await _confirm(message, state, values, _)
        return
    await state.update_data(step=following)
    await _ask(message, following, _)


async def _confirm(message: Message, state: FSMContext, values: dict[str, Any], _: texts.Gettext) -> None:
    await state.set_state(Filing.confirming)
    await message.answer(texts.summary(values, _), reply_markup=_keyboard([_(AGREE)], [_(DISAGREE)]))


async def confirm(message: Message, state: FSMContext, ctx: BotContext) -> None:
    lang = await _lang(state, message)
    _ = texts.gettext(lang)
    values: dict[str, Any] = dict((await state.get_data()).get("values") or {})
    text = (message.text or "").strip()
    if text not in (_(AGREE), _(DISAGREE)):
        await _confirm(message, state, values, _)
        return
    answers = {k: v for k, v in values.items() if v is not None}
    answers["language"] = lang
    if text == _(AGREE):
        answers["agree"] = "on"
    chat_id = message.chat.id

    def work() -> tuple[str, str, int | None]:
        with unit_of_work(ctx.engine) as s:
            filed = file_request(
                s,
                Filer(ACTOR, client_of(chat_id)),
                answers,
                matching=ctx.matching,
                limiter=ctx.limiter,
                mail=ctx.mail,
            )
            chats.link_chat(s, MESSENGER, chat_id, filed.request.id, lang)
            note = filed.notification.id if filed.notification is not None else None
            return filed.request.reference, filed.secret, note

    try:
        reference, secret, note = await asyncio.to_thread(work)
    except Refused as e:
        if e.kind == "too_many":
            await _reset(state)
            await message.answer(_too_many(e, _), reply_markup=ReplyKeyboardRemove())
            return
        if e.kind != "invalid":
            raise
        await message.answer(texts.problem_lines(e.problems, _))
        first = next((p.field for p in e.problems if p.field in texts.BY_FIELD), None)
        if first is None:  # only the agreement is missing
            await _confirm(message, state, values, _)
            return
        await state.set_state(Filing.answering)
        await state.update_data(step=texts.STEPS.index(texts.BY_FIELD[first]), fixing=True)
        await _ask(message, texts.STEPS.index(texts.BY_FIELD[first]), _)
        return
    await _reset(state)
    await message.answer(
        "\n".join(
            [
                _("Your request has been filed."),
                "",
                f"{_('Reference')}: {reference}",
                f"{_('Secret')}: {secret}",
                "",
                _(
                    "Write both down and keep them safe: with them you can follow the request on the "
                    "website, or from another chat with /track. Do not share the secret."
                ),
                _(
                    "This chat follows the request: /status shows where it stands, and you are told here "
                    "when there is news."
                ),
            ]
        ),
        reply_markup=ReplyKeyboardRemove(),
    )
    if note is not None:  # the email with the reference and the secret, as the web form sends it
        await asyncio.to_thread(send_pending, ctx.engine, ctx.mail, [note], {note: secret})


# --- following a request --------------------------------------------------------------------------------


async def credentials(message: Message, state: FSMContext, ctx: BotContext) -> None:
    await _open(message, state, ctx, message.text or "")


async def _open(message: Message, state: FSMContext, ctx: BotContext, text: str) -> None:
    lang = await _lang(state, message)
    _ = texts.gettext(lang)
    reference, _sep, secret = text.strip().partition(" ")
    chat_id = message.chat.id
    # The secret should not stay in the chat's history.
    with contextlib.suppress(TelegramAPIError):
        await message.delete()

    def work() -> str | None:
        req = open_request(ctx.engine, ctx.limiter, client_of(chat_id), reference, secret)
        if req is None:
            return None
        with unit_of_work(ctx.engine) as s:
            chats.link_chat(s, MESSENGER, chat_id, req.id, lang)
        return req.reference

    try:
        opened = await asyncio.to_thread(work)
    except Refused as e:
        if e.kind != "too_many":
            raise
        await _reset(state)
        await message.answer(_too_many(e, _))
        return
    await _reset(state)
    if opened is None:
        await message.answer(_("The reference or the secret is wrong."))
        return
    await message.answer(
        _(
            "This chat now follows request %(reference)s. Send /status to see where it stands.",
            reference=opened,
        )
    )


async def message_text(message: Message, state: FSMContext, ctx: BotContext) -> None:
    await _send(message, state, ctx, message.text or "")


async def _send(message: Message, state: FSMContext, ctx: BotContext, text: str) -> None:
    _ = texts.gettext(await _lang(state, message))
    chat_id = message.chat.id

    def work() -> bool:
        with unit_of_work(ctx.engine) as s:
            rid = chats.linked_request(s, MESSENGER, chat_id)
            if rid is None:
                return False
            from_family(s, rid, text)
            return True

    await _reset(state)
    try:
        sent = await asyncio.to_thread(work)
    except Refused as e:
        if e.kind != "invalid":
            raise
        await message.answer(texts.problem_lines(e.problems, _))
        return
    await message.answer(_("Your message has been sent for review.") if sent else _(NO_REQUEST))


async def language_answer(message: Message, state: FSMContext, ctx: BotContext) -> None:
    await _set_language(message, state, ctx, message.text or "")


async def anything_else(message: Message, state: FSMContext) -> None:
    await message.answer(_help(texts.gettext(await _lang(state, message))))


def make_router() -> Router:
    """The conversation's handlers, in the order they are tried: the commands in any state first, then
    what is not text, then the answers of each state, then anything else. A new router each time (an
    aiogram router belongs to one dispatcher)."""
    router = Router(name="kinlink-family")
    router.message.register(start, CommandStart())
    router.message.register(start, Command("help"))
    router.message.register(cancel, Command("cancel"))
    router.message.register(forget, Command("forget"))
    router.message.register(language, Command("language"))
    router.message.register(new, Command("new"))
    router.message.register(track, Command("track"))
    router.message.register(status, Command("status"))
    router.message.register(message_cmd, Command("message"))
    router.message.register(not_text, ~F.text)
    router.message.register(answer, Filing.answering, F.text)
    router.message.register(confirm, Filing.confirming, F.text)
    router.message.register(credentials, Following.credentials, F.text)
    router.message.register(message_text, Following.message, F.text)
    router.message.register(language_answer, Following.language, F.text)
    router.message.register(anything_else, F.text)
    return router
