"""The bot's settings, from the environment (KINLINK_BOT_*); README explains how to get a token."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from kinlink.environment import env_int, env_str


@dataclass(frozen=True)
class BotSettings:
    # From BotFather. Without it there is no bot (`kinlink bot` says so; `kinlink serve` runs without it).
    token: str | None = field(default_factory=lambda: os.environ.get("KINLINK_BOT_TOKEN"))
    # The Bot API server: Telegram's, a self-hosted telegram-bot-api, or an emulator in tests.
    api_server: str = field(
        default_factory=lambda: env_str("KINLINK_BOT_API_SERVER", "https://api.telegram.org")
    )
    # Webhook mode (under `kinlink serve`): the public https address Telegram posts updates to, and the
    # secret it sends back in X-Telegram-Bot-Api-Secret-Token (1-256 of A-Z a-z 0-9 _ -).
    webhook_url: str | None = field(default_factory=lambda: os.environ.get("KINLINK_BOT_WEBHOOK_URL"))
    webhook_secret: str | None = field(default_factory=lambda: os.environ.get("KINLINK_BOT_WEBHOOK_SECRET"))
    # The most messages a chat may send in the rate limits' window (KINLINK_RATE_WINDOW_SECONDS).
    messages_per_chat: int = field(default_factory=lambda: env_int("KINLINK_BOT_MESSAGES_PER_CHAT", 120))
    # How often queued chat notifications are looked for, in seconds.
    notice_interval: float = field(
        default_factory=lambda: float(os.environ.get("KINLINK_BOT_NOTICE_SECONDS") or 5)
    )

    @property
    def webhook(self) -> bool:
        return bool(self.token and self.webhook_url and self.webhook_secret)
