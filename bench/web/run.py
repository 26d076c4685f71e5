"""Web benchmark: 200 concurrent clients doing searches and family status checks over loopback HTTP.

    .venv/bin/python bench/web/run.py [--records 5000] [--clients 200] [--seconds 20] [--db URL]

Sets up a database (a temporary SQLite file unless --db), fills it with generated records and tracing
requests, starts `kinlink serve` (a real uvicorn process) on a free loopback port, then runs the clients:

- a caseworker client searches records by name through the API (bearer token), the matcher ranking them;
- a family client signs in once with its reference and secret (POST, argon2-checked), then checks the
  status page with its session, as a family reloading the page does.

Prints p50/p95/p99 latency and error counts per kind. The family sign-in (one argon2 verification each,
deliberately slow to make guessing costly) is reported apart from the steady-state checks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.registry.data import generate  # noqa: E402

from kinlink.registry import service  # noqa: E402
from kinlink.store import schema  # noqa: E402
from kinlink.store.db import make_engine, unit_of_work  # noqa: E402
from kinlink.store.models import PersonName  # noqa: E402
from kinlink.tracing import requests as request_service  # noqa: E402
from kinlink.web import accounts  # noqa: E402
from kinlink.web.server import free_port  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def setup(db_url: str, n_records: int, n_families: int) -> tuple[list[str], list[tuple[str, str]], str]:
    engine = make_engine(db_url)
    schema.upgrade(engine)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "registry.csv"
        generate(path, n_records)
        t = time.perf_counter()
        service.import_registry(engine, path, "bench-registry", "bench")
        print(f"imported {n_records} records in {time.perf_counter() - t:.1f} s")
    from kinlink.tracing.matching import match_all

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
        user = accounts.find_user(s, "bench-caseworker") or accounts.create_user(
            s, "bench", "bench-caseworker", "bench-caseworker-pass", "caseworker"
        )
        _row, token = accounts.create_token(s, "bench", user.id, "bench")
    engine.dispose()
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

    def add(self, kind: str, seconds: float, ok: bool, why: str = "") -> None:
        self.latency.setdefault(kind, []).append(seconds * 1000)
        if not ok:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            self.why[f"{kind}: {why}"] = self.why.get(f"{kind}: {why}", 0) + 1


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
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        try:
            page = await c.get("/track")
            token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
            t = time.perf_counter()
            r = await c.post("/track", data={"csrf_token": token, "reference": creds[0], "secret": creds[1]})
            stats.add("family sign-in", time.perf_counter() - t, r.status_code == 303)
        except httpx.HTTPError:
            stats.add("family sign-in", 0, False)
        await signed_in.put(1)
        await go.wait()  # the steady state starts when every family has signed in
        if think:  # spread the first requests, as users' clocks are
            await asyncio.sleep(rnd.uniform(0, think))
        while time.perf_counter() < timing["stop"]:
            t = time.perf_counter()
            try:
                r = await c.get("/family")
                ok, why = r.status_code == 200 and "TR-" in r.text, f"HTTP {r.status_code}"
            except httpx.HTTPError as e:
                ok, why = False, type(e).__name__
            stats.add("status check", time.perf_counter() - t, ok, why)
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
    async with httpx.AsyncClient(
        base_url=base, timeout=60, headers={"authorization": f"Bearer {token}"}
    ) as c:
        await go.wait()
        if think:
            await asyncio.sleep(rnd.uniform(0, think))
        while time.perf_counter() < timing["stop"]:
            q = rnd.choice(names)
            t = time.perf_counter()
            try:
                r = await c.get("/api/v1/records", params={"q": q, "limit": 10})
                ok, why = r.status_code == 200 and bool(r.json()), f"HTTP {r.status_code}"
            except (httpx.HTTPError, ValueError) as e:
                ok, why = False, type(e).__name__
            stats.add("search", time.perf_counter() - t, ok, why)
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
) -> tuple[Stats, float]:
    stats = Stats()
    n_family = clients // 2
    go, signed_in = asyncio.Event(), asyncio.Queue()
    timing = {"stop": 0.0}
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
    started = time.perf_counter()
    timing["stop"] = started + seconds
    go.set()
    await asyncio.gather(*tasks)
    return stats, time.perf_counter() - started


@contextmanager
def running_server(db_url: str, workers: int | None, log_path: Path) -> Iterator[str]:
    """`kinlink serve` on a free loopback port, family limits lifted (every client is 127.0.0.1); the
    server's errors are printed when it stops. Yields the base URL."""
    port = free_port()
    env = {
        **os.environ,
        "KINLINK_FAMILY_CHECKS_PER_IP": "1000000",
        "KINLINK_FAMILY_FAILURES_PER_IP": "1000000",
        "KINLINK_SECRET_KEY": "bench",
    }
    cmd = [
        str(ROOT / ".venv/bin/kinlink"),
        "--db",
        db_url,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if workers:
        cmd += ["--workers", str(workers)]
    log = open(log_path, "w")  # noqa: SIM115 (open for the server's lifetime)
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
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
        yield base
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument(
        "--families", type=int, default=20, help="distinct tracing requests the family clients use"
    )
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    ap.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean pause of each client between requests, in seconds (0: back to back, the worst case)",
    )
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="kinlink-bench-web-")
    db_url = args.db or f"sqlite:///{tmp.name}/bench.db"
    names, families, token = setup(db_url, args.records, args.families)

    port = free_port()
    log = open(Path(tmp.name) / "server.log", "w")  # noqa: SIM115 (open for the server's lifetime)
    env = {
        **os.environ,
        # The clients all come from 127.0.0.1: lift the per-address family limits for the benchmark only.
        "KINLINK_FAMILY_CHECKS_PER_IP": "1000000",
        "KINLINK_FAMILY_FAILURES_PER_IP": "1000000",
        "KINLINK_SECRET_KEY": "bench",
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/kinlink"),
            "--db",
            db_url,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        print(
            f"server up at {base}; {args.clients} clients ({args.clients // 2} families, "
            f"{args.clients - args.clients // 2} searching) for {args.seconds:.0f} s, "
            f"think time {args.think} s"
        )
        stats, elapsed = asyncio.run(
            run_clients(base, names, families, token, args.clients, args.seconds, args.think)
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
        problems = [
            line
            for line in (Path(tmp.name) / "server.log").read_text().splitlines()
            if "Traceback" in line or "Error" in line
        ]
        if problems:
            print("server errors:", *problems[:10], sep="\n  ")
        tmp.cleanup()

    print(f"\n{'kind':<16}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    steady: list[float] = []
    for kind, lat in stats.latency.items():
        print(
            f"{kind:<16}{len(lat):>9}{stats.errors.get(kind, 0):>8}"
            f"{statistics.median(lat) if lat else 0:>9.1f}"
            f"{pct(lat, 95):>9.1f}{pct(lat, 99):>9.1f}"
        )
        if kind != "family sign-in":
            steady.extend(lat)
    errors = sum(v for k, v in stats.errors.items() if k != "family sign-in")
    rps = len(steady) / elapsed
    for why, n in stats.why.items():
        print(f"  error {why}: {n}")
    print(
        f"\nsearches + status checks: {len(steady)} requests, {rps:.0f}/s, p95 {pct(steady, 95):.1f} ms "
        f"(target < 100 ms), errors {errors}"
    )


if __name__ == "__main__":
    main()
