"""Notifications queued by an action, delivered after the response: in threads of their own, so that a
slow mail server (up to its 20 s timeout a message) does not hold the few threads that answer requests."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import BackgroundTasks, Request
from sqlalchemy import Engine

from kinlink.tracing.mail import MailSettings, send_pending

if TYPE_CHECKING:
    from kinlink.store.casework_models import Notification

# Per event loop (each server runs its own): a limiter belongs to the loop it was made in.
_MAIL_THREADS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _mail_threads() -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _MAIL_THREADS.get(loop)
    if limiter is None:
        limiter = _MAIL_THREADS[loop] = CapacityLimiter(2)
    return limiter


async def send_after_response(
    engine: Engine, settings: MailSettings, ids: list[int], secrets: dict[int, str] | None = None
) -> None:
    await anyio.to_thread.run_sync(send_pending, engine, settings, ids, secrets, limiter=_mail_threads())


def deliver_later(
    background: BackgroundTasks,
    request: Request,
    notes: Iterable[Notification | None],
    secrets: dict[int, str] | None = None,
) -> None:
    """Send these notifications once the response has gone (after the transaction that queued them)."""
    deliver_later_ids(background, request, [n.id for n in notes if n is not None], secrets)


def deliver_later_ids(
    background: BackgroundTasks, request: Request, ids: list[int], secrets: dict[int, str] | None = None
) -> None:
    if ids:
        state = request.app.state
        background.add_task(send_after_response, state.engine, state.settings.mail, ids, secrets)
