"""A short run of the soak (bench/soak/run.py) on each database, so the script cannot rot: mixed traffic,
an import killed and rerun meanwhile, then its consistency check. No error, no fault.

Only how long the run may take grows with the machine's load: on a busy machine it is slower, not wrong.
(What once failed at a load average of 11 was not time: an import and a family's request keying the same
records at once, tests/reliability/test_keying_race.py.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak" / "run.py"


def patience(seconds: float) -> float:
    """A bound on waiting, stretched by the load per core (at most tenfold)."""
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    return seconds * min(10.0, max(1.0, load))


def test_a_short_soak_has_no_error_and_checks_out(db_url: str) -> None:
    args = [
        "--seconds",
        "12",
        "--records",
        "300",
        "--families",
        "6",
        "--searchers",
        "3",
        "--caseworkers",
        "3",
    ]
    run = subprocess.run(
        [sys.executable, str(SOAK), "--db", db_url, *args],
        capture_output=True,
        text=True,
        timeout=patience(300),
    )
    out = run.stdout
    assert run.returncode == 0, out[-3000:] + run.stderr[-3000:]
    assert "soak: PASSED" in out and "faults found: 0" in out
    assert re.search(r"^errors: 0; 5xx answered: 0 \(server log: 0, tracebacks: 0\)$", out, re.M), out
    assert "audit verify: Audit log intact" in out
    served = int(re.search(r"requests served: (\d+)", out).group(1))  # type: ignore[union-attr]
    counts = re.search(r"\((\d+) decisions, \d+ requests filed, \d+ rows in (\d+) imports\)", out)
    assert counts, out
    decisions, imports = int(counts.group(1)), int(counts.group(2))
    assert served > 0 and decisions > 0 and imports >= 1
    assert re.search(r"^faults injected: [1-9]", out, re.M), out  # the second import is killed part-way
    for kind in ("status check", "search", "decision", "candidate view"):
        assert re.search(rf"^{kind}\s+\d+\s+0\s", out, re.M), (kind, out)
