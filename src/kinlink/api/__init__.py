"""The REST API (/api/v1), one router per resource. Staff clients send `Authorization: Bearer <token>`;
the two family endpoints take the reference and the secret in the POST body. Errors are JSON:
`{"error": {"message": ..., "field": ..., "errors": [{"field", "message"}]}}`.
"""

from __future__ import annotations

from fastapi import APIRouter

from kinlink.api import (
    candidates,
    documents,
    family,
    messages,
    papers,
    pfif,
    records,
    remains,
    requests,
    sightings,
    users,
)


def routers() -> list[APIRouter]:
    modules = (records, documents, messages, sightings, family, requests, candidates, users, pfif, papers)
    # The search first: it was the first route of records.router (records.search_router's note).
    return [records.search_router, *(m.router for m in modules), remains.router]
