"""Settings of the web application and the API, from the environment (KINLINK_*) unless given in code."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from typing import Any

from kinlink.accounts.throttle import Quotas
from kinlink.environment import env_bool, env_int
from kinlink.tracing.mail import MailSettings


@dataclass
class Settings:
    # Signs CSRF tokens and keys the rate limits' hashes. Random per process unless set (`kinlink serve`
    # makes one up for all its workers): restarting then only invalidates open forms.
    secret_key: str = field(
        default_factory=lambda: os.environ.get("KINLINK_SECRET_KEY") or secrets.token_hex(32)
    )
    # Secure cookies: always when set; otherwise whenever the request came over TLS (directly or via a
    # proxy uvicorn trusts with --forwarded-allow-ips).
    secure_cookies: bool = field(default_factory=lambda: env_bool("KINLINK_SECURE_COOKIES", False))
    staff_session_minutes: int = field(default_factory=lambda: env_int("KINLINK_STAFF_SESSION_MINUTES", 480))
    family_session_minutes: int = field(default_factory=lambda: env_int("KINLINK_FAMILY_SESSION_MINUTES", 30))

    # The most attempts per window (sign-ins, family secrets, requests filed): KINLINK_*_PER_IP...
    quotas: Quotas = field(default_factory=Quotas)
    # Email to enquirers (KINLINK_SMTP_*); base_url is the site's address the emails point to.
    mail: MailSettings = field(default_factory=MailSettings)

    # Threads per server process running requests' database work. Python runs one thread of a process at
    # a time, so more threads than this buy no throughput on a local database, and every thread more
    # costs each request more in handing the interpreter lock back and forth: under 100 concurrent
    # clients a search cost ~30% more CPU with 15 threads than with 4 (bench/web). Raise it for a
    # database far away on the network, whose round trips threads would wait out in parallel.
    request_threads: int = field(default_factory=lambda: env_int("KINLINK_REQUEST_THREADS", 4))

    max_upload_bytes: int = field(
        default_factory=lambda: env_int("KINLINK_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
    )
    # The Telegram bot's settings (KINLINK_BOT_*); None: from the environment. With its webhook set,
    # `kinlink serve` takes the bot's updates (kinlink.server.telegram).
    bot: Any = None
    # Matching runs when a request is filed or a record saved; tests of other parts may turn it off.
    match_on_write: bool = True
