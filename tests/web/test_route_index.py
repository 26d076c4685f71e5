"""The route index (kinlink.server.routing) picks the route the router's own scan of every route picks."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.routing import Match

from kinlink.http.settings import Settings
from kinlink.server.app import create_app
from kinlink.server.routing import RouteIndex


def _first_full(routes: list, scope: dict) -> object:  # type: ignore[type-arg]
    return next((r for r in routes if r.matches(scope)[0] is Match.FULL), None)


def test_every_path_finds_the_route_a_scan_of_every_route_finds(engine: Engine) -> None:
    app = create_app(engine, Settings(secret_key="test"))
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    index._index()
    paths = {re.sub(r"\{[^}]+\}", "1", r.path) for r in app.routes} | {
        re.sub(r"\{[^}]+\}", "new", r.path) for r in app.routes
    }
    paths |= {"/", "/nowhere", "/api", "/api/v1", "/records/", "/api/v1/records/1/x"}
    for path in sorted(paths):
        for method in ("GET", "POST", "PUT", "PATCH", "HEAD"):
            scope = {"type": "http", "path": path, "root_path": "", "method": method}
            view = index._views.get(path[1:].split("/", 1)[0])
            candidates = view.routes if view is not None else index._rest[0]
            assert _first_full(candidates, scope) is _first_full(app.routes, scope), (method, path)


def test_what_no_route_takes_is_answered_as_before(engine: Engine) -> None:
    app = create_app(engine, Settings(secret_key="test"))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/nowhere").status_code == 404
        assert c.delete("/api/v1/records").status_code == 405  # a route for another method
        assert c.get("/api/v1/records").status_code == 401  # its role is still asked for
        moved = c.get("/track/", follow_redirects=False)  # an extra slash
        assert (moved.status_code, moved.headers["location"]) == (307, "http://127.0.0.1/track")
