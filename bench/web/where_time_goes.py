"""Where a web request's time goes: searches and family status checks run one at a time in-process
against a database loaded by `run.py --reuse`, with every SQL statement timed and a Python profile.

    .venv/bin/python bench/web/where_time_goes.py --db URL [--requests 200]
                                                  [--kind search|status|both] [--top 25]

Prints, per kind, the CPU and wall time a request, the statements a request and the statements that took the
most time (with their count and mean), then the functions of the Python profile by cumulative time.

On PostgreSQL also, per kind: the CPU the server's backends used a request (from /proc, the backends being on
this machine), and the round trips a request (from libpq's trace of the protocol, in a pass of its own so
that tracing does not weigh on the CPU figures): each exchange that ends in ReadyForQuery, named by what
began it (BEGIN, COMMIT, ROLLBACK, the pool's ping, a statement parsed afresh or one prepared before).

The application's collector is tuned as `kinlink serve` tunes a worker's (`tune_gc`), so that the figures
count the garbage collection the server does. With --direct, the requests are given to the ASGI application
directly (its sync routes in the threadpool, as under uvicorn) instead of through the test client, whose
HTTP emulation costs about as much CPU as a status check: the CPU is then the server's alone, without
uvicorn's HTTP parsing.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import importlib
import io
import os
import pstats
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import event
from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
# --tree DIR: profile another source tree's kinlink (e.g. the baseline's) with this script.
TREE = Path(sys.argv[sys.argv.index("--tree") + 1]) if "--tree" in sys.argv else ROOT
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(TREE / "src"))
importlib.import_module("kinlink")  # first, from TREE: bench.web.run puts this tree's first on the path

from bench.web.run import CSRF, _state_file  # noqa: E402

from kinlink.http.settings import Settings  # noqa: E402
from kinlink.server.app import create_app  # noqa: E402
from kinlink.store.db import make_engine  # noqa: E402

try:
    from kinlink.server.run import tune_gc
except ImportError:  # an older tree
    tune_gc = None  # type: ignore[assignment]


class StatementClock:
    """Time of each SQL statement (by its text), from the cursor's start to its end."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.total: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)
        self.seen: dict[str, tuple[str, object]] = {}  # the first run of each statement, to EXPLAIN
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, params, context, many) -> None:  # type: ignore[no-untyped-def]
        conn.info["t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, params, context, many) -> None:  # type: ignore[no-untyped-def]
        key = re.sub(r"\s+", " ", statement)[:160]
        self.total[key] += time.perf_counter() - conn.info.pop("t0", time.perf_counter())
        self.count[key] += 1
        if not many:
            self.seen.setdefault(key, (statement, params))

    def reset(self) -> None:
        self.total.clear()
        self.count.clear()
        self.seen.clear()

    def explain(self, engine) -> None:  # type: ignore[no-untyped-def]
        """EXPLAIN (ANALYZE, BUFFERS) of the SELECTs seen, as run (the plans the slowest statements got)."""
        for key in sorted(self.total, key=self.total.get, reverse=True):  # type: ignore[arg-type]
            statement, params = self.seen.get(key, ("", None))
            if not statement.lstrip().upper().startswith("SELECT") or "FOR UPDATE" in statement:
                continue
            raw = engine.raw_connection()
            try:
                cur = raw.cursor()
                pg = engine.dialect.name == "postgresql"
                how = "EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN "
                cur.execute(how + statement, params)
                print(f"\n-- {key}")
                print("\n".join(str(r[0] if pg else r[-1]) for r in cur.fetchall()))
                raw.rollback()
            finally:
                raw.close()

    def show(self, requests: int, top: int) -> None:
        n = sum(self.count.values())
        t = sum(self.total.values())
        print(f"  statements: {n / requests:.1f} a request, {1000 * t / requests:.2f} ms a request in SQL")
        for key in sorted(self.total, key=self.total.get, reverse=True)[:top]:  # type: ignore[arg-type]
            c = self.count[key]
            print(f"  {1000 * self.total[key] / requests:7.2f} ms/req {c / requests:5.1f}x  {key}")


class WireTrace:
    """PostgreSQL: the backends of the engine's connections (for their CPU) and, while `on`, libpq's trace of
    what each connection sends and receives (for its round trips)."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.pids: set[int] = set()
        self.conns: list[object] = []
        self.file = tempfile.TemporaryFile("w+")  # noqa: SIM115 (kept open while the trace writes to it)
        self.on = False
        event.listen(engine, "connect", self._connect)

    def _connect(self, dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        self.pids.add(dbapi_conn.info.backend_pid)
        self.conns.append(dbapi_conn)
        if self.on:
            self._trace(dbapi_conn)

    def _trace(self, dbapi_conn) -> None:  # type: ignore[no-untyped-def]
        from psycopg import pq

        dbapi_conn.pgconn.trace(self.file.fileno())
        dbapi_conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def start(self) -> None:
        self.file.seek(0)
        self.file.truncate()
        self.on = True
        for c in self.conns:
            if not c.closed:  # type: ignore[attr-defined]
                self._trace(c)

    def stop(self) -> collections.Counter[str]:
        """The round trips since start(), by what began each."""
        self.on = False
        for c in self.conns:
            if not c.closed:  # type: ignore[attr-defined]
                c.pgconn.untrace()  # type: ignore[attr-defined]
        self.file.flush()
        self.file.seek(0)
        trips: collections.Counter[str] = collections.Counter()
        first = ""
        for line in self.file:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            if parts[0] == "F" and not first:
                what, raw = parts[2], parts[3].strip() if len(parts) > 3 else ""
                if what == "Query":
                    text = raw.strip('"')
                    word = text.split()[0].upper() if text else ""
                    first = word if word in ("BEGIN", "COMMIT", "ROLLBACK") else f"simple query: {text[:40]}"
                elif what == "Parse":  # Parse "" ...: an unnamed statement, parsed and planned for this run
                    first = "statement, parsed" if raw.startswith('""') else "statement, prepared now"
                elif what == "Bind":
                    first = "statement, prepared before"
                else:
                    first = what
            elif parts[0] == "B" and parts[2] == "ReadyForQuery":
                trips[first or "?"] += 1
                first = ""
        return trips

    def backend_cpu(self) -> float:
        """CPU seconds the engine's backends have used (Linux /proc: the server runs on this machine)."""
        total = 0
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a backend that has gone (its CPU since the last reading is lost)
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")


async def direct(app, path: str, query: str, headers: list[tuple[bytes, bytes]]) -> int:  # type: ignore[no-untyped-def]
    """One GET given to the ASGI application as uvicorn gives it; the response's status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict] = []  # type: ignore[type-arg]

    async def receive() -> dict:  # type: ignore[type-arg]
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:  # type: ignore[type-arg]
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--kind", default="both", choices=["search", "status", "both"])
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--python", action="store_true", help="also print the Python profile")
    ap.add_argument("--tree", type=Path, default=ROOT, help="the kinlink source tree to profile")
    ap.add_argument("--explain", action="store_true", help="also EXPLAIN (ANALYZE, BUFFERS) each SELECT once")
    ap.add_argument(
        "--direct", action="store_true", help="the ASGI app called directly: the server's CPU alone"
    )
    ap.add_argument(
        "--name-costs",
        type=Path,
        help="also write each bench name's search CPU-ms one at a time to this JSON file, for tail.py "
        "--costs: its first search in this process (after the phases above), which prepares the records it "
        "scores that no name before it did, as a bench's server does for names it has not seen",
    )
    args = ap.parse_args()
    import json
    from urllib.parse import urlencode

    print(f"kinlink from {Path(sys.modules['kinlink'].__file__ or '').parents[1]}")
    kept = json.loads(_state_file(args.db).read_text())
    engine = make_engine(args.db)
    app = create_app(engine, Settings(secret_key="bench"))
    if tune_gc is not None:
        tune_gc()
    clock = StatementClock(engine)
    wire = WireTrace(engine) if engine.dialect.name == "postgresql" else None
    rnd = random.Random(1)
    kinds = ["search", "status"] if args.kind == "both" else [args.kind]
    with TestClient(app, base_url="http://127.0.0.1") as c:
        ref, secret = kept["families"][0]
        token = CSRF.search(c.get("/track").text).group(1)  # type: ignore[union-attr]
        form = {"csrf_token": token, "reference": ref, "secret": secret}
        r = c.post("/track", data=form, follow_redirects=False)
        assert r.status_code == 303, r.status_code
        auth = {"authorization": f"Bearer {kept['token']}"}

        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
        loop = asyncio.new_event_loop()

        async def one_direct(kind: str) -> None:
            if kind == "search":
                query = urlencode({"q": rnd.choice(kept["names"]), "limit": "10"})
                headers = [(b"authorization", auth["authorization"].encode())]
                status = await direct(app, "/api/v1/records", query, headers)
            else:
                status = await direct(app, "/family", "", [(b"cookie", cookie.encode())])
            assert status == 200, (kind, status)

        async def name_costs() -> dict[str, float]:
            headers = [(b"authorization", auth["authorization"].encode())]
            costs = {}
            for name in sorted(set(kept["names"])):
                query = urlencode({"q": name, "limit": "10"})
                cpu = time.process_time()  # the process's: the route runs in a thread of the pool
                await direct(app, "/api/v1/records", query, headers)
                costs[name] = round(1000 * (time.process_time() - cpu), 3)
            return costs

        async def all_direct(kind: str, count: int) -> None:
            for _ in range(count):
                await one_direct(kind)

        def many(kind: str, count: int) -> None:
            if args.direct:
                # All in one task, as uvicorn's requests run under its one server task: anyio keeps its
                # worker threads for the life of the root task, so a task a request made anyio start a new
                # thread for each request's hop (~1 CPU-ms at load 9, which no server spends).
                loop.run_until_complete(all_direct(kind, count))
                return
            for _ in range(count):
                if kind == "search":
                    q = rnd.choice(kept["names"])
                    r = c.get("/api/v1/records", params={"q": q, "limit": "10"}, headers=auth)
                else:
                    r = c.get("/family", follow_redirects=False)
                assert r.status_code == 200, (kind, r.status_code)

        for kind in kinds:
            many(kind, 20)  # warm the caches as the bench's warm-up does
            clock.reset()
            prof = cProfile.Profile()
            backend = wire.backend_cpu() if wire else 0.0
            t, cpu = time.perf_counter(), time.process_time()
            if args.python:  # the profiler doubles a request's CPU: only when its profile is asked for
                prof.enable()
            many(kind, args.requests)
            prof.disable()
            wall, cpu = time.perf_counter() - t, time.process_time() - cpu
            who = "the server's, called directly" if args.direct else "client and server"
            print(
                f"\n{kind}: {1000 * cpu / args.requests:.2f} ms of CPU a request ({who}), "
                f"{1000 * wall / args.requests:.2f} ms wall, one at a time"
            )
            if wire:
                used = wire.backend_cpu() - backend
                print(f"  PostgreSQL backends: {1000 * used / args.requests:.2f} ms of CPU a request")
                traced = 50
                wire.start()
                many(kind, traced)
                trips = wire.stop()
                print(f"  round trips: {sum(trips.values()) / traced:.1f} a request")
                for what, n in trips.most_common():
                    print(f"  {n / traced:7.2f}  {what}")
            clock.show(args.requests, args.top)
            if args.explain:
                clock.explain(engine)
            if args.python:
                out = io.StringIO()
                pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
                print(out.getvalue())
        if args.name_costs:
            costs = loop.run_until_complete(name_costs())
            args.name_costs.write_text(json.dumps(costs, ensure_ascii=False, indent=0))
            print(f"\n{len(costs)} names' search costs written to {args.name_costs}")
        loop.close()
    engine.dispose()


if __name__ == "__main__":
    main()
