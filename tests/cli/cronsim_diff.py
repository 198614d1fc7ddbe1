"""Fire times of cron expressions by Python's cronsim, the reference for hbmon's cron.

Reads a JSON list of cases {expr, tz, start, n} on stdin and prints, for each, the next
`n` fire times after `start` as RFC 3339 UTC strings, or {"error": ...}, and on stderr
how many cases needed the check below.

cronsim reads an expression with a fixed minute and hour on the wall clock, and any
other one at every real instant whose local time matches. For the latter its iterator
jumps by local-time distances, which in a zone whose clocks move by 30 minutes
(Australia/Lord_Howe) can step over a matching instant: `30 * * * *` skips 01:30 LHST
after 01:30 LHDT, though `*/10 * * * *` fires at both, and the daily `15 0 3 * * *`
(seconds first, so on real instants) loses 03:00:15 on the day the clocks go back. So
for those expressions every real minute within three hours of a day whose offset changes
(up to cronsim's last time) is checked with cronsim's own field matching, and that scan
is the reference there.

Started inside the second pass of a repeated hour, cronsim can return a wall-clock time
before the start, which a scheduler never wants: such times are dropped.

hbmon reads a little more than cronsim; the expression is rewritten first into what it
means (`dialect`): the nicknames into their crontab(5) expansions (`@midnight` is
`@daily`), Quartz's `?` into `*`, `MON-SUN` into `1-7` (cronsim reads SUN as 0 only, so
the range would be empty), and `15W` (the weekday nearest the 15th in its month, Quartz's
rule, which cronsim lacks) is matched here, by `nearest_weekday`.
"""

import json
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import calendar
import re

from cronsim import CronSim, CronSimError



NICKNAMES = {
    "@YEARLY": "0 0 1 1 *",
    "@ANNUALLY": "0 0 1 1 *",
    "@MONTHLY": "0 0 1 * *",
    "@WEEKLY": "0 0 * * 0",
    "@DAILY": "0 0 * * *",
    "@MIDNIGHT": "0 0 * * *",
    "@HOURLY": "0 * * * *",
}


def dialect(expr):
    """The expression in cronsim's dialect, and the days `nW` of its day-of-month."""
    expr = expr.strip().upper()
    expr = NICKNAMES.get(expr, expr)
    fields = expr.split()
    dom, dow = len(fields) - 3, len(fields) - 1
    fields[dom] = fields[dom].replace("?", "*")
    fields[dow] = re.sub(r"-SUN\b", "-7", fields[dow].replace("?", "*"))
    items = fields[dom].split(",")
    nearest = {int(i[:-1]) for i in items if re.fullmatch(r"\d+W", i)}
    rest = [i for i in items if not re.fullmatch(r"\d+W", i)]
    # A day-of-month of W days only: a placeholder day, matched by no date below.
    fields[dom] = ",".join(rest) if rest else "1"
    return " ".join(fields), nearest, bool(rest)


def nearest_weekday(year, month, day):
    """Quartz's `dayW`: that day if a weekday, else the nearest weekday in its month."""
    first_dow, last = calendar.monthrange(year, month)
    if day > last:
        return None
    dow = (first_dow + day - 1) % 7  # Monday 0
    if dow == 5:
        return day - 1 if day > 1 else day + 2
    if dow == 6:
        return day + 1 if day < last else day - 2
    return day


class Sim(CronSim):
    """cronsim with `nW` days added to its day-of-month matching."""

    def __init__(self, expr, dt):
        expr, self.nearest, has_rest = dialect(expr)
        super().__init__(expr, dt)
        if not has_rest:
            self.days = set()

    def match_dom(self, d):
        if any(nearest_weekday(d.year, d.month, n) == d.day for n in self.nearest):
            return True
        return super().match_dom(d)


def matches(sim, local):
    return (
        local.minute in sim.minutes
        and local.hour in sim.hours
        and local.month in sim.months
        and sim.match_day(local.date())
    )


def scanned(sim, tz, start, until, n):
    """Every real second after `start` up to `until` whose local time matches (a minute
    at a time: offsets are whole minutes)."""
    t = start.replace(second=0, microsecond=0)
    out = []
    while t <= until and len(out) < n:
        if matches(sim, t.astimezone(tz)):
            for second in sorted(sim.seconds):
                at = t + timedelta(seconds=second)
                if start < at <= until:
                    out.append(at)
        t += timedelta(minutes=1)
    return out[:n]


def changes(tz, since, until):
    """The days (pairs of UTC instants a day apart) across which `tz`'s offset changes."""
    out = []
    t, offset = since, since.astimezone(tz).utcoffset()
    while t < until:
        n = t + timedelta(days=1)
        o = n.astimezone(tz).utcoffset()
        if o != offset:
            out.append((t - timedelta(hours=3), n + timedelta(hours=3)))
            offset = o
        t = n
    return out


corrected = 0
out = []
for case in json.load(sys.stdin):
    start = datetime.fromisoformat(case["start"].replace("Z", "+00:00"))
    tz = ZoneInfo(case["tz"])
    try:
        sim = Sim(case["expr"], start.astimezone(tz))
        times = []
        while len(times) < case["n"]:
            t = next(sim).astimezone(timezone.utc)
            if t > start:
                times.append(t)
        if sim.fixup_tz is None and case["tz"] != "UTC":
            # Real instants: around each clock change up to cronsim's last time, every
            # minute is checked with cronsim's own field matching; elsewhere cronsim's
            # iterator is right.
            windows = changes(tz, start, times[-1])
            inside = lambda t: any(a <= t <= b for a, b in windows)  # noqa: E731
            merged = [t for t in times if not inside(t)]
            for a, b in windows:
                probe = Sim(case["expr"], start.astimezone(tz))
                merged += scanned(probe, tz, max(a, start), min(b, times[-1]), 10**6)
            merged = sorted(set(merged))[: case["n"]]
            if merged != times:
                corrected += 1
                times = merged
        out.append({"times": [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in times]})
    except (CronSimError, StopIteration) as e:
        out.append({"error": type(e).__name__})
json.dump(out, sys.stdout)
print(f"cases where the minute scan corrected cronsim's iterator: {corrected}", file=sys.stderr)
