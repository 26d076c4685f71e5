"""How often anyone may try: sliding-window limits on attempts (sign-ins, family secrets, requests filed),
counted in the database so that every worker process of the server counts against the same limit."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, func, insert, select

from kinlink.environment import env_int
from kinlink.errors import Refused, problem
from kinlink.store.account_models import RateLimitHit


@dataclass(frozen=True)
class Quotas:
    """The most attempts per window. Wrong reference-and-secret checks are limited per client address and
    over all addresses together, never per reference: a limit per reference would let anyone who knows a
    reference lock its family out. With a 96-bit secret guessing is hopeless anyway."""

    family_failures_per_ip: int = field(default_factory=lambda: env_int("KINLINK_FAMILY_FAILURES_PER_IP", 10))
    family_failures_global: int = field(
        default_factory=lambda: env_int("KINLINK_FAMILY_FAILURES_GLOBAL", 2000)
    )
    requests_filed_per_ip: int = field(default_factory=lambda: env_int("KINLINK_REQUESTS_PER_IP", 10))
    login_failures_per_ip: int = field(default_factory=lambda: env_int("KINLINK_LOGIN_FAILURES_PER_IP", 20))
    # Codes checked at /verify/CODE that belong to no certificate, like wrong family secrets.
    verify_failures_per_ip: int = field(default_factory=lambda: env_int("KINLINK_VERIFY_FAILURES_PER_IP", 20))
    verify_failures_global: int = field(
        default_factory=lambda: env_int("KINLINK_VERIFY_FAILURES_GLOBAL", 2000)
    )
    window_seconds: int = field(default_factory=lambda: env_int("KINLINK_RATE_WINDOW_SECONDS", 3600))


def too_many(retry_after: int = 600) -> Refused:
    return Refused(
        "too_many", [problem(None, "too many attempts: wait and try again later")], retry_after=retry_after
    )


Limit = tuple[tuple[str, str], int]  # (what is limited, e.g. ("login-fail", address)), the most per window


class RateLimiter:
    """Sliding-window limits counted in the database, so that every worker process of the server (and
    every server on the same database) counts against the same limit.

    An attempt is counted before it is made and taken back when it turns out not to count (a right
    secret is not a failure): each count is committed before the limit is checked, so concurrent
    attempts, in any process, never let more than the limit through (a burst past the limit may be
    refused whole). What is limited (an address, a reference) is stored only as a keyed hash.
    """

    SWEEP_EVERY = 100  # attempts between sweeps of old hits

    def __init__(self, engine: Engine, secret: str, quotas: Quotas | None = None) -> None:
        self.engine = engine
        self.quotas = quotas or Quotas()
        self._secret = secret.encode()
        self._calls = 0
        self._lock = threading.Lock()

    def _bucket(self, key: tuple[str, str]) -> str:
        return hmac.new(self._secret, "\x1f".join(key).encode(), hashlib.sha256).hexdigest()

    def take(self, limits: Sequence[Limit], window: float) -> dict[tuple[str, str], int] | None:
        """Count one attempt under each limit; the hits (to `release`), or None, counting nothing, if any
        limit is then exceeded."""
        now = time.time()
        buckets = [self._bucket(key) for key, _ in limits]
        with self._lock:
            self._calls += 1
            sweep_all = self._calls % self.SWEEP_EVERY == 0
        with self.engine.begin() as conn:
            # Hits out of the window are dropped as new ones come; now and then every old one (addresses
            # not seen again). All limits share one window, so a day at least is safe to drop.
            conn.execute(
                delete(RateLimitHit).where(RateLimitHit.bucket.in_(buckets), RateLimitHit.at <= now - window)
            )
            if sweep_all:
                conn.execute(delete(RateLimitHit).where(RateLimitHit.at <= now - max(window, 86400)))
            ids = [
                conn.execute(
                    insert(RateLimitHit).values(bucket=b, at=now).returning(RateLimitHit.id)
                ).scalar_one()
                for b in buckets
            ]
        with self.engine.connect() as conn:
            counts = dict(
                conn.execute(
                    select(RateLimitHit.bucket, func.count())
                    .where(RateLimitHit.bucket.in_(buckets), RateLimitHit.at > now - window)
                    .group_by(RateLimitHit.bucket)
                ).all()
            )
        hits = {key: hit_id for (key, _), hit_id in zip(limits, ids, strict=True)}
        if any(counts.get(b, 0) > most for b, (_, most) in zip(buckets, limits, strict=True)):
            self.release(hits)
            return None
        return hits

    def wait_seconds(self, limits: Sequence[Limit], window: float) -> int:
        """How long until one more attempt fits under every limit (0: now)."""
        now = time.time()
        wait = 0.0
        with self.engine.connect() as conn:
            for key, most in limits:
                times = conn.scalars(
                    select(RateLimitHit.at)
                    .where(RateLimitHit.bucket == self._bucket(key), RateLimitHit.at > now - window)
                    .order_by(RateLimitHit.at)
                ).all()
                if len(times) >= most:
                    # The hit whose leaving the window brings the count under the limit.
                    wait = max(wait, times[len(times) - most] + window - now)
        return max(1, int(wait + 0.999)) if wait > 0 else 0

    def release(
        self, hits: dict[tuple[str, str], int], keys: Sequence[tuple[str, str]] | None = None
    ) -> None:
        """Take back the attempts counted under these keys (all of `hits` by default)."""
        ids = [hits[k] for k in (hits if keys is None else keys) if k in hits]
        if ids:
            with self.engine.begin() as conn:
                conn.execute(delete(RateLimitHit).where(RateLimitHit.id.in_(ids)))

    def take_one(self, what: str, who: str, most: int) -> dict[tuple[str, str], int]:
        """Count one attempt at `what` by `who`, or refuse it (too_many) past `most` in the window."""
        limits = [((what, who), most)]
        hits = self.take(limits, self.quotas.window_seconds)
        if hits is None:
            raise too_many(self.wait_seconds(limits, self.quotas.window_seconds) or 1)
        return hits
