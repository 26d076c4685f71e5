"""/api/v1/me and /api/v1/users: staff accounts and their API tokens (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from kinlink.accounts import tokens, users
from kinlink.api import schemas
from kinlink.http import state
from kinlink.http.params import RowId
from kinlink.http.security import ADMIN, CLEAN_URL, STAFF, Principal, api_roles
from kinlink.store.db import unit_of_work

router = APIRouter(prefix="/api/v1", dependencies=[CLEAN_URL], tags=["users"])


@router.get("/me", response_model=schemas.UserOut)
def me(request: Request, who: Principal = api_roles(*STAFF)) -> schemas.UserOut:
    with unit_of_work(state.engine(request)) as s:
        return schemas.UserOut.model_validate(users.get_user(s, who.user_id or 0))


@router.get("/users", response_model=list[schemas.UserOut])
def list_users(request: Request, who: Principal = api_roles(ADMIN)) -> list[schemas.UserOut]:
    with unit_of_work(state.engine(request)) as s:
        return [schemas.UserOut.model_validate(u) for u in users.list_users(s)]


@router.post("/users", status_code=201, response_model=schemas.UserOut)
def create_user(request: Request, body: schemas.UserIn, who: Principal = api_roles(ADMIN)) -> schemas.UserOut:
    with unit_of_work(state.engine(request)) as s:
        user = users.create_user(s, who.actor, body.username, body.password, body.role, body.display_name)
        return schemas.UserOut.model_validate(user)


@router.patch("/users/{user_id}", response_model=schemas.UserOut)
def update_user(
    request: Request, user_id: RowId, body: schemas.UserPatch, who: Principal = api_roles(ADMIN)
) -> schemas.UserOut:
    with unit_of_work(state.engine(request)) as s:
        user = users.update_user(
            s,
            who.actor,
            user_id,
            role=body.role,
            active=body.active,
            password=body.password,
            display_name=body.display_name,
            by_user_id=who.user_id,
        )
        return schemas.UserOut.model_validate(user)


@router.post("/users/{user_id}/tokens", status_code=201, response_model=schemas.TokenOut)
def create_token(
    request: Request, user_id: RowId, body: schemas.TokenIn, who: Principal = api_roles(ADMIN)
) -> schemas.TokenOut:
    with unit_of_work(state.engine(request)) as s:
        row, token = tokens.create_token(s, who.actor, user_id, body.name, by_user_id=who.user_id)
        return schemas.TokenOut(id=row.id, name=row.name, token=token)
