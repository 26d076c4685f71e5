"""Files that hold personal data (the SQLite database, backups, exports) are created readable by their
owner only (0600), whatever the process's umask: a machine's other accounts must not read them. The
umask itself is left alone, so that nothing else the process writes changes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

PRIVATE = 0o600


def make_private(path: Path) -> Path:
    """Create `path` empty with mode 0600 if it does not exist (SQLite and pg_dump then write into it and
    keep its mode; SQLite gives its -wal and -shm files the database file's mode); an existing file is
    narrowed to 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)
    finally:
        os.close(fd)
    return path


def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """`open(path, mode)` for writing a new file (or replacing one), with mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    os.fchmod(fd, PRIVATE)
    return os.fdopen(fd, mode, **kwargs)
