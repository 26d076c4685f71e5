"""Who acts, as the audit log names them."""

from __future__ import annotations


class Actor(str):
    """An actor's name that also carries the credential it acted with (e.g. "token:3"): a plain string
    everywhere it is passed and compared, recorded and hashed with every entry it writes."""

    credential: str | None

    def __new__(cls, name: str, credential: str | None = None) -> Actor:
        obj = super().__new__(cls, name)
        obj.credential = credential
        return obj
