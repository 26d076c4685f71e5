"""Where a web request's time goes: searches and family status checks run one at a time in-process
against a database loaded by `run.py --reuse`, with every SQL statement timed and a Python profile.

    .venv/bin/python bench/web/where_time_goes.py --db URL [--requests 200]
                                                  [--kind search|status|both] [--top 25]

Prints, per kind, the CPU and wall time a request, the statements a request and the statements that took the
most time (with their count and mean), then the functions of the Python profile by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import pstats
import random
import re
import sys
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
        """EXPLAIN ANALYZE of the SELECTs seen, as run (the plans the slowest statements got)."""
        for key in sorted(self.total, key=self.total.get, reverse=True):  # type: ignore[arg-type]
            statement, params = self.seen.get(key, ("", None))
            if not statement.lstrip().upper().startswith("SELECT") or "FOR UPDATE" in statement:
                continue
            raw = engine.raw_connection()
            try:
                cur = raw.cursor()
                cur.execute("EXPLAIN ANALYZE " + statement, params)
                print(f"\n-- {key}")
                print("\n".join(r[0] for r in cur.fetchall()))
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--kind", default="both", choices=["search", "status", "both"])
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--python", action="store_true", help="also print the Python profile")
    ap.add_argument("--tree", type=Path, default=ROOT, help="the kinlink source tree to profile")
    ap.add_argument("--explain", action="store_true", help="also EXPLAIN ANALYZE each SELECT once")
    args = ap.parse_args()
    import json

    print(f"kinlink from {Path(sys.modules['kinlink'].__file__ or '').parents[1]}")
    kept = json.loads(_state_file(args.db).read_text())
    engine = make_engine(args.db)
    app = create_app(engine, Settings(secret_key="bench"))
    clock = StatementClock(engine)
    rnd = random.Random(1)
    kinds = ["search", "status"] if args.kind == "both" else [args.kind]
    with TestClient(app, base_url="http://127.0.0.1") as c:
        ref, secret = kept["families"][0]
        token = CSRF.search(c.get("/track").text).group(1)  # type: ignore[union-attr]
        form = {"csrf_token": token, "reference": ref, "secret": secret}
        r = c.post("/track", data=form, follow_redirects=False)
        assert r.status_code == 303, r.status_code
        auth = {"authorization": f"Bearer {kept['token']}"}

        def one(kind: str) -> None:
            if kind == "search":
                q = rnd.choice(kept["names"])
                r = c.get("/api/v1/records", params={"q": q, "limit": "10"}, headers=auth)
            else:
                r = c.get("/family", follow_redirects=False)
            assert r.status_code == 200, (kind, r.status_code)

        for kind in kinds:
            for _ in range(20):  # warm the caches as the bench's warm-up does
                one(kind)
            clock.reset()
            prof = cProfile.Profile()
            t, cpu = time.perf_counter(), time.process_time()
            prof.enable()
            for _ in range(args.requests):
                one(kind)
            prof.disable()
            wall, cpu = time.perf_counter() - t, time.process_time() - cpu
            print(
                f"\n{kind}: {1000 * cpu / args.requests:.2f} ms of CPU a request (client and server), "
                f"{1000 * wall / args.requests:.2f} ms wall, one at a time"
            )
            clock.show(args.requests, args.top)
            if args.explain:
                clock.explain(engine)
            if args.python:
                out = io.StringIO()
                pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
                print(out.getvalue())
    engine.dispose()


if __name__ == "__main__":
    main()
