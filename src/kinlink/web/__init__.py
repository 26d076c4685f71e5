"""The web pages, by audience: anyone (public), families, registrars, caseworkers, admins. Each page calls
the domain's actions and views and renders them in the reader's language (templates/, kinlink.i18n)."""

from __future__ import annotations

from fastapi import APIRouter

from kinlink.web.pages import admin, caseworker, family, lists, papers, public, registrar, remains


def routers() -> list[APIRouter]:
    return [
        public.router,
        family.status_router,  # first of the family routes, as it was: the route index tries it first
        family.router,
        registrar.router,
        caseworker.router,
        papers.router,
        admin.router,
        remains.router,
        lists.router,
    ]
