"""Web benchmark: 200 concurrent clients doing searches and family status checks over loopback HTTP.

    .venv/bin/python bench/web/run.py [--records 5000] [--clients 200] [--seconds 20] [--warmup 5]
                                      [--db URL] [--workers N] [--think 1.0] [--profiles worst,realistic]

Sets up a database (a temporary SQLite file unless --db), fills it with generated records and tracing
requests, starts `kinlink serve` (real uvicorn worker processes, one per core unless --workers) on a free
loopback port, then runs the clients, half of each kind:

- a caseworker client searches records by name through the API (bearer token), the matcher ranking them;
- a family client signs in once with its reference and secret (POST, argon2-checked), then checks the
  status page with its session, as a family reloading the page does.

Two load profiles are run against the same server, one after the other:

- worst: every client sends its next request the moment the last one is answered (zero think time).
  This is the issue's stated case, but it is a throughput test, not a latency one: by Little's law
  200 clients that never pause see p95 < 100 ms only if the server answers well over 2,000 requests a
  second, which no Python service does on two shared cores. Its figures say how much the server does.
- realistic: each client pauses between requests, uniformly 0.5x-1.5x `--think` (default 1 s), and the
  clients start spread over one pause. People read a status page or a list of search results before
  they act again: a caseworker takes seconds per result list, a family reloading its page far longer.
  One second is a deliberately short pause (heavier than real use), so 200 clients offer ~200 requests/s,
  more than a National Information Bureau's staff and families would; the p95 < 100 ms target is
  judged on this profile.

Each profile is measured after a warm-up (--warmup seconds) in which the same clients run unmeasured: a
server keeps the records it prepared for scoring and the name counts between searches, as one that has
been up for a while has them. With the default 5,000 records the warm-up leaves nearly every record
prepared; a registry of a million is only partly in any process's cache.

Prints, for each profile, p50/p95/p99 latency, throughput and errors per kind, and the verdict on the
target for the realistic one. The family sign-in (one argon2 verification each, deliberately slow to make
guessing costly) is reported apart from the steady-state checks. The benchmark clients run on the same
cores as the server: their own CPU use is part of the load.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from sqlalchemy import func, make_url, select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.registry.data import generate  # noqa: E402
from bench.web.gc_log import describe_collections, worker_collections  # noqa: E402

from kinlink.accounts import tokens, users  # noqa: E402
from kinlink.registry import imports  # noqa: E402
from kinlink.server.run import free_port  # noqa: E402
from kinlink.server.worker_gc import LOG_ENV as GC_LOG_ENV  # noqa: E402
from kinlink.store import schema  # noqa: E402
from kinlink.store.db import make_engine, unit_of_work  # noqa: E402
from kinlink.store.models import Person, PersonName  # noqa: E402
from kinlink.tracing import requests as request_service  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def setup(db_url: str, n_records: int, n_families: int) -> tuple[list[str], list[tuple[str, str]], str]:
    """Records, tracing requests and a caseworker's API token: (names to search, families, token)."""
    engine = make_engine(db_url)
    schema.upgrade(engine)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "registry.csv"
        generate(path, n_records)
        t = time.perf_counter()
        imports.import_registry(engine, path, "bench-registry", "bench")
        print(f"imported {n_records} records in {time.perf_counter() - t:.1f} s")
    from kinlink.tracing.batch import match_all

    t = time.perf_counter()
    match_all(engine, "bench", dedup=False)  # writes the matcher's key index that searches read
    print(f"indexed for matching in {time.perf_counter() - t:.1f} s")
    with unit_of_work(engine) as s:
        names = list(s.scalars(select(PersonName.full_name).limit(2000)))
        families = []
        for i in range(n_families):
            req, secret = request_service.create_request(
                s,
                "bench",
                request_service.SoughtPerson(full_name=names[i % len(names)]),
                request_service.Enquirer(name=f"Enquirer {i}"),
            )
            families.append((req.reference, secret))
        user = users.find_user(s, "bench-caseworker") or users.create_user(
            s, "bench", "bench-caseworker", "bench-caseworker-pass", "caseworker"
        )
        _row, token = tokens.create_token(s, "bench", user.id, "bench")
    engine.dispose()
    return names, families, token


STATE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kinlink-bench-web"


def _state_file(db_url: str) -> Path:
    """Where a loaded database's bench data (names, families, token) is kept for --reuse."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        return Path(f"{url.database}.bench.json")
    key = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return STATE_DIR / f"{url.database}-{key}.json"


def load_or_setup(
    db_url: str, n_records: int, n_families: int, reuse: bool, copy_from: str | None = None
) -> tuple[list[str], list[tuple[str, str]], str]:
    """setup(), or with reuse the data of an earlier run on this database if it holds n_records records:
    a million records take an hour or more to import, the measuring a few minutes. copy_from: a SQLite
    database loaded by an earlier --reuse run, copied into this (empty PostgreSQL) one instead."""
    state = _state_file(db_url)
    if copy_from and not (reuse and state.exists()):
        from bench.web.copy_db import copy_database

        source, target = make_engine(copy_from), make_engine(db_url)
        t = time.perf_counter()
        rows = copy_database(source, target)
        print(f"copied {rows} rows from {copy_from} in {time.perf_counter() - t:.1f} s")
        source.dispose()
        target.dispose()
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(_state_file(copy_from).read_text())
        os.chmod(state, 0o600)
    if reuse and state.exists():
        kept = json.loads(state.read_text())
        engine = make_engine(db_url)
        try:
            with unit_of_work(engine) as s:
                have = s.scalar(select(func.count(Person.id))) or 0
        finally:
            engine.dispose()
        if kept["records"] == n_records == have and len(kept["families"]) >= n_families:
            print(f"reusing the {have} records loaded earlier ({state})")
            return kept["names"], [tuple(f) for f in kept["families"]], kept["token"]
        raise SystemExit(f"--reuse: the database holds {have} records, not {n_records}; give an empty one")
    names, families, token = setup(db_url, n_records, n_families)
    if reuse:
        state.parent.mkdir(parents=True, exist_ok=True)
        kept = {"records": n_records, "names": names, "families": families, "token": token}
        state.write_text(json.dumps(kept))
        os.chmod(state, 0o600)  # a caseworker's API token and families' secrets (generated, but still)
    return names, families, token


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}

        self.why: dict[str, int] = {}
        # The steady state's CPU seconds: of the benchmark's clients, of the server's processes; and the
        # machine's load average (1 min) before and after.
        self.client_cpu = 0.0
        self.server_cpu = 0.0
        self.db_cpu = 0.0  # PostgreSQL's backends (SQLite's work is in the server's processes)
        self.load = (0.0, 0.0)
        # The measured window by the wall clock (the server's collection log is), and the full collections
        # each server worker made in it (None: the server's tree does not log them).
        self.window = (0.0, 0.0)
        self.collections: dict[int, list[dict[str, Any]]] | None = None
        # Each measured request (kind, wall-clock start, ms, ok, the name searched): what `--requests-log`
        # keeps, for bench/web/tail.py to tell which requests the tail is made of.
        self.requests: list[tuple[str, float, float, bool, str]] = []

    def add(
        self, kind: str, seconds: float, ok: bool, why: str = "", started: float = 0.0, q: str = ""
    ) -> None:
        self.latency.setdefault(kind, []).append(seconds * 1000)
        self.requests.append((kind, started, seconds * 1000, ok, q))
        if not ok:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            self.why[f"{kind}: {why}"] = self.why.get(f"{kind}: {why}", 0) + 1


def _session(base: str, **kw: Any) -> aiohttp.ClientSession:
    # aiohttp rather than httpx: the clients share the server's cores, and aiohttp costs them a fraction
    # of the CPU per request. One kept-alive connection per client, as a browser tab uses; cookies for a
    # bare IP address (`unsafe`) since the server is 127.0.0.1.
    return aiohttp.ClientSession(
        base_url=base,
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        connector=aiohttp.TCPConnector(limit=1),
        timeout=aiohttp.ClientTimeout(total=60),
        **kw,
    )


FAILED = (aiohttp.ClientError, asyncio.TimeoutError, ValueError)


async def family_client(
    base: str,
    creds: tuple[str, str],
    stats: Stats,
    go: asyncio.Event,
    signed_in: asyncio.Queue,
    timing: dict[str, float],
    think: float,
    seed: int,
) -> None:
    rnd = random.Random(seed)
    async with _session(base) as c:
        try:
            async with c.get("/track") as page:
                token = CSRF.search(await page.text()).group(1)  # type: ignore[union-attr]
            t = time.perf_counter()
            data = {"csrf_token": token, "reference": creds[0], "secret": creds[1]}
            async with c.post("/track", data=data, allow_redirects=False) as r:
                await r.read()
                stats.add("family sign-in", time.perf_counter() - t, r.status == 303, f"HTTP {r.status}")
        except FAILED as e:
            stats.add("family sign-in", 0, False, type(e).__name__)
        await signed_in.put(1)
        await go.wait()  # the steady state starts when every family has signed in
        if think:  # spread the first requests, as users' clocks are
            await asyncio.sleep(rnd.uniform(0, think))
        while time.perf_counter() < timing["stop"]:
            t, wall = time.perf_counter(), time.time()
            try:
                async with c.get("/family", allow_redirects=False) as r:
                    body = await r.text()
                    ok, why = r.status == 200 and "TR-" in body, f"HTTP {r.status}"
            except FAILED as e:
                ok, why = False, type(e).__name__
            if t >= timing["from"]:
                stats.add("status check", time.perf_counter() - t, ok, why, wall)
            if think:
                await asyncio.sleep(rnd.uniform(0.5 * think, 1.5 * think))


async def search_client(
    base: str,
    token: str,
    names: list[str],
    stats: Stats,
    go: asyncio.Event,
    timing: dict[str, float],
    think: float,
    seed: int,
) -> None:
    rnd = random.Random(seed)
    async with _session(base, headers={"authorization": f"Bearer {token}"}) as c:
        await go.wait()
        if think:
            await asyncio.sleep(rnd.uniform(0, think))
        while time.perf_counter() < timing["stop"]:
            q = rnd.choice(names)
            t, wall = time.perf_counter(), time.time()
            try:
                async with c.get("/api/v1/records", params={"q": q, "limit": "10"}) as r:
                    found = await r.json()
                    ok, why = r.status == 200 and bool(found), f"HTTP {r.status}"
            except FAILED as e:
                ok, why = False, type(e).__name__
            if t >= timing["from"]:
                stats.add("search", time.perf_counter() - t, ok, why, wall, q)
            if think:
                await asyncio.sleep(rnd.uniform(0.5 * think, 1.5 * think))


async def run_clients(
    base: str,
    names: list[str],
    families: list[tuple[str, str]],
    token: str,
    clients: int,
    seconds: float,
    think: float,
    server_cpu: Callable[[], float] | None = None,
    warmup: float = 0.0,
    db_cpu: Callable[[], float] | None = None,
) -> tuple[Stats, float]:
    """Sign the families in, then run every client for `warmup` seconds (not measured) and `seconds`
    more (the steady state, measured)."""
    stats = Stats()
    n_family = clients // 2
    go, signed_in = asyncio.Event(), asyncio.Queue()
    timing = {"from": 0.0, "stop": 0.0}
    tasks = [
        asyncio.create_task(
            family_client(base, families[i % len(families)], stats, go, signed_in, timing, think, i)
        )
        for i in range(n_family)
    ]
    tasks += [
        asyncio.create_task(search_client(base, token, names, stats, go, timing, think, i))
        for i in range(clients - n_family)
    ]
    for _ in range(n_family):
        await signed_in.get()
    timing["from"] = time.perf_counter() + warmup
    timing["stop"] = timing["from"] + seconds
    go.set()
    await asyncio.sleep(warmup)  # the clients run, unmeasured, as the server's caches fill
    cpu, probed, load = time.process_time(), server_cpu() if server_cpu else 0.0, os.getloadavg()[0]
    db_probed = db_cpu() if db_cpu else 0.0
    started, wall = time.perf_counter(), time.time()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    stats.window = (wall, time.time())
    stats.client_cpu = time.process_time() - cpu
    stats.server_cpu = (server_cpu() - probed) if server_cpu else 0.0
    stats.db_cpu = (db_cpu() - db_probed) if db_cpu else 0.0
    stats.load = (load, os.getloadavg()[0])
    return stats, elapsed


def _ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def process_cpu(pid: int) -> float:
    """CPU seconds used by a process and its children (Linux /proc; 0 elsewhere)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total = sum(_ticks(p) for p in [pid, *map(int, children)])
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return 0.0


class BackendCpu:
    """PostgreSQL on this machine: the CPU seconds the database's client backends have used, summed over
    the readings (a backend first seen later counts whole: it started in between; one that has gone
    loses what it used since the last reading). The server's own processes count only their Python: a
    PostgreSQL-backed request's cost is both."""

    def __init__(self, db_url: str) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        self.engine = create_engine(db_url, poolclass=NullPool)
        self.query = text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        self.seen: dict[int, int] = {}
        self.total = 0

    def __call__(self) -> float:
        with self.engine.connect() as conn:
            pids = list(conn.execute(self.query).scalars())
        for pid in pids:
            try:
                now = _ticks(pid)
            except (OSError, ValueError):
                continue
            self.total += now - self.seen.get(pid, 0)
            self.seen[pid] = now
        return self.total / os.sysconf("SC_CLK_TCK")


@contextmanager
def running_server(
    db_url: str, workers: int | None, log_path: Path, root: Path = ROOT, gc_log: Path | None = None
) -> Iterator[tuple[str, int]]:
    """`kinlink serve` from the source tree `root` (this one, or --baseline's) on a free loopback port,
    family limits lifted (every client is 127.0.0.1); the server's errors are printed when it stops.
    gc_log: where its workers log their full collections, if its tree does. Yields the base URL and the
    server's process id."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)]),
        "KINLINK_FAMILY_FAILURES_GLOBAL": "1000000",
        "KINLINK_FAMILY_FAILURES_PER_IP": "1000000",
        "KINLINK_SECRET_KEY": "bench",
    }
    if gc_log is not None:
        env[GC_LOG_ENV] = str(gc_log)
    cmd = [sys.executable, "-m", "kinlink", "--db", db_url, "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port)]
    if workers:
        cmd += ["--workers", str(workers)]
    log = open(log_path, "w")  # noqa: SIM115 (open for the server's lifetime)
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start:\n" + log_path.read_text())
            time.sleep(0.2)
        # Every worker imports and loads the model at start: let the others finish before measuring.
        time.sleep(2)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        text = log_path.read_text()
        problems = [line for line in text.splitlines() if "Traceback" in line or "Error" in line]
        if problems:
            print("server errors:", *problems[:10], sep="\n  ")
        workers_seen = len(re.findall(r"Started server process", text))
        print(f"server: {workers_seen or 1} worker process{'es' if workers_seen > 1 else ''}")


def summary(stats: Stats, elapsed: float) -> dict[str, float]:
    """The steady state's figures (searches and status checks together)."""
    steady = [x for kind, lat in stats.latency.items() if kind != "family sign-in" for x in lat]
    return {
        "requests": len(steady),
        "req/s": len(steady) / elapsed,
        "p50 ms": statistics.median(steady) if steady else float("nan"),
        "p95 ms": pct(steady, 95),
        "p99 ms": pct(steady, 99),
        "errors": sum(v for k, v in stats.errors.items() if k != "family sign-in"),
        "CPU ms/request": 1000 * stats.server_cpu / len(steady) if steady else float("nan"),
        "DB CPU ms/req": 1000 * stats.db_cpu / len(steady) if steady else float("nan"),
    }


def report(
    name: str,
    stats: Stats,
    elapsed: float,
    target: str,
    before: dict[str, float] | None,
    before_stats: Stats | None = None,
) -> None:
    print(f"\n{name}")
    print(f"{'kind':<16}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for kind, lat in stats.latency.items():
        rate = "" if kind == "family sign-in" else f"{len(lat) / elapsed:.0f}"
        print(
            f"{kind:<16}{len(lat):>9}{stats.errors.get(kind, 0):>8}{rate:>8}"
            f"{statistics.median(lat) if lat else 0:>9.1f}"
            f"{pct(lat, 95):>9.1f}{pct(lat, 99):>9.1f}"
        )
    for why, n in stats.why.items():
        print(f"  error {why}: {n}")
    now = summary(stats, elapsed)
    print("searches + status checks:" + ("  (baseline -> this tree)" if before else ""))
    for key, value in now.items():
        fmt = ".0f" if key in ("requests", "req/s", "errors") else ".1f"
        was = f"{before[key]:>10{fmt}} -> " if before else ""
        print(f"  {key:<16}{was}{value:>10{fmt}}")
    print(
        f"CPU used in the {elapsed:.1f} s: server {stats.server_cpu:.1f} s, PostgreSQL's backends "
        f"{stats.db_cpu:.1f} s, the benchmark's clients "
        f"{stats.client_cpu:.1f} s; load average {stats.load[0]:.1f} -> {stats.load[1]:.1f} "
        f"on {os.cpu_count()} cores (other work on the machine included)"
    )
    if before_stats is not None:
        print("baseline's " + describe_collections(before_stats.collections))
    print(describe_collections(stats.collections))
    if target == "latency":
        ok = now["p95 ms"] < P95_TARGET and now["errors"] == 0
        print(f"target (p95 < {P95_TARGET} ms, no errors): {'MET' if ok else 'NOT MET'}")
    elif target == "throughput":
        ok = now["req/s"] >= RATE_TARGET and now["errors"] == 0
        print(f"target (>= {RATE_TARGET} requests/s, no errors): {'MET' if ok else 'NOT MET'}")


# Issue 19: at a million records, realistic p95 < 50 ms; zero think time >= 1,000 requests/s on two workers.
P95_TARGET = 50
RATE_TARGET = 1000
PROFILES = {"worst": "zero think time (the stated worst case)", "realistic": "think time"}


def same_schema(baseline: Path, own_db: bool = False) -> bool:
    """Whether the baseline tree's migrations are this tree's (then its server can read the same data), or,
    with a database of its own (--baseline-db, left at its schema), a beginning of this tree's."""
    versions = "src/kinlink/store/migrations/versions"
    mine = {f.name for f in (ROOT / versions).glob("[0-9]*.py")}
    theirs = {f.name for f in (baseline / versions).glob("[0-9]*.py")}
    return mine == theirs or (own_db and theirs < mine)


def measure(
    args: argparse.Namespace,
    profiles: list[str],
    db_url: str,
    data: tuple[list[str], list[tuple[str, str]], str],
    root: Path,
    log_path: Path,
) -> list[tuple[str, float, Stats, float]]:
    results = []
    postgres = make_url(db_url).get_backend_name() == "postgresql"
    gc_log = log_path.with_suffix(".gc.jsonl")
    if args.gc_log:  # kept, for a soak's memory and freeze counts over time
        gc_log = Path(args.gc_log + (".baseline" if root != ROOT else ""))
        gc_log.unlink(missing_ok=True)
    with running_server(db_url, args.workers, log_path, root, gc_log) as (base, pid):
        for profile in profiles:
            think = 0.0 if profile == "worst" else args.think
            print(
                f"{profile} ({root}): {args.clients} clients ({args.clients // 2} families, "
                f"{args.clients - args.clients // 2} searching) for {args.seconds:.0f} s, "
                f"think time {think} s, {args.records} records, {make_url(db_url).get_backend_name()}, "
                f"measured after {args.warmup:.0f} s of warm-up"
            )
            stats, elapsed = asyncio.run(
                run_clients(
                    base,
                    *data,
                    args.clients,
                    args.seconds,
                    think,
                    server_cpu=lambda: process_cpu(pid),
                    warmup=args.warmup,
                    db_cpu=BackendCpu(db_url) if postgres else None,
                )
            )
            results.append((profile, think, stats, elapsed))
    for (
        profile,
        _think,
        stats,
        _elapsed,
    ) in results:  # once stopped: a collection under way is logged at its end
        stats.collections = worker_collections(gc_log, stats.window)
        if args.requests_log:  # the baseline's at PATH.baseline, as the collections' log
            keep = Path(f"{args.requests_log}.{profile}" + (".baseline" if root != ROOT else ""))
            keep.write_text(
                "".join(json.dumps(dict(zip(_REQUEST, r, strict=True))) + "\n" for r in stats.requests)
            )
            if gc_log.exists():
                shutil.copyfile(gc_log, f"{keep}.gc")
    return results


_REQUEST = ("kind", "t", "ms", "ok", "q")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument(
        "--families", type=int, default=20, help="distinct tracing requests the family clients use"
    )
    ap.add_argument("--seconds", type=float, default=20, help="length of each profile's measured run")
    ap.add_argument(
        "--warmup",
        type=float,
        default=5,
        help="seconds each profile runs before it is measured (the server's caches filling)",
    )
    ap.add_argument("--db", help="database URL (default: a temporary SQLite file); an empty database")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="with --db: load it only if it is empty, and keep what the load needs to run again on it",
    )
    ap.add_argument(
        "--copy-from",
        help="with --reuse and a PostgreSQL --db: copy this SQLite database loaded by a --reuse run into it",
    )
    ap.add_argument("--load-only", action="store_true", help="with --reuse: load the database and stop")
    ap.add_argument("--workers", type=int, help="server worker processes (default: kinlink serve's)")
    ap.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="realistic profile: mean pause of each client between requests, in seconds",
    )
    ap.add_argument("--profiles", default="worst,realistic", help="which to run, in order: worst, realistic")
    ap.add_argument(
        "--baseline",
        type=Path,
        help="another kinlink source tree (e.g. /work/base) whose server is measured first on the same data",
    )
    ap.add_argument(
        "--baseline-db",
        help="the database the baseline's server reads (default --db): e.g. a copy left as the baseline's "
        "own load leaves it, when this tree's load leaves it otherwise (same records, other statistics), or "
        "a copy at the baseline's schema when this tree adds migrations (such as indexes)",
    )
    ap.add_argument(
        "--gc-log",
        help="keep the server workers' log of their full collections (one JSON line each: when, how long, "
        "freed, resident memory; the objects frozen at start and after a sweep) at this path (the "
        "baseline's at PATH.baseline)",
    )
    ap.add_argument(
        "--requests-log",
        help="keep each measured request (kind, wall-clock start, ms, ok, the name searched; one JSON line "
        "each) at PATH.PROFILE, and the workers' collections at PATH.PROFILE.gc (the baseline's at "
        "PATH.PROFILE.baseline): read by bench/web/tail.py",
    )
    args = ap.parse_args()
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    if not profiles or set(profiles) - set(PROFILES):
        ap.error(f"--profiles: a comma-separated list of {', '.join(PROFILES)}")
    if args.reuse and not args.db:
        ap.error("--reuse needs --db")

    tmp = tempfile.TemporaryDirectory(prefix="kinlink-bench-web-")
    db_url = args.db or f"sqlite:///{tmp.name}/bench.db"
    data = load_or_setup(db_url, args.records, args.families, args.reuse, args.copy_from)
    if args.load_only:
        return
    before: dict[str, dict[str, float]] = {}
    before_stats: dict[str, Stats] = {}
    try:
        if args.baseline:
            if same_schema(args.baseline, own_db=bool(args.baseline_db)):
                base_url = args.baseline_db or db_url
                base_dir = args.baseline.resolve()
                for profile, _think, stats, elapsed in measure(
                    args, profiles, base_url, data, base_dir, Path(tmp.name) / "baseline.log"
                ):
                    before[profile] = summary(stats, elapsed)
                    before_stats[profile] = stats
            else:
                print(f"baseline {args.baseline}: its migrations differ from this tree's; not measured")
        results = measure(args, profiles, db_url, data, ROOT, Path(tmp.name) / "server.log")
    finally:
        tmp.cleanup()
    for profile, think, stats, elapsed in results:
        report(
            f"== {profile}: {PROFILES[profile]}{f' {think} s' if think else ''}",
            stats,
            elapsed,
            target="latency" if profile == "realistic" else "throughput",
            before=before.get(profile),
            before_stats=before_stats.get(profile),
        )


if __name__ == "__main__":
    main()
