"""Finding a request's route without trying every route's pattern in turn.

Starlette's router matches a request against each route's regular expression in order until one matches
fully: over the ~110 routes of the site and the API, an API search tried 66 of them (about 60 us a request,
measured) before its own. Here the routes are grouped by the first segment of their path, so a request
tries only the routes that could match it (those whose path begins with its first segment, and any whose
first segment is a parameter), in the same order, and the first full match is the one the whole list gives.

Everything else (a method not allowed, a missing or extra slash, a path no route has) is left to the
router itself, over every route, as before; so is any route kind other than a plain route (a mount or a
host route could match anything). `app.routes` stays one list of every route.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

_ANY = object()  # the group of a route that may match any first segment


def _first_segment(path: str) -> str:
    return path[1:].split("/", 1)[0]


def _group(route: Any) -> object:
    path = getattr(route, "path", None)
    if not isinstance(route, Route) or not isinstance(path, str) or not path.startswith("/"):
        return _ANY  # APIRoute is a Route; anything else may match more than its path says
    first = _first_segment(path)
    return _ANY if "{" in first else first


class RouteIndex:
    """The router's entry point (its `middleware_stack`), dispatching a request among its first segment's
    routes when one of them matches it fully, and to the router over every route otherwise."""

    def __init__(self, router: Any) -> None:
        self.router = router
        self.whole = router.middleware_stack
        self._indexed: list[Any] | None = None
        self._views: dict[str, Any] = {}
        self._rest: tuple[list[Any], Any] = ([], router)

    def _view(self, routes: list[Any]) -> Any:
        # The router itself (its settings, default and lifespan), over some of its routes.
        view = copy.copy(self.router)
        view.routes = routes
        return view

    def _index(self) -> None:
        routes = list(self.router.routes)
        groups: dict[object, list[Any]] = {}
        for route in routes:
            groups.setdefault(_group(route), [])
        anywhere = [r for r in routes if _group(r) is _ANY]
        self._views = {
            g: self._view([r for r in routes if _group(r) in (g, _ANY)])  # in the router's order
            for g in groups
            if isinstance(g, str)
        }
        self._rest = (anywhere, self._view(anywhere))
        self._indexed = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.whole(scope, receive, send)
            return
        if self._indexed is None or len(self._indexed) != len(self.router.routes):
            self._index()  # routes added since (a test's, the bot's webhook)
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root) and path != root and path[len(root)] == "/":
            path = path[len(root) :]  # as starlette's get_route_path
        view = self._views.get(_first_segment(path))
        routes = view.routes if view is not None else self._rest[0]
        for route in routes:
            if route.matches(scope)[0] is Match.FULL:
                scope.setdefault("router", self.router)  # url_for looks up every route
                await (view or self._rest[1]).app(scope, receive, send)
                return
        await self.whole(scope, receive, send)


def index_routes(app: FastAPI) -> None:
    """Route `app`'s requests through a `RouteIndex` (once every route and router middleware is in)."""
    router = app.router
    if getattr(router.middleware_stack, "__func__", None) is type(router).app:  # no router middleware
        router.middleware_stack = RouteIndex(router)
