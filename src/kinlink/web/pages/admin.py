"""Staff accounts: the admin's list of users, and every staff member's own API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from kinlink.accounts import tokens, users
from kinlink.errors import Refused
from kinlink.http import state
from kinlink.http.params import RowId
from kinlink.http.security import ADMIN, CLEAN_URL, CSRF, STAFF, Principal, page_roles
from kinlink.store.db import unit_of_work
from kinlink.web.render import problems, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[CLEAN_URL])


def _users_page(
    request: Request, status_code: int = 200, refused: Refused | None = None, **extra: object
) -> Response:
    with unit_of_work(state.engine(request)) as s:
        listed = users.list_users(s)
    if refused is not None:
        extra.update(errors=problems(refused))
    extra.setdefault("done", request.query_params.get("done"))
    return render(
        request, "staff/users.html", status_code=status_code, users=listed, roles=users.ROLES, **extra
    )


@router.get("/admin/users")
def users_page(request: Request, who: Principal = page_roles(ADMIN)) -> Response:
    return _users_page(request)


@router.post("/admin/users", dependencies=[CSRF])
def users_create(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    role: str = Form(""),
    display_name: str = Form(""),
    who: Principal = page_roles(ADMIN),
) -> Response:
    try:
        with unit_of_work(state.engine(request)) as s:
            users.create_user(s, who.actor, username, password, role, display_name or None)
    except Refused as e:
        if e.kind not in ("invalid", "conflict"):
            raise
        # The form again with what was typed (the password aside), each problem beside its field.
        kept = {"username": username, "display_name": display_name, "role": role}
        return _users_page(request, 409 if e.kind == "conflict" else 422, e, values=kept)
    return redirect("/admin/users?done=user_created")


@router.post("/admin/users/{user_id}", dependencies=[CSRF])
def users_update(
    request: Request,
    user_id: RowId,
    role: str = Form(""),
    active: str = Form(""),
    password: str = Form(""),
    who: Principal = page_roles(ADMIN),
) -> Response:
    try:
        with unit_of_work(state.engine(request)) as s:
            users.update_user(
                s,
                who.actor,
                user_id,
                role=role or None,
                active=active == "on",
                password=password or None,
                by_user_id=who.user_id,
            )
    except Refused as e:
        if e.kind != "invalid":
            raise
        kept = {"role": role, "active": active == "on"}
        return _users_page(request, 422, e, row_id=user_id, row_values=kept)
    return redirect("/admin/users?done=user_saved")


@router.get("/account")
def account_page(request: Request, who: Principal = page_roles(*STAFF)) -> Response:
    with unit_of_work(state.engine(request)) as s:
        return render(
            request,
            "staff/account.html",
            tokens=tokens.user_tokens(s, who.user_id or 0),
            done=request.query_params.get("done"),
        )


@router.post("/account/tokens", dependencies=[CSRF])
def account_new_token(
    request: Request, name: str = Form(""), who: Principal = page_roles(*STAFF)
) -> Response:
    with unit_of_work(state.engine(request)) as s:
        _row, token = tokens.create_token(s, who.actor, who.user_id or 0, name, by_user_id=who.user_id)
    with unit_of_work(state.engine(request)) as s:
        # The token is shown in this response only (never in a URL, never stored).
        return render(
            request, "staff/account.html", tokens=tokens.user_tokens(s, who.user_id or 0), new_token=token
        )


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CSRF])
def account_revoke_token(request: Request, token_id: RowId, who: Principal = page_roles(*STAFF)) -> Response:
    with unit_of_work(state.engine(request)) as s:
        tokens.revoke_token(s, who.actor, token_id, user_id=who.user_id)
    return redirect("/account?done=token_revoked")
