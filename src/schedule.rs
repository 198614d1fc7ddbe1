//! When a monitor runs next, and whether a named window (`schedules:`) is open: pure
//! functions of the schedule and a given time, no clock reads, so they are tested with
//! made-up times, across DST changes too.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};

/// How often a monitor runs.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Every `interval`; with `align`, on multiples of it since the epoch (:00, :10,
    /// :20 for `10s`), shifted by the monitor's stable `offset`.
    Every {
        interval: Duration,
        align: bool,
        offset: Duration,
    },
    /// At the times of a cron expression, read in a time zone.
    Cron {
        cron: Box<croner::Cron>,
        tz: chrono_tz::Tz,
        /// Runs at wall-clock times (both the minute and the hour field are fixed, as
        /// in `30 2 * * *`): once on the night the clocks go back, and at the first
        /// minute after the gap on the night they go forward. Otherwise (`*/10 * * * *`,
        /// `0 * * * *`) it runs at every real instant whose local time matches, in both
        /// passes of a repeated hour. Vixie/Debian cron's rule, as Python's cronsim has it.
        wall: bool,
        /// `LW` (the last weekday of the month) in the day-of-month field.
        last_weekday: LastWeekday,
        /// The expression as written (croner's own text is rewritten: `LW` read as
        /// `26-31`, names as numbers).
        expr: String,
    },
}

/// `LW` in the day-of-month field, which croner lacks: the expression is read with days
/// 26-31 (where every month's last weekday falls) added, or every day for an OR of the
/// day fields, and the days croner finds are filtered.
#[derive(Debug, Clone)]
pub enum LastWeekday {
    No,
    /// A day croner finds must be the last weekday of its month, or one this expression
    /// (the rest of the day-of-month list, the day of week for an OR) matches.
    Or(Option<Box<croner::Cron>>),
}

/// Why a cron schedule is not valid: its expression or its time zone (a configuration
/// error is reported at the key it is about).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("{0}")]
    Expression(String),
    #[error("{0}")]
    TimeZone(String),
}

/// Two schedules are the same when they run at the same times: the same interval,
/// alignment and offset, or the same cron expression in the same time zone (everything
/// else a cron schedule holds is read from those two).
impl PartialEq for Schedule {
    fn eq(&self, other: &Schedule) -> bool {
        match (self, other) {
            (
                Schedule::Every {
                    interval,
                    align,
                    offset,
                },
                Schedule::Every {
                    interval: i,
                    align: a,
                    offset: o,
                },
            ) => interval == i && align == a && offset == o,
            (Schedule::Cron { expr, tz, .. }, Schedule::Cron { expr: e, tz: t, .. }) => {
                expr == e && tz == t
            }
            (Schedule::Every { .. }, Schedule::Cron { .. })
            | (Schedule::Cron { .. }, Schedule::Every { .. }) => false,
        }
    }
}

impl Schedule {
    /// A cron schedule, or why the expression or time zone is not valid.
    ///
    /// The dialect is Debian cron's, as Python's cronsim reads it (5 fields, or 6 with
    /// seconds first; names, ranges, lists, steps; `L`, `LW`, `5L`, `1#2`), plus croner's
    /// `15W` (the weekday nearest the 15th, Quartz's), `?` for `*` in a day field, and the
    /// nicknames `@hourly`, `@daily` (`@midnight`), `@weekly`, `@monthly`, `@yearly`
    /// (`@annually`). What croner reads beyond that (a year field, `+` before the day of
    /// week) is refused, and so is an expression that never fires.
    pub fn cron(expr: &str, tz: &str) -> Result<Schedule, CronError> {
        let fields = dialect(expr).map_err(CronError::Expression)?;
        let tz = parse_tz(tz).map_err(CronError::TimeZone);
        let (cron, last_weekday) = read_cron(&fields).map_err(CronError::Expression)?;
        // Croner accepts what no date matches (`0 0 30 2 *`); the monitor would never
        // run. Any expression that fires at all does so within 40 years of any date.
        let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
        if epoch
            .and_then(|e| naive_next(&cron, &last_weekday, e))
            .is_none()
        {
            return Err(CronError::Expression(invalid(
                "it never fires (no date matches its day-of-month, month and day-of-week)",
            )));
        }
        Ok(Schedule::Cron {
            cron: Box::new(cron),
            tz: tz?,
            wall: wall_clock(&fields),
            last_weekday,
            expr: expr.trim().to_owned(),
        })
    }

    /// The first run at or after `now`, when a monitor starts being scheduled: aligned
    /// schedules wait for their slot; others start after their offset, so that a thousand
    /// monitors do not all fire in the same instant.
    #[must_use]
    pub fn first_run(&self, now: SystemTime) -> Option<SystemTime> {
        match self {
            Schedule::Every {
                align: false,
                offset,
                ..
            } => Some(now + *offset),
            _ => self.next_run(now - Duration::from_nanos(1)),
        }
    }

    /// The next run strictly after `after` (the time of the previous run). `None` only for
    /// a cron expression that never fires again.
    #[must_use]
    pub fn next_run(&self, after: SystemTime) -> Option<SystemTime> {
        match self {
            Schedule::Every {
                interval,
                align: false,
                ..
            } => Some(after + *interval),
            Schedule::Every {
                interval,
                align: true,
                offset,
            } => {
                let step = interval.as_nanos().max(1);
                let since = after
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos();
                let off = offset.as_nanos() % step;
                // The first slot k * step + off that is strictly later than `after`.
                let k = (since + step - off) / step;
                let next = k * step + off;
                let next = if next <= since { next + step } else { next };
                Some(UNIX_EPOCH + Duration::from_nanos(u64::try_from(next).ok()?))
            }
            Schedule::Cron {
                cron,
                tz,
                wall,
                last_weekday,
                ..
            } => cron_next(cron, last_weekday, *tz, *wall, after),
        }
    }

    /// The latest run at or before `at`, by the same rules as `next_run` (for a cron or
    /// an aligned schedule; a plain interval has no fixed times). The runs are found
    /// forward from ever earlier instants, so the two can never disagree.
    #[must_use]
    pub fn previous_run(&self, at: SystemTime) -> Option<SystemTime> {
        match self {
            // No fixed times.
            Schedule::Every { align: false, .. } => return None,
            // The last slot `k * step + off` at or before `at`, as `next_run` counts them
            // (stepping forward to it took a billion steps for a nanosecond interval).
            Schedule::Every {
                interval,
                align: true,
                offset,
            } => {
                let step = interval.as_nanos().max(1);
                let since = at.duration_since(UNIX_EPOCH).ok()?.as_nanos();
                let off = offset.as_nanos() % step;
                let k = since.checked_sub(off)? / step;
                let run = k * step + off;
                return Some(UNIX_EPOCH + Duration::from_nanos(u64::try_from(run).ok()?));
            }
            Schedule::Cron { .. } => {}
        }
        let mut back = Duration::from_secs(60);
        // 60 s doubled 26 times is more than a century.
        for _ in 0..27 {
            let start = at.checked_sub(back)?;
            if self.next_run(start)? <= at {
                // Halve the gap between a start whose next run is at or before `at` and
                // one whose next run is later; a millisecond apart, the first one's next
                // run is the latest (runs are whole seconds apart). Stepping forward run by
                // run took hundreds of thousands of steps for a cron firing every second.
                let (mut lo, mut hi) = (start, at);
                while hi.duration_since(lo).unwrap_or_default() > Duration::from_millis(1) {
                    let mid = lo + hi.duration_since(lo).unwrap_or_default() / 2;
                    match self.next_run(mid) {
                        Some(run) if run <= at => lo = mid,
                        _ => hi = mid,
                    }
                }
                return self.next_run(lo);
            }
            back *= 2;
        }
        None
    }
}

fn invalid(why: &str) -> String {
    format!("invalid cron expression: {why}")
}

/// The fields of a cron expression in hbmon's dialect (see `Schedule::cron`), as croner
/// is to read them: `@midnight` as `@daily`, `?` as `*`.
fn dialect(expr: &str) -> Result<Vec<String>, String> {
    let mut fields: Vec<String> = expr.split_whitespace().map(str::to_owned).collect();
    if let [nickname] = fields.as_mut_slice()
        && nickname.starts_with('@')
    {
        match nickname.to_ascii_lowercase().as_str() {
            "@midnight" => "@daily".clone_into(nickname),
            "@hourly" | "@daily" | "@weekly" | "@monthly" | "@yearly" | "@annually" => {}
            _ => {
                return Err(invalid(&format!(
                    "unknown nickname `{nickname}` (use @hourly, @daily or @midnight, \
                     @weekly, @monthly, @yearly or @annually)"
                )));
            }
        }
        return Ok(fields);
    }
    if !(5..=6).contains(&fields.len()) {
        return Err(invalid(&format!(
            "{} fields; cron has 5 fields (minute hour day-of-month month day-of-week), \
             or 6 with seconds first, and no year",
            fields.len()
        )));
    }
    if let Some(field) = fields.iter().find(|f| f.split(',').any(str::is_empty)) {
        return Err(invalid(&format!(
            "`{field}` has an empty item in its list (two commas, or one at an end)"
        )));
    }
    let (dom, dow) = day_fields(&fields).unwrap_or_default();
    for i in [dom, dow] {
        // Quartz's "no specific value", as croner reads it.
        fields[i] = fields[i].replace('?', "*");
    }
    if fields[dow].starts_with('+') {
        return Err(invalid(
            "`+` before the day of week is not cron: a day must match both day fields \
             when either starts with `*`, otherwise either",
        ));
    }
    Ok(fields)
}

/// The indexes of the day-of-month and day-of-week fields, unless a nickname.
fn day_fields(fields: &[String]) -> Option<(usize, usize)> {
    (fields.len() > 1).then(|| (fields.len() - 3, fields.len() - 1))
}

/// The expression for croner, and what filters the days it finds.
/// Which field of a cron expression croner refuses, and why, in words: each field is
/// tried alone, the others `*`.
fn field_problem(fields: &[String], parser: croner::parser::CronParser) -> Option<String> {
    const FIVE: [(&str, &str); 5] = [
        ("minute", "0-59"),
        ("hour", "0-23"),
        ("day-of-month", "1-31, L, LW or 15W"),
        ("month", "1-12 or jan-dec"),
        ("day-of-week", "0-7 or sun-sat, 5L or mon#2"),
    ];
    let names: Vec<(&str, &str)> = if fields.len() == 6 {
        std::iter::once(("second", "0-59")).chain(FIVE).collect()
    } else {
        FIVE.to_vec()
    };
    for (i, value) in fields.iter().enumerate() {
        let mut alone = vec!["*"; fields.len()];
        alone[i] = value;
        let Err(e) = parser.parse(&alone.join(" ")) else {
            continue;
        };
        let (name, takes) = names.get(i)?;
        let e = e.to_string().to_lowercase();
        let why = if e.contains("out of bounds") {
            "is out of range"
        } else if e.contains("step cannot be zero") {
            "has a step of 0"
        } else if e.contains("illegal character") {
            "has a name or character it cannot take"
        } else {
            "is not valid"
        };
        return Some(format!(
            "the {name} field `{value}` {why} (it takes {takes})"
        ));
    }
    None
}

fn read_cron(fields: &[String]) -> Result<(croner::Cron, LastWeekday), String> {
    // Debian cron: when either day field starts with `*`, a day must match both
    // (`0 0 */2 * 1`: odd days that are Mondays); otherwise either (`0 0 1 * 1`).
    let and = day_fields(fields)
        .is_none_or(|(dom, dow)| fields[dom].starts_with('*') || fields[dow].starts_with('*'));
    let parser = croner::parser::CronParser::builder()
        .dom_and_dow(and)
        .build();
    let seconds = if fields.len() == 6 {
        " (of 6 fields the first is seconds)"
    } else {
        ""
    };
    let parse = |p: &croner::parser::CronParser, e: &str| {
        p.parse(e).map_err(|err| match field_problem(fields, *p) {
            Some(why) => invalid(&format!("{why}{seconds}")),
            None => invalid(&format!("{err}{seconds}")),
        })
    };
    let is_lw = |item: &str| item.eq_ignore_ascii_case("LW");
    let Some((dom, dow)) = day_fields(fields).filter(|(dom, _)| fields[*dom].split(',').any(is_lw))
    else {
        return Ok((parse(&parser, &fields.join(" "))?, LastWeekday::No));
    };
    // `LW`, which croner lacks. The rest of the list (`*` spelled out, as croner reads a
    // lone `*` as "any day" for the day-field rule):
    let rest = fields[dom]
        .split(',')
        .filter(|i| !is_lw(i))
        .map(|i| if i == "*" { "1-31" } else { i })
        .collect::<Vec<_>>()
        .join(",");
    let with = |dom_value: &str, dow_value: Option<&str>| {
        let mut f = fields.to_vec();
        dom_value.clone_into(&mut f[dom]);
        if let Some(v) = dow_value {
            v.clone_into(&mut f[dow]);
        }
        f.join(" ")
    };
    if and {
        // The days 26-31 (where every month's last weekday falls) added; the filter
        // keeps the last weekday and the rest of the list.
        let days = if rest.is_empty() {
            "26-31".to_owned()
        } else {
            format!("{rest},26-31")
        };
        let cron = parse(&parser, &with(&days, None))?;
        let other = (!rest.is_empty())
            .then(|| parse(&parser, &with(&rest, None)))
            .transpose()?;
        Ok((cron, LastWeekday::Or(other.map(Box::new))))
    } else {
        // Every day at the expression's times; the filter keeps the last weekday and
        // the days the rest of the list or the day of week match.
        let other = if rest.is_empty() {
            let dow_only = croner::parser::CronParser::builder()
                .dom_and_dow(true)
                .build();
            parse(&dow_only, &with("*", None))?
        } else {
            parse(&parser, &with(&rest, None))?
        };
        let cron = parse(&parser, &with("*", Some("*")))?;
        Ok((cron, LastWeekday::Or(Some(Box::new(other)))))
    }
}

fn parse_tz(tz: &str) -> Result<chrono_tz::Tz, String> {
    tz.parse()
        .map_err(|_| format!("unknown time zone `{tz}` (use an IANA name such as Europe/Berlin)"))
}

/// Whether a cron expression runs at wall-clock times (see `Schedule::Cron::wall`).
fn wall_clock(fields: &[String]) -> bool {
    match fields {
        [minute, hour, _, _, _] => !minute.starts_with('*') && !hour.starts_with('*'),
        [nickname] => !nickname.eq_ignore_ascii_case("@hourly"),
        _ => false,
    }
}

/// The last weekday (Monday to Friday) of `date`'s month.
fn last_weekday_of(date: NaiveDate) -> u32 {
    let next = if date.month() == 12 {
        NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
    };
    let last = next.and_then(|d| d.pred_opt()).unwrap_or(date);
    match last.weekday() {
        chrono::Weekday::Sat => last.day() - 1,
        chrono::Weekday::Sun => last.day() - 2,
        _ => last.day(),
    }
}

/// The next local wall-clock time after `from` (whole seconds) that `cron` (with `lw`)
/// matches.
fn naive_next(
    cron: &croner::Cron,
    lw: &LastWeekday,
    mut from: NaiveDateTime,
) -> Option<NaiveDateTime> {
    // Read as UTC, so that croner applies no time-zone rule of its own.
    let next = |c: &croner::Cron, from: NaiveDateTime| {
        c.find_next_occurrence(&Utc.from_utc_datetime(&from), false)
            .ok()
            .and_then(|n| n.naive_utc().with_nanosecond(0))
    };
    for _ in 0..1000 {
        let n = next(cron, from)?;
        let ok = match lw {
            LastWeekday::No => true,
            LastWeekday::Or(other) => {
                n.day() == last_weekday_of(n.date())
                    || other
                        .as_ref()
                        .is_some_and(|o| next(o, n - chrono::Duration::seconds(1)) == Some(n))
            }
        };
        if ok {
            return Some(n);
        }
        // The filter is about the day: the rest of this one cannot match either.
        from = n.date().and_hms_opt(23, 59, 59)?;
    }
    None
}

/// The next run of a cron schedule strictly after `after`, on a whole second.
fn cron_next(
    cron: &croner::Cron,
    lw: &LastWeekday,
    tz: chrono_tz::Tz,
    wall: bool,
    after: SystemTime,
) -> Option<SystemTime> {
    use chrono::Duration as Span;
    use chrono::Offset as _;
    use chrono::offset::LocalResult;
    let after: DateTime<Utc> = after.into();
    let local = |u: DateTime<Utc>| u.with_timezone(&tz).naive_local();
    let mut from = local(after).with_nanosecond(0)?;
    if wall {
        // Wall-clock times: the earlier of a repeated time; a time in the gap runs at the
        // first minute that exists after it.
        for _ in 0..10_000 {
            let n = naive_next(cron, lw, from)?;
            from = n;
            let mut m = n;
            let instant = loop {
                match tz.from_local_datetime(&m) {
                    LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                        break t.with_timezone(&Utc);
                    }
                    LocalResult::None => m += Span::minutes(1),
                }
            };
            if instant > after {
                return Some(instant.into());
            }
        }
        return None;
    }
    // Real instants: every instant whose local time matches, so both passes of a
    // repeated hour run and the gap is skipped.
    //
    // Usually the offset is the same from three hours before `after` to three hours
    // after the first match of its local time: local time is a plain shift of real
    // time there, so that match is the next run. The offset is sampled every half hour
    // (no zone changes it twice within one).
    let offset = |u: DateTime<Utc>| tz.offset_from_utc_datetime(&u.naive_utc()).fix();
    let here = offset(after);
    let first = naive_next(cron, lw, from)?;
    let run = Utc.from_utc_datetime(&(first - Span::seconds(i64::from(here.local_minus_utc()))));
    if run - after <= Span::hours(6) {
        let (mut probe, end) = (after - Span::hours(3), run + Span::hours(3));
        while probe < end && offset(probe) == here {
            probe += Span::minutes(30);
        }
        if probe >= end && offset(end) == here {
            return Some(run.into());
        }
    }
    // Near a change: offsets move by at most an hour or two, so matches are looked for
    // from a little before `after`'s local time.
    from -= Span::hours(3);
    let mut best: Option<DateTime<Utc>> = None;
    for _ in 0..100_000 {
        let n = naive_next(cron, lw, from)?;
        from = n;
        if let Some(b) = best
            && n > local(b) + Span::hours(3)
        {
            break;
        }
        let instants = match tz.from_local_datetime(&n) {
            LocalResult::Single(t) => [Some(t), None],
            LocalResult::Ambiguous(a, b) => [Some(a), Some(b)],
            LocalResult::None => [None, None],
        };
        for t in instants.into_iter().flatten() {
            let u = t.with_timezone(&Utc);
            if u > after && best.is_none_or(|b| u < b) {
                best = Some(u);
            }
        }
    }
    best.map(Into::into)
}

/// A stable offset in `[0, jitter)` for a monitor, derived from its name (FNV-1a): the
/// spread survives restarts and is the same in tests.
#[must_use]
pub fn jitter_offset(name: &str, jitter: Duration) -> Duration {
    if jitter.is_zero() {
        return Duration::ZERO;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let nanos = u64::try_from(jitter.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(hash % nanos)
}

/// A named set of windows in a time zone (`schedules.<name>`): business hours, a weekly
/// maintenance slot.
#[derive(Debug, Clone)]
pub struct Windows {
    pub tz: chrono_tz::Tz,
    pub windows: Vec<Window>,
}

/// One window.
#[derive(Debug, Clone)]
pub enum Window {
    /// On the given weekdays (Monday first) from `from` to `to`, local time; a `to` at or
    /// before `from` ends on the next day (`from == to` is a whole day).
    Days {
        days: [bool; 7],
        from: NaiveTime,
        to: NaiveTime,
    },
    /// From each run of a cron schedule (in the windows' time zone, by the same rules
    /// as a monitor's `cron`: DST, `LW`, whole seconds), for `duration`.
    Cron {
        schedule: Schedule,
        duration: Duration,
    },
}

impl Windows {
    /// If `t` is inside a window, when that window opened (the earliest start among the
    /// windows that contain `t`, so overlapping windows read as one).
    #[must_use]
    pub fn open_since(&self, t: SystemTime) -> Option<SystemTime> {
        self.windows
            .iter()
            .filter_map(|w| self.window_open_since(w, t))
            .min()
    }

    /// The next time strictly after `t` that a window opens.
    #[must_use]
    pub fn next_open(&self, t: SystemTime) -> Option<SystemTime> {
        let utc: DateTime<Utc> = t.into();
        let local = self.tz.from_utc_datetime(&utc.naive_utc());
        self.windows
            .iter()
            .filter_map(|w| match w {
                Window::Days { days, from, .. } => (0..=7).find_map(|d| {
                    let date = local.date_naive().checked_add_days(chrono::Days::new(d))?;
                    days[date.weekday().num_days_from_monday() as usize]
                        .then(|| self.local(date, *from))
                        .filter(|s| *s > t)
                }),
                Window::Cron { schedule, .. } => schedule.next_run(t),
            })
            .min()
    }

    fn window_open_since(&self, w: &Window, t: SystemTime) -> Option<SystemTime> {
        let utc: DateTime<Utc> = t.into();
        let local = self.tz.from_utc_datetime(&utc.naive_utc());
        match w {
            Window::Days { days, from, to } => {
                // A window containing `t` opened today or (crossing midnight) yesterday.
                [1, 0].into_iter().find_map(|back| {
                    let date = local
                        .date_naive()
                        .checked_sub_days(chrono::Days::new(back))?;
                    if !days[date.weekday().num_days_from_monday() as usize] {
                        return None;
                    }
                    let start = self.local(date, *from);
                    let end_date = if to > from { date } else { date.succ_opt()? };
                    let end = self.local(end_date, *to);
                    (start <= t && t < end).then_some(start)
                })
            }
            Window::Cron { schedule, duration } => {
                let start = schedule.previous_run(t)?;
                (t < start + *duration).then_some(start)
            }
        }
    }

    /// A local date and time as an instant; a time skipped by a DST change is read as the
    /// first instant after the gap, a repeated one as its first occurrence.
    fn local(&self, date: NaiveDate, time: NaiveTime) -> SystemTime {
        let naive = NaiveDateTime::new(date, time);
        let mut probe = naive;
        for _ in 0..4 {
            if let Some(t) = self.tz.from_local_datetime(&probe).earliest() {
                return t.with_timezone(&Utc).into();
            }
            probe += chrono::Duration::minutes(30);
        }
        // No zone has a gap longer than two hours; fall back to reading it as UTC.
        Utc.from_utc_datetime(&naive).into()
    }
}

/// Weekdays from `mon-fri`, `sat,sun`, `fri-mon` (wrapping), `daily`: Monday first.
pub fn parse_days(text: &str) -> Result<[bool; 7], String> {
    const FULL: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let day = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        FULL.iter()
            .position(|f| s == *f || (s.len() == 3 && f.starts_with(&s)))
            .ok_or_else(|| "unknown day name (use mon, tue, wed, thu, fri, sat, sun)".to_owned())
    };
    let mut days = [false; 7];
    if matches!(text.trim(), "daily" | "*" | "all") {
        return Ok([true; 7]);
    }
    for part in text.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                let mut d = a;
                loop {
                    days[d] = true;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days[day(part)?] = true,
        }
    }
    Ok(days)
}

/// A local time of day, `HH:MM` or `HH:MM:SS`; `24:00` is the end of the day (midnight).
pub fn parse_time(text: &str) -> Result<NaiveTime, String> {
    let text = text.trim();
    if text == "24:00" {
        return Ok(NaiveTime::MIN);
    }
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .map_err(|_| "invalid time of day (use HH:MM, 24-hour clock)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_equal_when_they_run_at_the_same_times() {
        let cron = |e: &str, tz: &str| Schedule::cron(e, tz).unwrap();
        assert_eq!(cron("0 3 * * *", "UTC"), cron(" 0 3 * * * ", "UTC"));
        assert_ne!(cron("0 3 * * *", "UTC"), cron("0 3 * * *", "Europe/Berlin"));
        assert_ne!(cron("0 3 * * *", "UTC"), cron("0 4 * * *", "UTC"));
        let every = |secs, align| Schedule::Every {
            interval: Duration::from_secs(secs),
            align,
            offset: Duration::ZERO,
        };
        assert_eq!(every(10, true), every(10, true));
        assert_ne!(every(10, true), every(10, false));
        assert_ne!(every(60, false), cron("* * * * *", "UTC"));
    }

    /// A UTC time from RFC 3339.
    fn t(s: &str) -> SystemTime {
        humantime::parse_rfc3339(s).unwrap()
    }

    fn show(t: Option<SystemTime>) -> String {
        humantime::format_rfc3339_seconds(t.unwrap()).to_string()
    }

    #[test]
    fn intervals_plain_and_aligned() {
        let every = |secs, align, offset| Schedule::Every {
            interval: Duration::from_secs(secs),
            align,
            offset: Duration::from_secs(offset),
        };
        let plain = every(30, false, 7);
        assert_eq!(
            show(plain.next_run(t("2026-01-01T00:00:03Z"))),
            "2026-01-01T00:00:33Z"
        );
        assert_eq!(
            show(plain.first_run(t("2026-01-01T00:00:03Z"))),
            "2026-01-01T00:00:10Z"
        );
        // Every 10 s on :00, :10, :20 ...
        let aligned = every(10, true, 0);
        assert_eq!(
            show(aligned.next_run(t("2026-01-01T00:00:03Z"))),
            "2026-01-01T00:00:10Z"
        );
        assert_eq!(
            show(aligned.next_run(t("2026-01-01T00:00:10Z"))),
            "2026-01-01T00:00:20Z"
        );
        assert_eq!(
            show(aligned.first_run(t("2026-01-01T00:00:10Z"))),
            "2026-01-01T00:00:10Z"
        );
        let shifted = every(60, true, 15);
        assert_eq!(
            show(shifted.next_run(t("2026-01-01T00:00:03Z"))),
            "2026-01-01T00:00:15Z"
        );
        assert_eq!(
            show(shifted.next_run(t("2026-01-01T00:00:15Z"))),
            "2026-01-01T00:01:15Z"
        );
        assert_eq!(
            show(shifted.next_run(t("2026-01-01T00:00:59Z"))),
            "2026-01-01T00:01:15Z"
        );
    }

    /// The runs after `from`, as RFC 3339 UTC with fractions shown.
    fn runs(s: &Schedule, from: &str, n: usize) -> Vec<String> {
        let mut t = humantime::parse_rfc3339_weak(from).unwrap();
        (0..n)
            .map(|_| {
                t = s.next_run(t).unwrap();
                humantime::format_rfc3339_millis(t).to_string()
            })
            .collect()
    }

    /// Issue 17, defect 6: an expression whose hour field is a wildcard or step runs in
    /// both passes of the hour the clocks go back (Vixie cron, cronsim).
    #[test]
    fn cron_runs_in_both_passes_of_the_repeated_hour() {
        let berlin = Schedule::cron("*/10 * * * *", "Europe/Berlin").unwrap();
        // 2026-10-25: 03:00 CEST (01:00 UTC) becomes 02:00 CET.
        assert_eq!(
            runs(&berlin, "2026-10-25T00:30:00Z", 6),
            [
                "2026-10-25T00:40:00.000Z",
                "2026-10-25T00:50:00.000Z",
                "2026-10-25T01:00:00.000Z",
                "2026-10-25T01:10:00.000Z",
                "2026-10-25T01:20:00.000Z",
                "2026-10-25T01:30:00.000Z",
            ]
        );
        let ny = Schedule::cron("*/15 * * * *", "America/New_York").unwrap();
        // 2026-11-01: 02:00 EDT (06:00 UTC) becomes 01:00 EST.
        let got = runs(&ny, "2026-11-01T05:30:00Z", 6);
        assert_eq!(
            got,
            [
                "2026-11-01T05:45:00.000Z",
                "2026-11-01T06:00:00.000Z",
                "2026-11-01T06:15:00.000Z",
                "2026-11-01T06:30:00.000Z",
                "2026-11-01T06:45:00.000Z",
                "2026-11-01T07:00:00.000Z",
            ]
        );
    }

    /// Issue 17, defect 6: a fixed-time expression runs once on the autumn night, and at
    /// the first minute after the gap on the spring night.
    #[test]
    fn fixed_time_cron_runs_once_in_the_repeated_hour_and_after_the_gap() {
        let s = Schedule::cron("30 2 * * *", "Europe/Berlin").unwrap();
        // Autumn: 02:30 CEST (00:30 UTC) only, not 02:30 CET again.
        assert_eq!(
            runs(&s, "2026-10-24T12:00:00Z", 2),
            ["2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"]
        );
        // Spring: 02:30 does not exist; it runs at 03:00 CEST (01:00 UTC).
        assert_eq!(
            runs(&s, "2026-03-28T12:00:00Z", 2),
            ["2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"]
        );
    }

    /// Issue 17, defect 6: cron runs fire on whole seconds, whatever fraction of a second
    /// the previous run (or the start) had.
    #[test]
    fn cron_fires_on_whole_seconds() {
        let s = Schedule::cron("* * * * *", "UTC").unwrap();
        assert_eq!(
            runs(&s, "2026-01-01T00:00:00.999Z", 2),
            ["2026-01-01T00:01:00.000Z", "2026-01-01T00:02:00.000Z"]
        );
        let s = Schedule::cron("*/5 * * * *", "Europe/Berlin").unwrap();
        assert_eq!(
            runs(&s, "2026-01-01T00:04:59.999Z", 1),
            ["2026-01-01T00:05:00.000Z"]
        );
    }

    /// The first `n` runs from `from`, as RFC 3339 UTC seconds.
    fn first(expr: &str, from: &str, n: usize) -> Vec<String> {
        let s = Schedule::cron(expr, "UTC").unwrap();
        runs(&s, from, n)
            .into_iter()
            .map(|r| r.replace(".000Z", "Z"))
            .collect()
    }

    /// Quartz's `?` (no specific day) is `*` for the day-field rule as well: `LW` with
    /// `?` is the last weekday (it fired every day), `? * 1` is every Monday.
    #[test]
    fn cron_question_mark_reads_as_a_star() {
        assert_eq!(
            first("0 12 LW * ?", "2026-01-01T00:00:00Z", 2),
            first("0 12 LW * *", "2026-01-01T00:00:00Z", 2)
        );
        assert_eq!(
            first("0 12 LW * ?", "2026-01-01T00:00:00Z", 2),
            ["2026-01-30T12:00:00Z", "2026-02-27T12:00:00Z"]
        );
        assert_eq!(
            first("0 0 ? * 1", "2026-01-01T00:00:00Z", 2),
            ["2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z"]
        );
    }

    /// `LW` in a list (croner refused it), with a day of week (either), with a seconds
    /// field; Vixie's `@midnight`.
    #[test]
    fn cron_lw_anywhere_and_nicknames() {
        // January 2026: the last weekday is Friday the 30th.
        assert_eq!(
            first("0 0 LW,15 * *", "2026-01-01T00:00:00Z", 3),
            [
                "2026-01-15T00:00:00Z",
                "2026-01-30T00:00:00Z",
                "2026-02-15T00:00:00Z"
            ]
        );
        // Either the 1st, the last weekday or a Monday.
        assert_eq!(
            first("0 0 1,LW * 1", "2026-01-24T00:00:00Z", 4),
            [
                "2026-01-26T00:00:00Z",
                "2026-01-30T00:00:00Z",
                "2026-02-01T00:00:00Z",
                "2026-02-02T00:00:00Z"
            ]
        );
        // Days 1, 8, 15, 22, 29 or the last weekday, that are Fridays (`*`: both).
        assert_eq!(
            first("0 0 */7,LW * 5", "2026-01-01T00:00:00Z", 3),
            [
                "2026-01-30T00:00:00Z",
                "2026-02-27T00:00:00Z",
                "2026-05-01T00:00:00Z"
            ]
        );
        assert_eq!(
            first("30 0 12 LW * *", "2026-01-01T00:00:00Z", 2),
            ["2026-01-30T12:00:30Z", "2026-02-27T12:00:30Z"]
        );
        assert_eq!(
            first("@midnight", "2026-01-01T00:00:00Z", 2),
            first("@daily", "2026-01-01T00:00:00Z", 2)
        );
    }

    /// An expression no date matches is refused when the config is read (it was
    /// accepted, and the monitor never ran).
    #[test]
    fn cron_that_never_fires_is_an_error() {
        for expr in ["0 0 30 2 *", "0 0 30,31 2 *", "0 0 31 4,6 *", "0 0 * * L"] {
            let e = Schedule::cron(expr, "UTC").unwrap_err().to_string();
            assert!(e.contains("never fires"), "{expr}: {e}");
        }
        // February 29th is rare, not never; nor is the 31st or a fifth Monday in February.
        assert!(Schedule::cron("0 0 29 2 *", "UTC").is_ok());
        assert!(Schedule::cron("0 0 31 2 1#5", "UTC").is_ok());
    }

    /// What croner reads but cron does not (a year field, `+` before the day of week) is
    /// refused with what to write instead.
    #[test]
    fn cron_outside_the_dialect_is_an_error() {
        for (expr, says) in [
            ("0 0 1 1 * 2027", "the first is seconds"),
            ("0 0 0 1 1 * 2027", "5 fields"),
            ("0 0 * *", "5 fields"),
            ("0 0 1-7 * +1", "`+`"),
            ("@reboot", "@daily"),
            // Found by the fuzzer: an empty list item made croner search for ~30 s.
            (", 0 lw * *", "empty item"),
            ("*/1,, * * * *", "empty item"),
            ("0 0 1, * *", "empty item"),
        ] {
            let e = Schedule::cron(expr, "UTC").unwrap_err().to_string();
            assert!(e.starts_with("invalid cron expression"), "{expr}: {e}");
            assert!(e.contains(says), "{expr}: {e}");
        }
    }

    #[test]
    fn cron_in_a_time_zone_across_dst() {
        let nightly = Schedule::cron("0 3 * * *", "Europe/Berlin").unwrap();
        // 03:00 in Berlin is 02:00 UTC in winter (CET) and 01:00 UTC in summer (CEST).
        assert_eq!(
            show(nightly.next_run(t("2026-03-28T12:00:00Z"))),
            "2026-03-29T01:00:00Z"
        );
        assert_eq!(
            show(nightly.next_run(t("2026-03-27T12:00:00Z"))),
            "2026-03-28T02:00:00Z"
        );
        assert_eq!(
            show(nightly.next_run(t("2026-10-24T12:00:00Z"))),
            "2026-10-25T02:00:00Z"
        );
        // 02:30 does not exist on the spring-forward day and happens twice in autumn:
        // it fires at most once a day either way.
        let half_past_two = Schedule::cron("30 2 * * *", "Europe/Berlin").unwrap();
        let spring = half_past_two.next_run(t("2026-03-28T12:00:00Z")).unwrap();
        assert!(spring > t("2026-03-29T00:00:00Z"), "{}", show(Some(spring)));
        let first = half_past_two.next_run(t("2026-10-24T12:00:00Z")).unwrap();
        let second = half_past_two.next_run(first).unwrap();
        assert!(
            second.duration_since(first).unwrap() >= Duration::from_secs(22 * 3600),
            "{} then {}",
            show(Some(first)),
            show(Some(second))
        );
    }

    #[test]
    fn bad_cron_and_time_zone_are_errors() {
        let bad = Schedule::cron("61 * * * *", "UTC").unwrap_err();
        assert!(matches!(bad, CronError::Expression(_)), "{bad:?}");
        assert!(bad.to_string().starts_with("invalid cron expression"));
        let bad = Schedule::cron("0 3 * * *", "Mars/Olympus").unwrap_err();
        assert!(matches!(bad, CronError::TimeZone(_)), "{bad:?}");
        assert!(bad.to_string().contains("unknown time zone"));
    }

    #[test]
    fn jitter_is_stable_and_bounded() {
        let j = Duration::from_secs(10);
        assert_eq!(jitter_offset("api", j), jitter_offset("api", j));
        assert_ne!(jitter_offset("api", j), jitter_offset("db", j));
        assert!((0..1000).all(|i| jitter_offset(&format!("m{i}"), j) < j));
        assert_eq!(jitter_offset("api", Duration::ZERO), Duration::ZERO);
    }

    fn berlin(windows: Vec<Window>) -> Windows {
        Windows {
            tz: chrono_tz::Europe::Berlin,
            windows,
        }
    }

    fn days(text: &str, from: &str, to: &str) -> Window {
        Window::Days {
            days: parse_days(text).unwrap(),
            from: parse_time(from).unwrap(),
            to: parse_time(to).unwrap(),
        }
    }

    #[test]
    fn business_hours_in_a_time_zone() {
        // 2026-11-23 is a Monday; Berlin is UTC+1 in November.
        let w = berlin(vec![days("mon-fri", "08:00", "18:00")]);
        assert_eq!(w.open_since(t("2026-11-23T06:59:59Z")), None);
        assert_eq!(
            show(w.open_since(t("2026-11-23T07:00:00Z"))),
            "2026-11-23T07:00:00Z"
        );
        assert_eq!(
            show(w.open_since(t("2026-11-23T16:59:59Z"))),
            "2026-11-23T07:00:00Z"
        );
        assert_eq!(w.open_since(t("2026-11-23T17:00:00Z")), None);
        assert_eq!(w.open_since(t("2026-11-28T10:00:00Z")), None, "Saturday");
        assert_eq!(
            show(w.next_open(t("2026-11-27T12:00:00Z"))),
            "2026-11-30T07:00:00Z",
            "Friday noon: next Monday"
        );
        assert_eq!(
            show(w.next_open(t("2026-11-23T07:00:00Z"))),
            "2026-11-24T07:00:00Z"
        );
        // Summer time: 08:00 CEST is 06:00 UTC.
        assert_eq!(
            show(w.open_since(t("2026-07-01T06:30:00Z"))),
            "2026-07-01T06:00:00Z"
        );
    }

    #[test]
    fn windows_across_midnight_and_dst() {
        let night = berlin(vec![days("fri", "22:00", "06:00")]);
        // Friday 2026-11-27 22:00 CET = 21:00 UTC, until Saturday 06:00 CET = 05:00 UTC.
        assert_eq!(
            show(night.open_since(t("2026-11-28T04:00:00Z"))),
            "2026-11-27T21:00:00Z"
        );
        assert_eq!(night.open_since(t("2026-11-28T05:00:00Z")), None);
        assert_eq!(
            night.open_since(t("2026-11-27T04:00:00Z")),
            None,
            "Thursday night"
        );
        // 02:30 does not exist on 2026-03-29 in Berlin: the window opens at 03:00 CEST.
        let gap = berlin(vec![days("daily", "02:30", "04:00")]);
        assert_eq!(
            show(gap.next_open(t("2026-03-28T12:00:00Z"))),
            "2026-03-29T01:00:00Z"
        );
        // A whole day.
        let all = berlin(vec![days("sun", "00:00", "24:00")]);
        assert_eq!(
            show(all.open_since(t("2026-11-29T22:59:59Z"))),
            "2026-11-28T23:00:00Z"
        );
        assert_eq!(all.open_since(t("2026-11-29T23:00:00Z")), None);
    }

    /// A cron window in `tz` (as `plan` builds it) for `minutes`.
    fn cron_window(expr: &str, tz: &str, minutes: u64) -> Windows {
        Windows {
            tz: tz.parse().unwrap(),
            windows: vec![Window::Cron {
                schedule: Schedule::cron(expr, tz).unwrap(),
                duration: Duration::from_secs(minutes * 60),
            }],
        }
    }

    #[test]
    fn cron_windows_with_a_duration() {
        let w = cron_window("0 2 * * sun", "UTC", 120);
        // Sunday 2026-11-29.
        assert_eq!(w.open_since(t("2026-11-29T01:59:59Z")), None);
        assert_eq!(
            show(w.open_since(t("2026-11-29T02:00:00Z"))),
            "2026-11-29T02:00:00Z"
        );
        assert_eq!(
            show(w.open_since(t("2026-11-29T03:59:59Z"))),
            "2026-11-29T02:00:00Z"
        );
        assert_eq!(w.open_since(t("2026-11-29T04:00:00Z")), None);
        assert_eq!(
            show(w.next_open(t("2026-11-29T02:00:00Z"))),
            "2026-12-06T02:00:00Z"
        );
    }

    /// A cron window opens at the runs a monitor with that `cron` would have: on the
    /// spring night `30 2 * * *` opens at the first minute after the gap (not at the
    /// instant before it), in autumn once, at the first 02:30.
    #[test]
    fn cron_window_follows_the_dst_rule_of_fixed_times() {
        let w = cron_window("30 2 * * *", "Europe/Berlin", 60);
        // 2026-03-29: 02:00 CET (01:00 UTC) becomes 03:00 CEST.
        assert_eq!(
            show(w.next_open(t("2026-03-28T12:00:00Z"))),
            "2026-03-29T01:00:00Z"
        );
        assert_eq!(
            show(w.open_since(t("2026-03-29T01:10:00Z"))),
            "2026-03-29T01:00:00Z"
        );
        assert_eq!(w.open_since(t("2026-03-29T00:59:59Z")), None);
        // 2026-10-25: 02:30 CEST is 00:30 UTC; 02:30 CET (01:30 UTC) does not open it
        // again.
        assert_eq!(
            show(w.next_open(t("2026-10-24T12:00:00Z"))),
            "2026-10-25T00:30:00Z"
        );
        assert_eq!(
            show(w.next_open(t("2026-10-25T00:30:00Z"))),
            "2026-10-26T01:30:00Z"
        );
        assert_eq!(w.open_since(t("2026-10-25T01:40:00Z")), None);
    }

    /// A cron window whose hour is a wildcard opens in both passes of the repeated hour,
    /// and the next opening is never in the past.
    #[test]
    fn cron_window_opens_in_both_passes_of_the_repeated_hour() {
        let w = cron_window("*/30 * * * *", "Europe/Berlin", 10);
        // 00:00 and 00:30 UTC are 02:00 and 02:30 CEST; 01:00 and 01:30 UTC are 02:00
        // and 02:30 CET.
        for (at, since, next) in [
            (
                "2026-10-25T00:35:00Z",
                Some("2026-10-25T00:30:00Z"),
                "2026-10-25T01:00:00Z",
            ),
            ("2026-10-25T00:45:00Z", None, "2026-10-25T01:00:00Z"),
            (
                "2026-10-25T01:05:00Z",
                Some("2026-10-25T01:00:00Z"),
                "2026-10-25T01:30:00Z",
            ),
            (
                "2026-10-25T01:35:00Z",
                Some("2026-10-25T01:30:00Z"),
                "2026-10-25T02:00:00Z",
            ),
            ("2026-10-25T01:45:00Z", None, "2026-10-25T02:00:00Z"),
        ] {
            assert_eq!(
                w.open_since(t(at)).map(|s| show(Some(s))).as_deref(),
                since,
                "open_since {at}"
            );
            assert_eq!(show(w.next_open(t(at))), next, "next_open {at}");
        }
    }

    /// `LW` in a window means the last weekday of the month, as in a monitor's `cron`
    /// (it opened on every day from the 26th, or with a day of week on every day).
    #[test]
    fn cron_window_with_lw_opens_on_the_last_weekday_only() {
        // January 2026 ends on a Saturday: its last weekday is Friday the 30th.
        let w = cron_window("0 2 LW * *", "UTC", 60);
        assert_eq!(w.open_since(t("2026-01-26T02:30:00Z")), None);
        assert_eq!(
            show(w.next_open(t("2026-01-01T00:00:00Z"))),
            "2026-01-30T02:00:00Z"
        );
        assert_eq!(
            show(w.open_since(t("2026-01-30T02:59:59Z"))),
            "2026-01-30T02:00:00Z"
        );
        // Either the last weekday or a Monday (2026-01-05).
        let w = cron_window("0 2 LW * 1", "UTC", 60);
        assert_eq!(
            show(w.next_open(t("2026-01-01T00:00:00Z"))),
            "2026-01-05T02:00:00Z"
        );
        assert_eq!(w.open_since(t("2026-01-06T02:30:00Z")), None);
    }

    /// `previous_run` is the latest of `next_run`'s runs at or before an instant, also
    /// across both DST nights and on fractions of a second.
    #[test]
    fn previous_run_agrees_with_next_run() {
        for (expr, tz, from) in [
            ("*/10 * * * *", "Europe/Berlin", "2026-10-24T23:00:00Z"),
            ("30 2 * * *", "Europe/Berlin", "2026-03-27T00:00:00Z"),
            ("30 2 * * *", "Europe/Berlin", "2026-10-23T00:00:00Z"),
            ("30 * * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00Z"),
            ("0 0 29 2 *", "UTC", "2027-06-01T00:00:00Z"),
            ("0 9 * * 5L", "America/New_York", "2026-10-01T00:00:00Z"),
            // Found by the fuzzer: every second of some days (stepping took ~10 s).
            ("* * * 5 1 5", "UTC", "2026-01-01T00:00:00Z"),
            ("* * * 5 1 5", "UTC", "2026-01-04T23:59:50Z"),
        ] {
            let s = Schedule::cron(expr, tz).unwrap();
            let mut run = s.next_run(t(from)).unwrap();
            for _ in 0..8 {
                let next = s.next_run(run).unwrap();
                assert_eq!(s.previous_run(run), Some(run), "{expr} {tz}");
                for probe in [
                    next - Duration::from_millis(1),
                    next - Duration::from_secs(1),
                ] {
                    assert_eq!(s.previous_run(probe), Some(run), "{expr} {tz}");
                }
                run = next;
            }
        }
    }

    /// An aligned interval's previous run is its last slot, found at once: the fuzzer's
    /// 8 ns interval took billions of steps forward from a minute back. A plain interval
    /// has no fixed times.
    #[test]
    fn previous_run_of_intervals_is_direct() {
        for (interval, offset) in [(8u64, 3u64), (10_000_000, 0), (3_600_000_000_000, 5)] {
            let s = Schedule::Every {
                interval: Duration::from_nanos(interval),
                align: true,
                offset: Duration::from_nanos(offset),
            };
            let mut run = s.next_run(t("2026-01-05T10:00:00Z")).unwrap();
            for _ in 0..4 {
                let next = s.next_run(run).unwrap();
                assert_eq!(s.previous_run(run), Some(run));
                assert_eq!(s.previous_run(next - Duration::from_nanos(1)), Some(run));
                run = next;
            }
        }
        let plain = Schedule::Every {
            interval: Duration::from_secs(60),
            align: false,
            offset: Duration::ZERO,
        };
        assert_eq!(plain.previous_run(t("2026-01-05T10:00:00Z")), None);
    }

    #[test]
    fn day_and_time_syntax() {
        let on = |text: &str| {
            parse_days(text)
                .unwrap()
                .iter()
                .map(|d| if *d { 'x' } else { '.' })
                .collect::<String>()
        };
        assert_eq!(on("mon-fri"), "xxxxx..");
        assert_eq!(on("sat,sun"), ".....xx");
        assert_eq!(on("fri-mon"), "x...xxx");
        assert_eq!(on("Monday, wed"), "x.x....");
        assert_eq!(on("daily"), "xxxxxxx");
        assert!(parse_days("mon-fry").is_err());
        assert!(parse_days("").is_err());
        assert_eq!(parse_time("08:30").unwrap().to_string(), "08:30:00");
        assert!(parse_time("8h").is_err());
        assert!(parse_time("25:00").is_err());
    }
}
