"""Settings of the web application, from the environment (KINLINK_*) unless given in code."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class Settings:
    # Signs CSRF tokens and keys the rate limits' hashes. Random per process unless set (`kinlink serve`
    # makes one up for all its workers): restarting then only invalidates open forms.
    secret_key: str = field(
        default_factory=lambda: os.environ.get("KINLINK_SECRET_KEY") or secrets.token_hex(32)
    )
    # Secure cookies: always when set; otherwise whenever the request came over TLS (directly or via a
    # proxy uvicorn trusts with --forwarded-allow-ips).
    secure_cookies: bool = field(default_factory=lambda: _env_bool("KINLINK_SECURE_COOKIES", False))
    base_url: str = field(default_factory=lambda: os.environ.get("KINLINK_BASE_URL", "http://127.0.0.1:8000"))
    staff_session_minutes: int = field(default_factory=lambda: _env_int("KINLINK_STAFF_SESSION_MINUTES", 480))
    family_session_minutes: int = field(
        default_factory=lambda: _env_int("KINLINK_FAMILY_SESSION_MINUTES", 30)
    )

    # Rate limits (per window). Failed code+secret checks are limited per client address and per
    # reference; with a 96-bit secret that leaves guessing hopeless.
    family_failures_per_ip: int = field(
        default_factory=lambda: _env_int("KINLINK_FAMILY_FAILURES_PER_IP", 10)
    )
    family_failures_per_reference: int = field(
        default_factory=lambda: _env_int("KINLINK_FAMILY_FAILURES_PER_REFERENCE", 5)
    )
    family_checks_per_ip: int = field(default_factory=lambda: _env_int("KINLINK_FAMILY_CHECKS_PER_IP", 60))
    requests_filed_per_ip: int = field(default_factory=lambda: _env_int("KINLINK_REQUESTS_PER_IP", 10))
    login_failures_per_ip: int = field(default_factory=lambda: _env_int("KINLINK_LOGIN_FAILURES_PER_IP", 20))
    rate_window_seconds: int = field(default_factory=lambda: _env_int("KINLINK_RATE_WINDOW_SECONDS", 3600))

    # Email (SMTP). Without a host, notifications are recorded as skipped.
    smtp_host: str | None = field(default_factory=lambda: os.environ.get("KINLINK_SMTP_HOST"))
    smtp_port: int = field(default_factory=lambda: _env_int("KINLINK_SMTP_PORT", 25))
    smtp_user: str | None = field(default_factory=lambda: os.environ.get("KINLINK_SMTP_USER"))
    smtp_password: str | None = field(default_factory=lambda: os.environ.get("KINLINK_SMTP_PASSWORD"))
    smtp_starttls: bool = field(default_factory=lambda: _env_bool("KINLINK_SMTP_STARTTLS", False))
    smtp_from: str = field(
        default_factory=lambda: os.environ.get("KINLINK_SMTP_FROM", "tracing@kinlink.invalid")
    )

    # Threads per server process running requests' database work. Python runs one thread of a process at
    # a time, so more threads than this buy no throughput on a local database, and every thread more
    # costs each request more in handing the interpreter lock back and forth: under 100 concurrent
    # clients a search cost ~30% more CPU with 15 threads than with 4 (bench/web). Raise it for a
    # database far away on the network, whose round trips threads would wait out in parallel.
    request_threads: int = field(default_factory=lambda: _env_int("KINLINK_REQUEST_THREADS", 4))

    max_upload_bytes: int = field(
        default_factory=lambda: _env_int("KINLINK_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
    )
    # Matching runs when a request is filed or a record saved; tests of other parts may turn it off.
    match_on_write: bool = True
