"""A first import's rows read and checked by a forked process of their own, while this one writes (issue 19).

A first import of a large file spent about a third of its CPU time reading the rows, checking them and
hashing them (`checked_batches`), and the rest writing them (names, the audit chain, the database's inserts),
all on one core: a thread cannot overlap the two, since both hold the GIL (a SQLite writer behind in a
thread was measured and dropped for that). A forked child runs `checked_batches` on the rows and sends each
batch, pickled, down a pipe in order; this process writes the batch before while the child checks the next.
The pipe holds little: the child waits for the writer, and memory stays flat. With a batch of records the
child also sends its names worked out ahead (`record_names.joined_ahead`): the names library's work on each
new part, which this process then finds done; and the records' per-row work that needs no database
(`record_writes.worked_ahead`: each history's status, the names' columns), which this process then only
writes.

The batches are the ones `checked_batches` gives here, in the same order (a test holds the two to each
other). Should the child stop before its last batch (an error raised while reading, a file that is not
UTF-8 or whose header is bad, or the child killed), this process checks the rows itself from where the
child's batches end, so that the error, if any, is raised here as it would be without the child.

Forking is safe only where no other thread can hold a lock the child needs: the child is used only by a
process with one thread (the command line's import, the bench), only before the import starts its own
writing thread (PostgreSQL's `bulk.Behind`), and it never touches the database: it ends with `os._exit`,
so that nothing inherited (a connection, a buffered stream) is closed or flushed from it.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import struct
import threading
from collections.abc import Generator, Iterable
from contextlib import suppress
from datetime import date
from itertools import islice
from typing import IO, Any

from kinlink.environment import usable_cores
from kinlink.registry.checked_rows import Checked, Records, checked_batches
from kinlink.registry.record_names import learn
from kinlink.registry.record_writes import WorkedAhead, worked_ahead

# Files smaller than this are checked in this process: forking (a few ms for a large process) pays only
# when the checking is long enough to overlap the writing (about 60 rows a KiB in the bench's files).
LARGE_FILE = 1 << 20
_FRAME = struct.Struct("<Q")  # each pickled batch's length before it
_ENDED = object()  # what `_received` gives for the child's last frame (of length 0): every batch sent


def checks_elsewhere(size: int) -> bool:
    """Whether a first import of a file of `size` bytes has its rows checked by a child process: a large
    file, where processes can fork, from a process with no other thread, with a second core to run on (on
    one, the two processes would only take turns)."""
    return (
        size >= LARGE_FILE and hasattr(os, "fork") and threading.active_count() == 1 and usable_cores() >= 2
    )


class RecordsAhead(Records):
    """A batch of records from the child, with their work done ahead (`ahead`): equal to the `Records` that
    `checked_batches` gives here."""

    ahead: WorkedAhead


def checked_in_child(
    rows: Iterable[tuple[int, Any]], today: date
) -> Generator[Records | list[Checked], None, None]:
    """`checked_batches(rows, today, None)` (no stored hashes: a first import), the batches made by a forked
    child. rows: not read by this process unless the child stops before its last batch; not yet started (a
    file's rows are a generator that opens the file when first read), so that the child and, should it stop
    early, this process each read the file from its start through a file of its own, never through an open
    file whose offset the two would share."""
    read_end, write_end = os.pipe()
    # This process's objects at the fork left alone by both processes' collections (Python's advice for a
    # fork without exec): a collection writes to each object it visits, and a page either process writes is
    # then copied, the child's share of memory growing with the parent's collections too (issue 19).
    pid = os.fork()
    if pid == 0:  # the child: it never returns
        os.close(read_end)
        _send_batches(rows, today, write_end)
    os.close(write_end)
    received = 0
    ended = False  # whether the child's end came: every batch received
    try:
        with open(read_end, "rb") as pipe:
            while (batch := _received(pipe)) is not None:
                if batch is _ENDED:
                    ended = True
                    break
                received += 1
                yield batch  # type: ignore[misc]
    finally:
        _reap(pid, wait=ended)
    if not ended:  # the child stopped early: the rest checked here, any error raised here
        yield from islice(checked_batches(rows, today, None), received, None)


def _send_batches(rows: Iterable[tuple[int, Any]], today: date, fd: int) -> None:
    """The child's work: each batch pickled to the pipe, then the end. On any error it just stops (the
    parent then checks the rest itself) and exits without running anything the parent set up to run."""
    status = 1
    try:
        gc.freeze()  # the parent's objects left alone by the child's collections: fewer pages copied
        with open(fd, "wb") as pipe:
            for batch in checked_batches(rows, today, None):
                # A batch of records with its names and statuses worked out ahead (record_writes).
                learned, ahead = worked_ahead(batch.columns) if isinstance(batch, Records) else (None, None)
                data = pickle.dumps((batch, learned, ahead), pickle.HIGHEST_PROTOCOL)
                pipe.write(_FRAME.pack(len(data)))
                pipe.write(data)
                pipe.flush()
            pipe.write(_FRAME.pack(0))
            pipe.flush()
        status = 0
    except BaseException:
        pass
    finally:
        os._exit(status)


def _received(pipe: IO[bytes]) -> Records | list[Checked] | object | None:
    """The next batch from the child, `_ENDED` at the end it sent, or None where its batches stopped."""
    head = pipe.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    (size,) = _FRAME.unpack(head)
    if size == 0:
        return _ENDED
    data = pipe.read(size)
    if len(data) < size:
        return None
    batch, learned, ahead = pickle.loads(data)  # (our own child's, through our own pipe)
    if learned is not None:
        learn(learned)
    if ahead is not None:
        batch = RecordsAhead(*batch)
        batch.ahead = ahead
    return batch  # type: ignore[no-any-return]


def _reap(pid: int, *, wait: bool) -> None:
    """The child waited for (it ends once it has sent its end); killed first if this process stopped
    reading before the end (an error while writing)."""
    if not wait:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
