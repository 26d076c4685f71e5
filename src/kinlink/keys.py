"""Keys that must outlive a process and must not live in the database: the key of the audit chain's
HMAC and the key of the family secrets' keyed hash. A copy of the database alone then can neither forge
the audit chain nor test guesses of a family's secret offline.

Each key comes from the environment (KINLINK_<NAME>_KEY) or, failing that, from a file of its own in the
key directory (KINLINK_KEY_DIR, by default ~/.config/kinlink), made on first use with 32 random bytes and
mode 0600. Every process on the machine (the server's workers, the CLI) reads the same file.
"""

from __future__ import annotations

import os
import secrets
from functools import cache
from pathlib import Path


def key_dir() -> Path:
    configured = os.environ.get("KINLINK_KEY_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kinlink"


def _read_or_make(path: Path) -> bytes:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes().strip()
        if len(key) < 32:
            raise ValueError(f"the key file {path} is shorter than 32 bytes") from None
        return key
    key = secrets.token_hex(32).encode()
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


@cache
def server_key(name: str) -> bytes:
    """The key called `name` (e.g. "audit", "family-secret"): KINLINK_<NAME>_KEY, else its key file."""
    variable = "KINLINK_" + name.upper().replace("-", "_") + "_KEY"
    given = os.environ.get(variable)
    if given:
        return given.encode()
    return _read_or_make(key_dir() / f"{name}.key")
