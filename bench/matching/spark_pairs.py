"""The in-process index's side of the pair counts the Spark bench prints (`run.py --engine spark`): per
request, how many records the index pre-ranks (the union of its chosen keys' postings, in numpy) and how
many it shortlists for the full model (at most 30).

    .venv/bin/python bench/matching/spark_pairs.py --records 100000 --requests 10000
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

import numpy as np
from generate import queries, stream_records

from kinlink.matching.index import CandidateIndex
from kinlink.matching.keys import MAX_POSTING, query_keys
from kinlink.matching.model import load_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--requests", type=int, default=2_000)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    index = CandidateIndex.build(load_model(), stream_records(args.records, args.requests))
    qs = queries(args.records, args.requests)
    found, short = [], []
    cpu = time.process_time()
    for q in (replace(q, id=i + 1) for i, q in enumerate(qs.requests)):
        keys = sorted(query_keys(q))  # the keys `CandidateIndex.shortlist` chooses, as it chooses them
        posts = [p for p in index.postings(keys) if len(p)]
        chosen = [p for p in posts if len(p) <= MAX_POSTING] or ([min(posts, key=len)] if posts else [])
        found.append(len(np.unique(np.concatenate(chosen))) if chosen else 0)
        short.append(len(index.shortlist(q, 30)))
    cpu = time.process_time() - cpu
    for label, xs in (("pre-ranked (found under the keys)", found), ("shortlisted (scored)", short)):
        a = np.array(xs)
        print(
            f"{label}: total {a.sum():,}, mean {a.mean():.1f}, p50 {np.percentile(a, 50):.0f}, "
            f"p90 {np.percentile(a, 90):.0f}, p99 {np.percentile(a, 99):.0f}, max {a.max():,}"
        )
    print(
        f"CPU of the counting (keys, postings, shortlists): {cpu:.1f}s; load average after: {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
