#!/usr/bin/env python3
"""Where a bulk sync's time went, from the stand-in's request log (bench/standin.py --log) and
the sync's own JSON line (bench/sync_limit.php: `started`/`ended` on the same monotonic clock).

Walks the critical path back from the last answer: each request's predecessor is the last one
answered before it arrived. Along that path the time splits into
  - round trips: the stand-in's fixed delay, once per step (what the limit counts);
  - stand-in: time the stand-in took beyond its delay (its own scheduling and writing);
  - client: from an answer leaving the stand-in to the next request arriving (reading the
    answer, deciding, writing the next request; connection set-up in the first wave);
and the client's time before the first request and after the last answer.

Usage: timeline.py LOG.jsonl DELAY_MS < sync line (JSON); prints the sync line with the split.
"""

import json
import sys


def main():
    log = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    delay = float(sys.argv[2]) / 1000.0
    run = json.loads(sys.stdin.readline())
    started, ended = run["started"] / 1e9, run["ended"] / 1e9
    requests = sorted((r for r in log if started <= r["arrived"] <= ended), key=lambda r: r["answered"])
    path = []
    current = requests[-1] if requests else None
    while current is not None:
        path.append(current)
        before = [r for r in requests if r["answered"] <= current["arrived"]]
        current = before[-1] if before else None
    path.reverse()
    steps = len(path)
    standin = sum(r["answered"] - r["arrived"] - delay for r in path)
    between = sum(b["arrived"] - a["answered"] for a, b in zip(path, path[1:]))
    run["delay_ms"] = float(sys.argv[2])
    run["timeline"] = {
        "requests": len(requests),
        "steps": steps,
        "round_trips_ms": round(steps * delay * 1000, 2),
        "standin_ms": round(standin * 1000, 2),
        "client_between_ms": round(between * 1000, 2),
        "client_before_first_ms": round((path[0]["arrived"] - started) * 1000, 2) if path else None,
        "client_after_last_ms": round((ended - path[-1]["answered"]) * 1000, 2) if path else None,
        "gaps_ms": [round((b["arrived"] - a["answered"]) * 1000, 2) for a, b in zip(path, path[1:])],
    }
    print(json.dumps(run))


if __name__ == "__main__":
    main()
