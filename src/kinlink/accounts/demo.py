"""One demo account per role, for a demo database only."""

from __future__ import annotations

from sqlalchemy import Engine

from kinlink.accounts.users import authenticate, create_user, find_user, update_user
from kinlink.store.db import unit_of_work

DEMO_USERS = (
    ("registrar", "demo-registrar"),
    ("caseworker", "demo-caseworker"),
    ("admin", "demo-admin"),
)


def demo_accounts(engine: Engine) -> list[tuple[str, str, str]]:
    """One demo account per role: (role, username, password). Idempotent: existing accounts get their
    demo password and role back, so the printed credentials always work."""
    out = []
    with unit_of_work(engine) as session:
        for role, username in DEMO_USERS:
            password = f"{username}-pass"
            user = find_user(session, username)
            if user is None:
                create_user(session, "kinlink-demo", username, password, role, display_name=f"Demo {role}")
            elif user.role != role or not user.active or not authenticate(session, username, password):
                update_user(session, "kinlink-demo", user.id, role=role, active=True, password=password)
            out.append((role, username, password))
    return out
