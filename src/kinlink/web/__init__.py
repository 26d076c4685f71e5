"""The web application and its services: pages for families and staff, the REST API's workflow."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine


def demo_accounts(engine: Engine) -> list[tuple[str, str, str]]:
    """One demo account per role, (role, username, password); idempotent."""
    from kinlink.web.accounts import demo_accounts as make

    return make(engine)
