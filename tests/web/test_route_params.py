"""The route parameters read with their facts kept per route (kinlink.http.route_params) give what FastAPI's
own `request_params_to_args` gives: the same values, the same errors, for every route's parameters."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.dependencies import utils as fastapi_utils
from fastapi.routing import APIRoute
from starlette.datastructures import Headers, QueryParams

from kinlink.http import route_params
from kinlink.server.app import create_app
from kinlink.store.db import make_engine

SAMPLES = [
    "",
    "q=Ivanov&limit=10",
    "q=&limit=&offset=",
    "limit=many&offset=-1",
    "limit=10&limit=20&q=a&q=b",
    "status=open&page=2&source=x&active=true&kind=search",
    "person_id=12&version=3&request_id=x&lang=uk",
]


def _lists(app: Any) -> list[tuple[str, str, list[Any]]]:
    """Every route's (and its dependencies') lists of path, query, header and cookie parameters."""
    out = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        todo = [route.dependant]
        while todo:
            d = todo.pop()
            todo.extend(d.dependencies)
            for kind in ("path_params", "query_params", "header_params", "cookie_params"):
                fields = getattr(d, kind)
                if fields:
                    out.append((route.path, kind, fields))
    return out


def _received(kind: str, sample: str) -> Any:
    pairs = QueryParams(sample)
    if kind == "query_params":
        return pairs
    if kind == "header_params":
        return Headers(raw=[(k.encode(), v.encode()) for k, v in pairs.multi_items()])
    return dict(pairs)  # path parameters and cookies: a plain mapping


def _plain(result: tuple[dict[str, Any], list[Any]]) -> Any:
    values, errors = result
    return values, [{k: v for k, v in e.items() if k != "url"} for e in errors]


def test_every_routes_parameters_read_as_fastapi_reads_them(tmp_path: Any) -> None:
    app = create_app(make_engine(f"sqlite:///{tmp_path / 'p.db'}"))
    assert fastapi_utils.request_params_to_args is route_params.request_params_to_args
    lists = _lists(app)
    assert any(kind == "query_params" for _, kind, _ in lists)
    own = route_params.request_params_to_args
    theirs = route_params._ORIGINAL
    assert theirs is not None and theirs is not own
    planned = 0
    for path, kind, fields in lists:
        for sample in SAMPLES:
            received = _received(kind, sample)
            assert _plain(own(fields, received)) == _plain(theirs(fields, received)), (path, kind, sample)
            assert _plain(own(fields, received)) == _plain(theirs(fields, received))  # planned: the same
        planned += route_params._PLANS[id(fields)][1] is not None
    assert planned > len(lists) // 2  # most lists are read by the planned path, not handed back


@pytest.mark.parametrize("sample", ["limit=abc", "offset=1.5", ""])
def test_an_invalid_parameter_is_answered_as_before(tmp_path: Any, sample: str) -> None:
    app = create_app(make_engine(f"sqlite:///{tmp_path / 'p.db'}"))
    route = next(r for r in app.routes if isinstance(r, APIRoute) and r.path == "/api/v1/records")
    fields = route.dependant.query_params
    assert route_params._ORIGINAL is not None
    got = _plain(route_params.request_params_to_args(fields, QueryParams(sample)))
    assert got == _plain(route_params._ORIGINAL(fields, QueryParams(sample)))
