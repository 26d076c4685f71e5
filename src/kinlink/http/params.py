"""Numbers in paths and query strings as the database can hold them.

Row ids and versions are 32-bit integers in both databases. A larger number names no row: it is refused
with a 422 naming the parameter before it reaches SQLite (which would overflow) or PostgreSQL (which would
fail the statement), and the bounds are in the OpenAPI description.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_INT = 2**31 - 1

RowId = Annotated[int, Path(ge=1, le=MAX_INT)]
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_INT)]
