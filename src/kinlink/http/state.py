"""What a route needs from the running application, set up once by `kinlink.server.app.create_app`."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import Engine

from kinlink.accounts.throttle import RateLimiter
from kinlink.http.settings import Settings
from kinlink.tracing.continuous import Matching


def engine(request: Request) -> Engine:
    return request.app.state.engine


def settings(request: Request) -> Settings:
    return request.app.state.settings


def matching(request: Request) -> Matching:
    return request.app.state.matching


def limiter(request: Request) -> RateLimiter:
    return request.app.state.limiter
