"""What every handler of the bot needs, made once per process (`kinlink bot`, or `kinlink serve` with the
bot's webhook): the database, the shared rate limits, matching, the mail server, the bot's settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from kinlink.accounts.throttle import RateLimiter
from kinlink.bot.settings import BotSettings
from kinlink.tracing.continuous import Matching
from kinlink.tracing.mail import MailSettings

MESSENGER = "telegram"


@dataclass
class BotContext:
    engine: Engine
    limiter: RateLimiter
    matching: Matching
    mail: MailSettings
    settings: BotSettings
