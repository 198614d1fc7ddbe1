"""Fire times of cron expressions by Python's cronsim, the reference for hbmon's cron.

Reads a JSON list of cases {expr, tz, start, n} on stdin and prints, for each, the next
`n` fire times after `start` as RFC 3339 UTC strings, or {"error": ...}, and on stderr
how many cases needed the check below.

cronsim reads an expression with a fixed minute and hour on the wall clock, and any
other one at every real instant whose local time matches. For the latter its iterator
jumps by local-time distances, which in a zone whose clocks move by 30 minutes
(Australia/Lord_Howe) can step over a matching instant: `30 * * * *` skips 01:30 LHST
after 01:30 LHDT, though `*/10 * * * *` fires at both. So for those expressions the
times are also found by scanning every real minute with cronsim's own field matching,
and the scan is the reference from a day before cronsim's first time to three days
after it.

Started inside the second pass of a repeated hour, cronsim can return a wall-clock time
before the start, which a scheduler never wants: such times are dropped.
"""

import json
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

SCAN_LIMIT = timedelta(days=3)


def matches(sim, local):
    return (
        local.minute in sim.minutes
        and local.hour in sim.hours
        and local.month in sim.months
        and sim.match_day(local.date())
    )


def scanned(sim, tz, start, until, n):
    """Every real minute after `start` up to `until` whose local time matches."""
    t = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    out = []
    while t <= until and len(out) < n:
        if matches(sim, t.astimezone(tz)):
            out.append(t)
        t += timedelta(minutes=1)
    return out


corrected = 0
out = []
for case in json.load(sys.stdin):
    start = datetime.fromisoformat(case["start"].replace("Z", "+00:00"))
    tz = ZoneInfo(case["tz"])
    try:
        sim = CronSim(case["expr"], start.astimezone(tz))
        times = []
        while len(times) < case["n"]:
            t = next(sim).astimezone(timezone.utc)
            if t > start:
                times.append(t)
        real_time = sim.fixup_tz is None and case["tz"] != "UTC"
        if real_time:
            # Scanned from a day before cronsim's first time (its misses are near a
            # clock change, never a day apart) to three days after it; later times are
            # cronsim's.
            since = max(start, times[0] - timedelta(days=1))
            until = min(times[-1], times[0] + SCAN_LIMIT)
            probe = CronSim(case["expr"], start.astimezone(tz))
            scan = scanned(probe, tz, since, until, case["n"])
            merged = (scan + [t for t in times if t > until])[: case["n"]]
            if merged != times:
                corrected += 1
                times = merged
        out.append({"times": [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in times]})
    except (CronSimError, StopIteration) as e:
        out.append({"error": type(e).__name__})
json.dump(out, sys.stdout)
print(f"cases where the minute scan corrected cronsim's iterator: {corrected}", file=sys.stderr)
