"""An official list imported from the web: the uploaded file kept while the registrar maps its columns and
checks the preview, then imported in a background thread that reports its progress. The preview (every
row checked, every bad cell named) runs in a background thread too, reporting the rows checked, so that a
50,000-row sheet does not hold the registrar's request.

A job is a private folder (0700) holding the file and a small JSON state, under KINLINK_LIST_DIR (default:
the system's temporary folder). A folder, not a table: the import's own transaction holds SQLite's only
write lock until it commits, so its progress could not be written to the database while it runs; and every
server process can read a folder, whichever one started the import. The import itself is the registry's
(lists.import_list): all or nothing, idempotent, audited as every import is.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from kinlink.environment import env_str
from kinlink.errors import Refused, refuse
from kinlink.private_files import open_private
from kinlink.registry.attachments import check_name
from kinlink.registry.files import READ_FORMATS, FileFormatError
from kinlink.registry.lists import import_list, preview
from kinlink.store.db import unit_of_work
from kinlink.tracing.continuous import Matching

TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
STATES = ("staged", "running", "done", "refused", "failed")
MAX_AGE = 7 * 24 * 3600  # a job's folder is removed a week after it was made


def job_root() -> Path:
    root = Path(
        env_str("KINLINK_LIST_DIR", str(Path(tempfile.gettempdir()) / f"kinlink-lists-{os.getuid()}"))
    )
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


@dataclass
class Job:
    token: str
    source: str
    actor: str
    file_name: str
    state: str = "staged"
    sheet: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    done: int = 0
    total: int | None = None
    result: dict[str, Any] = field(default_factory=dict)
    # The preview: check is None (not asked) | running | done | refused (the file cannot be read) | failed;
    # checked counts the rows checked so far; preview holds what lists.Preview found once done.
    check: str | None = None
    checked: int = 0
    preview: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.time)

    @property
    def folder(self) -> Path:
        return job_root() / self.token

    @property
    def path(self) -> Path:
        return self.folder / ("list" + Path(self.file_name).suffix.lower())

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        return min(99, 100 * self.done // self.total) if self.total else 0


def save(job: Job) -> None:
    """The state, replaced whole (a reader never sees half of it)."""
    tmp = job.folder / "job.json.tmp"
    with open_private(tmp, "w", encoding="utf-8") as f:
        json.dump(asdict(job), f, ensure_ascii=False)
    os.replace(tmp, job.folder / "job.json")


def stage(actor: str, source: str, file_name: str | None, data: bytes, limit: int) -> Job:
    """Keep an uploaded list for mapping and preview; refused if it is too large or not a list's format."""
    source = (source or "").strip()
    if not source:
        raise refuse("invalid", "source", "the source is required (the registry the list comes from)")
    if len(source) > 200:
        raise refuse("invalid", "source", "is longer than %(n)s characters", n=200)
    name = check_name(file_name)
    if len(data) > limit:
        raise refuse("too_large", "file", "the file is larger than %(n)s MB", n=limit // (1024 * 1024))
    if not data:
        raise refuse("invalid", "file", "the file is empty")
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in READ_FORMATS or suffix == "jsonl":
        raise refuse("invalid", "file", "send the list as XLSX, XLS, ODS or CSV")
    _sweep()
    job = Job(secrets.token_urlsafe(24), source, actor, name)
    job.folder.mkdir(mode=0o700)
    with open_private(job.path, "wb") as f:
        f.write(data)
    save(job)
    return job


def load(token: str, actor: str) -> Job:
    """A job of this registrar's (another's is not found: each registrar sees only their own uploads)."""
    if not TOKEN.match(token or ""):
        raise refuse("not_found", None, "no such import")
    try:
        data = json.loads((job_root() / token / "job.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise refuse("not_found", None, "no such import") from None
    job = Job(**data)
    if job.actor != actor:
        raise refuse("not_found", None, "no such import")
    return job


SHOWN_CELLS = 1000  # bad cells kept for the page (it shows as many, and says there are more)


def start_preview(engine: Engine, job: Job, mapping: dict[str, str], sheet: str | None) -> None:
    """Check every row with this mapping in a thread of its own; the job's `check` tells how far it is."""
    if job.check == "running":
        raise refuse("conflict", None, "this list is already being checked")
    job.mapping, job.sheet, job.check, job.checked, job.preview = mapping, sheet, "running", 0, {}
    save(job)
    threading.Thread(target=run_preview, args=(engine, job), daemon=True).start()


def run_preview(engine: Engine, job: Job) -> None:
    def progress(n: int) -> None:
        job.checked += n
        save(job)

    try:
        with unit_of_work(engine) as s:
            seen = preview(s, job.actor, job.path, job.source, job.mapping, job.sheet, progress=progress)
    except FileFormatError as e:
        job.check, job.preview = "refused", {"message": e.message, "values": e.values}
        save(job)
        return
    except Exception as e:  # the thread must leave a state the page can show; the cause goes to the log
        job.check, job.preview = "failed", {"error": type(e).__name__}
        save(job)
        raise
    job.check, job.checked, job.total = "done", seen.rows, seen.rows
    job.preview = {
        "sheet": seen.sheet, "rows": seen.rows, "good": seen.good, "bad_rows": seen.bad_rows,
        "bad_cells": [asdict(c) for c in seen.bad_cells[: SHOWN_CELLS + 1]],
    }  # fmt: skip
    save(job)


def start(
    engine: Engine,
    job: Job,
    total: int,
    matching: Matching | None,
    delivered: Callable[[list[int]], None] | None = None,
) -> None:
    """Import in a thread of its own; the job's state tells how far it is."""
    try:
        # Created once, atomically: of two clicks on "Import" (or two server processes), one starts it.
        os.close(os.open(job.folder / "started", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise refuse("conflict", None, "this list is already being imported") from None
    job.state, job.total, job.done = "running", total, 0
    save(job)
    threading.Thread(target=run, args=(engine, job, matching, delivered), daemon=True).start()


def run(
    engine: Engine,
    job: Job,
    matching: Matching | None,
    delivered: Callable[[list[int]], None] | None = None,
) -> None:
    def progress(n: int) -> None:
        job.done += n
        save(job)

    try:
        report = import_list(
            engine, job.path, job.source, job.actor, mapping=job.mapping, sheet=job.sheet, progress=progress,
            matching=matching,
        )  # fmt: skip
    except (FileFormatError, Refused) as e:
        job.state, job.result = "refused", {"error": str(e)}
        save(job)
        return
    except Exception as e:  # the thread must leave a state the page can show; the cause goes to the log
        job.state, job.result = "failed", {"error": type(e).__name__}
        save(job)
        raise
    job.state = "done" if report.written else "refused"
    job.result = {
        "rows": report.rows, "created": report.created, "updated": report.updated,
        "unchanged": report.unchanged, "erased": report.erased, "invalid": report.invalid,
        "matched": report.matched,
    }  # fmt: skip
    job.done = report.rows
    save(job)
    job.path.unlink(missing_ok=True)  # the list's personal data is in the registry now, not kept twice
    if delivered and report.notifications:
        delivered(report.notifications)


def _sweep() -> None:
    """Remove the folders of jobs older than MAX_AGE (abandoned uploads hold personal data)."""
    cutoff = time.time() - MAX_AGE
    for folder in job_root().iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder)
        except OSError:
            continue
