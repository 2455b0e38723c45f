#!/usr/bin/env python3
"""Regenerate tests/data/cron_vectors.json, the golden data for herald's crontab module.

Needs `pip install croniter` (not a project dependency). Run from the repository root:

    python3 tests/data/gen_cron_vectors.py > tests/data/cron_vectors.json

Every vector is computed twice:

* croniter, time-zone aware, exactly as croniter users would see it;
* herald's rules: croniter on the *naive* wall clock (so field semantics still
  come from croniter, independently of the Rust code), each wall time then
  mapped to an instant by herald's DST rules, implemented here with zoneinfo:
  unique -> that instant; repeated (fall back) -> the earlier instant only;
  skipped (spring forward) -> the transition instant, emitted once.

The file records herald's values. Where croniter disagrees, the vector gets a
"note" naming croniter's differing instants, and a summary goes to stderr.
"""

import json
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from croniter import croniter
from croniter.croniter import CroniterBadDateError

UTC = timezone.utc
COUNT = 10

EXPRESSIONS = [
    "* * * * *",
    "*/15 * * * *",
    "*/30 * * * *",
    "30 2 * * *",
    "0 2 * * *",
    "0 3 * * *",
    "15 1 * * *",
    "30 1-3 * * 0",
    "0 9 * * 1-5",
    "0 9 * * 0",
    "0 9 * * 7",
    "0 9 * * SUN",
    "0 18 * * mon-fri",
    "0 12 * * sat,sun",
    "0 0 * * 5-7",
    "0 12 1,15 * 1",
    "0 0 */2 * 1",
    "0 8 * JAN,jul *",
    "0 8 1 jan-dec/3 *",
    "10-50/20 9-17/4 * * *",
    "5,35 */6 * * *",
    "45 23 31 * *",
    "59 23 * 12 *",
    "0 0 29 2 *",
    "0 0 31 2 *",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
]

# (time zone, start instant in UTC). Chosen around both 2026 DST changes in
# Berlin (29 Mar, 25 Oct) and New York (8 Mar, 1 Nov), including starts inside
# the first and second pass of Berlin's repeated hour.
STARTS = [
    ("UTC", "2026-01-01T00:00:00Z"),
    ("UTC", "2026-07-15T13:37:00Z"),
    ("Europe/Berlin", "2026-03-28T23:00:00Z"),
    ("Europe/Berlin", "2026-03-29T00:59:00Z"),
    ("Europe/Berlin", "2026-10-24T22:00:00Z"),
    ("Europe/Berlin", "2026-10-25T00:45:00Z"),
    ("Europe/Berlin", "2026-10-25T01:15:00Z"),
    ("Europe/Berlin", "2026-12-31T22:59:30Z"),
    ("Asia/Tokyo", "2026-03-28T15:00:00Z"),
    ("America/New_York", "2026-03-08T05:00:00Z"),
    ("America/New_York", "2026-11-01T04:00:00Z"),
]


def parse_utc(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)


def fmt(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wall(t, tz):
    return t.astimezone(tz).replace(tzinfo=None)


def resolve(naive, tz):
    """Herald's mapping of a wall-clock time to an instant."""
    candidates = [naive.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1)]
    existing = [u for u in candidates if wall(u, tz) == naive]
    if existing:
        return min(existing)
    # Skipped: the transition is the first instant whose wall time lies past
    # `naive`; PEP 495 brackets it between the two fold interpretations.
    lo, hi = (int(u.timestamp()) for u in sorted(candidates))
    past = lambda ts: wall(datetime.fromtimestamp(ts, UTC), tz) > naive  # noqa: E731
    assert past(hi) or wall(datetime.fromtimestamp(hi, UTC), tz) == naive
    while lo < hi:
        mid = (lo + hi) // 2
        if past(mid):
            hi = mid
        else:
            lo = mid + 1
    return datetime.fromtimestamp(lo, UTC)


def herald_next(expr, tz, after):
    out = []
    it = croniter(expr, wall(after, tz))
    last = after
    for _ in range(COUNT * 200):
        if len(out) == COUNT:
            break
        try:
            naive = it.get_next(datetime)
        except CroniterBadDateError:
            break
        inst = resolve(naive, tz)
        if inst > last:
            out.append(inst)
            last = inst
    return out


def croniter_next(expr, tz, after):
    out = []
    it = croniter(expr, after.astimezone(tz))
    for _ in range(COUNT):
        try:
            out.append(it.get_next(datetime).astimezone(UTC))
        except CroniterBadDateError:
            break
    return out


def describe(expr, tzname, herald, theirs):
    # Both lists hold COUNT items, so compare only up to where both reach;
    # past that a difference is just the window shifting.
    cutoff = min(herald[-1], theirs[-1]) if herald and theirs else None
    within = lambda t: cutoff is None or t <= cutoff  # noqa: E731
    extra = [fmt(t) for t in theirs if t not in herald and within(t)]
    missing = [fmt(t) for t in herald if t not in theirs and within(t)]
    parts = []
    if extra:
        parts.append("croniter also fires at " + ", ".join(extra))
    if missing:
        parts.append("croniter does not fire at " + ", ".join(missing))
    if not parts:
        parts.append("croniter orders or truncates the list differently")
    return (
        f"croniter differs ({tzname}, repeated/skipped wall time): "
        + "; ".join(parts)
        + ". Values here follow herald's rules."
    )


def main():
    vectors = []
    diffs = []
    for tzname, after_s in STARTS:
        tz = ZoneInfo(tzname)
        after = parse_utc(after_s)
        for expr in EXPRESSIONS:
            herald = herald_next(expr, tz, after)
            theirs = croniter_next(expr, tz, after)
            vec = {"expr": expr, "tz": tzname, "after": fmt(after), "next": [fmt(t) for t in herald]}
            if herald != theirs:
                vec["note"] = describe(expr, tzname, herald, theirs)
                diffs.append(vec)
            vectors.append(vec)
    json.dump(vectors, sys.stdout, indent=1)
    sys.stdout.write("\n")
    print(f"{len(vectors)} vectors, {len(diffs)} where croniter differs:", file=sys.stderr)
    for d in diffs:
        print(f"  {d['expr']!r} {d['tz']} after {d['after']}: {d['note']}", file=sys.stderr)


if __name__ == "__main__":
    main()
