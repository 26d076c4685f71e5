"""The application: the web pages and the REST API (under /api/v1) in one ASGI app, over one workflow.

This is where the doors are put together (the only module that imports both `web` and `api`): the
shared state every route reads (`kinlink.http.state`), the error handlers, the routes, the middleware.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy import Engine

from kinlink import api, web
from kinlink.accounts.throttle import RateLimiter
from kinlink.bot.context import BotContext
from kinlink.bot.settings import BotSettings
from kinlink.http import errors
from kinlink.http.middleware import FORM_OVERHEAD, BodyLimit, SecurityHeaders
from kinlink.http.security import NotSignedIn
from kinlink.http.settings import Settings
from kinlink.matching.model import load_model
from kinlink.server.routing import index_routes
from kinlink.tracing.continuous import Matching
from kinlink.web.render import error_page, sign_in_first

# The threads of a process that run requests' (blocking) database work are the settings'
# `request_threads`, fewer than the engine's pool holds (SQLAlchemy's default, 5 and 10 more on demand),
# so that under a burst requests wait their turn in the event loop instead of failing after waiting 30 s
# for a connection inside a thread.


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.settings.request_threads
    async with AsyncExitStack() as stack:
        for hook in getattr(app.state, "lifespans", []):  # the bot's webhook, when it is set
            await stack.enter_async_context(hook(app))
        yield


def create_app(engine: Engine, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="kinlink",
        version="1",
        summary="Family tracing for people captured, missing or killed in armed conflict",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        # kinlink sets up no OpenTelemetry, so FastAPI's telemetry never turns on; said here, FastAPI no
        # longer asks OpenTelemetry's three providers whether someone configured them at every request
        # (~4 µs a request, issue 19).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.limiter = RateLimiter(engine, settings.secret_key, settings.quotas)
    app.state.model = load_model()
    app.state.matching = Matching(app.state.model, settings.match_on_write)
    errors.install(app, error_page, NotSignedIn, sign_in_first)
    # The routes themselves, not the routers: recent FastAPI keeps an included router as one nested entry
    # of app.routes, and app.routes must list every route (the role-walk test enumerates it).
    for router in (*web.routers(), *api.routers()):
        app.router.routes.extend(router.routes)
    bot = BotSettings() if settings.bot is None else settings.bot
    if bot.webhook:
        from kinlink.server import telegram

        telegram.install(app, bot_context(app, bot))
    index_routes(app)
    app.add_middleware(
        BodyLimit,
        limit=settings.max_upload_bytes + FORM_OVERHEAD,
        upload_limit=settings.max_upload_bytes,
    )
    app.add_middleware(SecurityHeaders, settings=settings)
    return app


def bot_context(app: FastAPI, bot: BotSettings) -> BotContext:
    """The bot shares the application's database, limits, matching and mail server."""
    st = app.state
    return BotContext(st.engine, st.limiter, st.matching, st.settings.mail, bot)
