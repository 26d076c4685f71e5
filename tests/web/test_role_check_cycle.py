"""A route's role check, once made, is no cycle with its request (issue 19): a request's objects are then
freed by reference counting when it is answered, not left to the cyclic collector, whose full collections
stopped a server worker for up to a second at a million records (docs/web-cpu.md)."""

from __future__ import annotations

import gc

from fastapi import HTTPException
from starlette.requests import Request

from kinlink.http.security import RoleCheck, pending_check


def _request() -> Request:
    headers: list[tuple[bytes, bytes]] = []
    return Request({"type": "http", "method": "GET", "path": "/api/v1/records", "headers": headers})


def _role_checks() -> int:
    return sum(1 for o in gc.get_objects() if type(o) is RoleCheck)


def test_a_made_check_is_freed_with_its_request_without_the_collector() -> None:
    gc.collect()
    gc.disable()
    try:
        before = _role_checks()
        request = _request()
        check = RoleCheck(request, ("caseworker",), api=True)
        assert pending_check(request) is check
        try:
            check()  # no token: refused, as before
        except HTTPException as e:
            assert e.status_code == 401
        else:
            raise AssertionError("an anonymous caller passed a caseworker's check")
        assert pending_check(request) is None  # made: not pending, as before
        del check, request
        assert _role_checks() == before  # freed at once: nothing left for the cyclic collector
    finally:
        gc.enable()


def test_a_check_not_made_stays_pending() -> None:
    request = _request()
    check = RoleCheck(request, ("caseworker",), api=True)
    assert pending_check(request) is check
    assert not check.done
